"""Accounts through the real pages: register, verify, log in and out, reset and change the
password, profile, rate limits and CSRF.

Pages are requested in English (Accept-Language) so the assertions on messages hold whatever the
kk/ru catalogs say. The database is read in short app contexts of its own: the ``db`` fixture keeps
one app context open, and the client's requests would then share its ``g`` (and Flask-Login's
cached user) with each other."""

from __future__ import annotations

import html
import re

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from awards import create_app
from awards.audit import AuditEvent
from awards.auth.models import User
from awards.auth.services import make_verify_token
from awards.db import get_db
from awards.mail import OutgoingMail
from tests.conftest import PASSWORD, csrf_from, get_csrf, login, post_form
from tests.pages import field_errors, text_of

NEW_PASSWORD = "a-brand-new-passphrase"
BAD_CREDENTIALS = "The e-mail or password is incorrect."
FORM_EXPIRED = "The form expired. Please submit it again."


# ---- helpers --------------------------------------------------------------------------------


def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def client(app):
    return english(app.test_client())


@pytest.fixture
def other_client(app):
    """A second browser."""
    return english(app.test_client())


def flashes(response) -> list[tuple[str, str]]:
    return [(cat, html.unescape(msg)) for cat, msg in
            re.findall(r'<p class="flash flash-(\w+)">(.*?)</p>', text_of(response))]


def input_value(response, name: str) -> str | None:
    match = re.search(rf'<input [^>]*name="{name}"[^>]*>', text_of(response))
    assert match, f"no input named {name}"
    value = re.search(r'value="([^"]*)"', match.group(0))
    return html.unescape(value.group(1)) if value else None


def without_tokens(text: str) -> str:
    """The page minus what differs on every render (CSRF tokens carry a time stamp)."""
    return re.sub(r'name="csrf_token" type="hidden" value="[^"]+"', "csrf", text)


def is_logged_in(client) -> bool:
    status = client.get("/account/profile").status_code
    assert status in (200, 302)
    return status == 200


def read(app, query):
    with app.app_context():
        return query(get_db())


def user_row(app, email: str = "user@example.com") -> User | None:
    def _q(db):
        user = db.scalar(select(User).where(User.email == email))
        if user is not None:
            db.expunge(user)
        return user

    return read(app, _q)


def audit_events(app, action: str) -> list[AuditEvent]:
    def _q(db):
        events = list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)))
        db.expunge_all()
        return events

    return read(app, _q)


def link_in(mail: OutgoingMail) -> str:
    """The path of the one link in a message (links are built on BASE_URL http://localhost)."""
    links = re.findall(r"http://localhost(/\S+)", mail.body_text)
    assert len(links) == 1, mail.body_text
    return links[0]


def register(client, email="aigerim@example.com", **overrides):
    data = {"full_name": "Aigerim Sadykova", "email": email, "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD, "accept": "y", **overrides}
    return post_form(client, "/account/register", data)


def request_reset(client, email="user@example.com"):
    return post_form(client, "/account/password/forgot", {"email": email})


def set_new_password(client, path, password=NEW_PASSWORD, csrf_url=None):
    return post_form(client, path, {"password": password, "confirm": password}, csrf_url=csrf_url)


def login_attempt(client, email="user@example.com", password=PASSWORD, **kw):
    return post_form(client, "/account/login", {"email": email, "password": password},
                     csrf_url="/account/login", **kw)


# ---- registration and e-mail verification ---------------------------------------------------


def test_register_queues_one_verification_mail_with_link(client, outbox):
    response = register(client, email="Aigerim@Example.com")

    assert response.status_code == 200
    assert "We have sent a message to Aigerim@Example.com." in text_of(response)
    mails = outbox()
    assert [(m.to_address, m.kind) for m in mails] == [("aigerim@example.com", "verify_email")]
    assert link_in(mails[0]).startswith("/account/verify/")


def test_register_stores_argon2_hash_not_the_password(app, client):
    register(client)

    user = user_row(app, "aigerim@example.com")
    assert user.password_hash.startswith("$argon2id$")
    assert NEW_PASSWORD not in user.password_hash
    assert user.email_verified is False


def test_verify_link_marks_account_verified(app, client, outbox):
    register(client)

    response = client.get(link_in(outbox()[0]))

    assert response.status_code == 302
    assert response.headers["Location"] == "/account/login"
    assert flashes(client.get("/account/login")) == [
        ("success", "Your e-mail address is confirmed. You can now log in.")
    ]
    assert user_row(app, "aigerim@example.com").email_verified is True
    assert [e.object_id for e in audit_events(app, "user.verify_email")] == ["1"]


def _alter(path: str) -> str:
    # Change one character of the signature at the end of the token.
    return path[:-3] + ("A" if path[-3] != "A" else "B") + path[-2:]


@pytest.mark.parametrize("how", ["altered", "expired"])
def test_verify_link_refused_when_altered_or_expired(app, client, outbox, how):
    register(client)
    path = link_in(outbox()[0])
    if how == "altered":
        path = _alter(path)
    else:
        app.config["TOKEN_MAX_AGE_VERIFY"] = -1

    response = client.get(path)

    assert response.status_code == 303
    assert response.headers["Location"] == "/account/login"
    assert flashes(client.get("/account/login")) == [
        ("error", "This verification link is invalid or has expired. Log in to get a new one.")
    ]
    assert user_row(app, "aigerim@example.com").email_verified is False


def test_register_existing_email_shows_same_page_and_mails_owner(app, client, other_client,
                                                                  outbox):
    first = register(client, email="aigerim@example.com")
    again = register(other_client, email="Aigerim@example.com ", full_name="Someone Else",
                     password="another-passphrase", confirm="another-passphrase")

    assert again.status_code == first.status_code == 200
    assert without_tokens(text_of(again)).replace("Aigerim@example.com", "aigerim@example.com") == (
        without_tokens(text_of(first))
    )
    assert [(m.to_address, m.kind) for m in outbox()] == [
        ("aigerim@example.com", "verify_email"),
        ("aigerim@example.com", "account_exists"),
    ]
    assert "/account/password/forgot" in outbox()[1].body_text
    assert read(app, lambda db: db.scalar(select(func.count()).select_from(User))) == 1
    assert user_row(app, "aigerim@example.com").full_name == "Aigerim Sadykova"


@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        ({"password": "short-pw", "confirm": "short-pw"},
         {"password": "Use at least 10 characters."}),
        ({"password": "1234567890", "confirm": "1234567890"},
         {"password": "This password is too easy to guess."}),
        ({"confirm": "something-different"}, {"confirm": "Passwords do not match."}),
        ({"accept": ""}, {"accept": "Please accept to continue."}),
        ({"email": "not-an-email"}, {"email": "Invalid email address."}),
        ({"full_name": ""}, {"full_name": "This field is required."}),
    ],
    ids=["short-password", "digits-only", "mismatch", "no-consent", "bad-email", "no-name"],
)
def test_register_invalid_input_returns_400_and_keeps_typed_values(app, client, outbox,
                                                                   overrides, errors):
    response = register(client, **overrides)
    typed = {"full_name": "Aigerim Sadykova", "email": "aigerim@example.com", **overrides}

    assert response.status_code == 400
    assert field_errors(response) == errors
    assert input_value(response, "full_name") == typed["full_name"]
    assert input_value(response, "email") == typed["email"]
    assert input_value(response, "password") == ""
    assert input_value(response, "confirm") == ""
    assert outbox() == []
    assert read(app, lambda db: db.scalar(select(func.count()).select_from(User))) == 0


# ---- login and logout -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("next_url", "location"),
    [
        (None, "/"),
        ("/account/profile", "/account/profile"),
        ("/account/password?from=profile", "/account/password?from=profile"),
        ("//evil.com", "/"),
        ("https://evil.com", "/"),
        ("/\\evil.com", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_login_redirects_to_next_only_for_same_site_paths(client, make_user, next_url,
                                                          location):
    make_user()
    query = {"next": next_url} if next_url is not None else {}

    response = login_attempt(client, query_string=query)

    assert response.status_code == 302
    assert response.headers["Location"] == location
    assert is_logged_in(client) is True


@pytest.mark.parametrize("email", ["user@example.com", "nobody@example.com"],
                         ids=["wrong-password", "unknown-email"])
def test_login_failure_says_the_same_for_wrong_password_and_unknown_email(client, make_user,
                                                                          email):
    make_user()

    response = login_attempt(client, email=email, password="not-the-password")

    assert response.status_code == 401
    assert flashes(response) == [("error", BAD_CREDENTIALS)]
    assert field_errors(response) == {}
    assert input_value(response, "password") == ""
    assert is_logged_in(client) is False


def test_login_failure_pages_identical_for_wrong_password_and_unknown_email(client, make_user):
    make_user()
    wrong = login_attempt(client, email="user@example.com", password="not-the-password")
    unknown = login_attempt(client, email="nobody@example.com", password="not-the-password")

    assert without_tokens(text_of(unknown)).replace("nobody@", "user@") == (
        without_tokens(text_of(wrong))
    )


@pytest.mark.parametrize("email", ["USER@Example.com", "  user@example.com "])
def test_login_ignores_case_and_spaces_in_email(client, make_user, email):
    make_user()
    assert login_attempt(client, email=email).status_code == 302


def test_login_refused_for_deactivated_account(app, client, make_user):
    user = make_user()

    def _deactivate(db):
        db.get(User, user.id).active = False
        db.commit()

    read(app, _deactivate)

    response = login_attempt(client)
    assert response.status_code == 401
    assert flashes(response) == [("error", BAD_CREDENTIALS)]


def test_login_of_unverified_account_asks_to_confirm_email(client, make_user):
    make_user(verified=False)

    login_attempt(client)

    assert flashes(client.get("/")) == [
        ("warning", "Please confirm your e-mail address: follow the link we sent you.")
    ]


def test_login_starts_a_new_session(client, make_user):
    make_user()
    token = get_csrf(client, "/account/login")
    with client.session_transaction() as sess:
        sess["planted"] = "by-an-attacker"
        sess["lang"] = "en"
    before = client.get_cookie("session").value

    response = client.post("/account/login",
                           data={"csrf_token": token, "email": "user@example.com",
                                 "password": PASSWORD})

    assert response.status_code == 302
    after = client.get_cookie("session").value
    assert after != before
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess["lang"] == "en"  # the chosen language is kept
        assert sess["_user_id"].startswith("1:")


def test_logout_is_post_only(client, make_user):
    make_user()
    login(client, "user@example.com")

    assert client.get("/account/logout").status_code == 405
    assert is_logged_in(client) is True


@pytest.mark.parametrize("token", [None, "wrong-token"], ids=["missing", "wrong"])
def test_logout_without_valid_csrf_is_refused(client, make_user, token):
    make_user()
    login(client, "user@example.com")
    data = {"csrf_token": token} if token else {}

    response = client.post("/account/logout", data=data)

    assert response.status_code == 400
    assert is_logged_in(client) is True


def test_logout_ends_the_session(client, make_user):
    make_user()
    login(client, "user@example.com")

    response = post_form(client, "/account/logout", csrf_url="/")

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert flashes(client.get("/")) == [("success", "You have logged out.")]
    assert is_logged_in(client) is False


def test_logout_forgets_remember_me(client, make_user):
    make_user()
    post_form(client, "/account/login",
              {"email": "user@example.com", "password": PASSWORD, "remember": "y"})
    assert client.get_cookie("remember_token") is not None

    post_form(client, "/account/logout", csrf_url="/")

    assert client.get_cookie("remember_token") is None
    assert is_logged_in(client) is False


def test_remember_me_keeps_login_after_browser_restart(client, make_user):
    make_user()
    post_form(client, "/account/login",
              {"email": "user@example.com", "password": PASSWORD, "remember": "y"})

    client.delete_cookie("session")  # a session cookie dies with the browser

    assert is_logged_in(client) is True


# ---- rate limits ----------------------------------------------------------------------------


@pytest.fixture
def limited_client(app, app_config):
    """A client of an app with rate limits on (the shared ``app`` has them off).

    The limiter object is shared by the process and set up by whichever app was created last, so
    this app is created after ``app`` (the fixture depends on it); both use the same database."""
    limited = create_app({**app_config, "RATELIMIT_ENABLED": True})
    yield english(limited.test_client())
    limited.extensions["awards_db"]["engine"].dispose()


def _error_title(app, code_title: str, lang: str) -> str:
    with app.test_request_context(), force_locale(lang):
        return gettext(code_title)


def test_login_6th_failure_for_one_account_in_a_minute_gets_429_error_page(app, limited_client,
                                                                          make_user):
    make_user()
    with limited_client.session_transaction() as sess:
        sess["lang"] = "kk"
    token = get_csrf(limited_client, "/account/login")
    data = {"csrf_token": token, "email": "user@example.com", "password": "not-the-password"}

    statuses = [limited_client.post("/account/login", data=data).status_code for _ in range(6)]

    assert statuses == [401] * 5 + [429]
    # From the address that failed, even the right password waits (see tests/security/
    # test_login_throttle.py: other addresses are not concerned).
    response = limited_client.post("/account/login", data={**data, "password": PASSWORD})
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    text = text_of(response)
    assert '<html lang="kk">' in text
    assert '<p class="error-code">429</p>' in text
    assert f"<h1>{_error_title(app, 'Too many requests', 'kk')}</h1>" in text


def test_login_failures_from_other_addresses_do_not_lock_the_owner_out(limited_client,
                                                                       make_user):
    make_user()
    token = get_csrf(limited_client, "/account/login")
    data = {"csrf_token": token, "email": "user@example.com", "password": "not-the-password"}

    statuses = [
        limited_client.post("/account/login", data=data,
                            environ_base={"REMOTE_ADDR": f"10.0.0.{n}"}).status_code
        for n in range(11)
    ]

    assert statuses == [401] * 11
    response = limited_client.post("/account/login", data={**data, "password": PASSWORD},
                                   environ_base={"REMOTE_ADDR": "10.0.1.1"})
    assert response.status_code == 302


def test_login_page_itself_is_not_limited(limited_client):
    statuses = {limited_client.get("/account/login").status_code for _ in range(15)}
    assert statuses == {200}


def test_forgot_password_6th_request_in_a_minute_gets_429(limited_client, outbox):
    token = get_csrf(limited_client, "/account/password/forgot")

    statuses = [
        limited_client.post("/account/password/forgot",
                            data={"csrf_token": token, "email": f"n{n}@example.com"}).status_code
        for n in range(6)
    ]

    assert statuses == [200] * 5 + [429]
    assert '<p class="error-code">429</p>' in text_of(
        limited_client.post("/account/password/forgot",
                            data={"csrf_token": token, "email": "x@example.com"})
    )


# ---- password reset -------------------------------------------------------------------------


def test_forgot_password_same_page_for_known_and_unknown_email(client, make_user, outbox):
    make_user()

    known = request_reset(client, "user@example.com")
    unknown = request_reset(client, "nobody@example.com")

    assert known.status_code == unknown.status_code == 200
    assert without_tokens(text_of(unknown)).replace("nobody@", "user@") == (
        without_tokens(text_of(known))
    )
    assert "If an account exists for user@example.com" in text_of(known)
    assert [(m.to_address, m.kind) for m in outbox()] == [("user@example.com", "reset_password")]


def test_reset_link_sets_new_password_once(app, client, make_user, outbox):
    make_user()
    request_reset(client)
    path = link_in(outbox()[0])
    assert path.startswith("/account/password/reset/")
    assert client.get(path).status_code == 200

    response = set_new_password(client, path)

    assert response.status_code == 302
    assert response.headers["Location"] == "/account/login"
    assert flashes(client.get("/account/login")) == [
        ("success", "Your password has been changed. You can now log in.")
    ]
    assert login_attempt(client, password=PASSWORD).status_code == 401
    assert login_attempt(client, password=NEW_PASSWORD).status_code == 302
    assert [e.object_id for e in audit_events(app, "user.reset_password")] == ["1"]

    second = english(app.test_client()).get(path)
    assert second.status_code == 303
    assert second.headers["Location"] == "/account/password/forgot"


@pytest.mark.parametrize("how", ["used", "expired", "altered"])
def test_reset_link_refused_when_used_expired_or_altered(app, client, make_user, outbox, how):
    make_user()
    request_reset(client)
    path = link_in(outbox()[0])
    if how == "used":
        set_new_password(client, path)
    elif how == "expired":
        app.config["TOKEN_MAX_AGE_RESET"] = -1
    else:
        path = _alter(path)

    response = set_new_password(client, path, password="yet-another-passphrase",
                                csrf_url="/account/password/forgot")

    assert response.status_code == 303
    assert response.headers["Location"] == "/account/password/forgot"
    assert flashes(client.get("/account/password/forgot")) == [
        ("error", "This password reset link is invalid, expired or already used. "
                  "Ask for a new one.")
    ]
    assert login_attempt(client, password="yet-another-passphrase").status_code == 401


def test_tokens_of_one_kind_refused_for_the_other(app, client, make_user, outbox):
    make_user(verified=False)
    request_reset(client)
    reset_token = link_in(outbox()[0]).rsplit("/", 1)[1]
    with app.test_request_context():
        verify_token = make_verify_token(user_row(app))

    as_verify = client.get(f"/account/verify/{reset_token}")
    as_reset = client.get(f"/account/password/reset/{verify_token}")

    assert (as_verify.status_code, as_verify.headers["Location"]) == (303, "/account/login")
    assert (as_reset.status_code, as_reset.headers["Location"]) == (
        303, "/account/password/forgot"
    )
    assert user_row(app).email_verified is False

def test_reset_logs_out_other_sessions(client, other_client, make_user, outbox):
    make_user()
    login(other_client, "user@example.com")
    request_reset(client)

    set_new_password(client, link_in(outbox()[0]))

    assert is_logged_in(other_client) is False


def test_reset_queues_password_changed_mail(client, make_user, outbox):
    make_user()
    request_reset(client)

    set_new_password(client, link_in(outbox()[0]))

    assert [(m.to_address, m.kind) for m in outbox()] == [
        ("user@example.com", "reset_password"),
        ("user@example.com", "password_changed"),
    ]
    assert "/account/password/forgot" in outbox()[1].body_text


def test_reset_confirms_unverified_email(app, client, make_user, outbox):
    make_user(verified=False)
    request_reset(client)

    set_new_password(client, link_in(outbox()[0]))

    assert user_row(app).email_verified is True


def test_reset_new_password_validated(client, make_user, outbox):
    make_user()
    request_reset(client)
    path = link_in(outbox()[0])

    response = post_form(client, path, {"password": NEW_PASSWORD, "confirm": "different-one"})

    assert response.status_code == 400
    assert field_errors(response) == {"confirm": "Passwords do not match."}
    assert login_attempt(client, password=PASSWORD).status_code == 302


# ---- change password ------------------------------------------------------------------------


def change_password(client, current=PASSWORD, new=NEW_PASSWORD, confirm=None):
    return post_form(client, "/account/password",
                     {"current": current, "password": new, "confirm": confirm or new})


def test_change_password_wrong_current_is_400_on_that_field(app, client, make_user, outbox):
    make_user()
    login(client, "user@example.com")
    before = user_row(app).password_hash

    response = change_password(client, current="not-the-password")

    assert response.status_code == 400
    assert field_errors(response) == {"current": "The current password is incorrect."}
    assert user_row(app).password_hash == before
    assert outbox() == []


def test_change_password_keeps_this_session_and_ends_others(client, other_client, make_user):
    make_user()
    login(client, "user@example.com")
    login(other_client, "user@example.com")

    response = change_password(client)

    assert response.status_code == 302
    assert response.headers["Location"] == "/account/profile"
    assert flashes(client.get("/account/profile")) == [
        ("success", "Your password has been changed.")
    ]
    assert is_logged_in(client) is True
    assert is_logged_in(other_client) is False


def test_change_password_replaces_old_password(app, client, make_user, outbox):
    make_user()
    login(client, "user@example.com")

    change_password(client)

    fresh = english(app.test_client())
    assert login_attempt(fresh, password=PASSWORD).status_code == 401
    assert login_attempt(fresh, password=NEW_PASSWORD).status_code == 302
    assert user_row(app).password_hash.startswith("$argon2id$")
    assert [(m.to_address, m.kind) for m in outbox()] == [("user@example.com", "password_changed")]
    assert [e.action for e in audit_events(app, "user.change_password")] == [
        "user.change_password"
    ]


def test_change_password_ends_remembered_logins_elsewhere(client, other_client, make_user):
    make_user()
    login(client, "user@example.com")
    post_form(other_client, "/account/login",
              {"email": "user@example.com", "password": PASSWORD, "remember": "y"})

    change_password(client)
    other_client.delete_cookie("session")

    assert is_logged_in(other_client) is False


def test_change_password_renews_remember_me_on_this_device(client, make_user):
    make_user()
    post_form(client, "/account/login",
              {"email": "user@example.com", "password": PASSWORD, "remember": "y"})
    old_cookie = client.get_cookie("remember_token").value

    change_password(client)
    client.delete_cookie("session")

    assert client.get_cookie("remember_token").value != old_cookie
    assert is_logged_in(client) is True


def test_change_password_requires_login(client):
    response = client.get("/account/password")
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/login?next=%2Faccount%2Fpassword"


# ---- profile --------------------------------------------------------------------------------


def test_profile_requires_login_and_returns_there_after(client, make_user):
    make_user()

    response = client.get("/account/profile")

    assert response.status_code == 302
    assert response.headers["Location"] == "/account/login?next=%2Faccount%2Fprofile"
    assert flashes(client.get(response.headers["Location"])) == [
        ("warning", "Please log in to open this page.")
    ]
    back = login_attempt(client, query_string={"next": "/account/profile"})
    assert back.headers["Location"] == "/account/profile"


def test_profile_edit_saves_audits_and_switches_language(app, client, make_user):
    make_user(name="Test User", language="en")
    login(client, "user@example.com")

    response = post_form(client, "/account/profile", {
        "full_name": "  Aigerim Sadykova ", "organisation": "KazNU", "phone": "+7 701 000 00 00",
        "preferred_language": "kk",
    })

    assert response.status_code == 302
    assert response.headers["Location"] == "/account/profile"
    user = user_row(app)
    assert (user.full_name, user.organisation, user.phone, user.preferred_language) == (
        "Aigerim Sadykova", "KazNU", "+7 701 000 00 00", "kk"
    )
    [event] = audit_events(app, "user.update_profile")
    assert event.actor_id == user.id
    assert event.before_data() == {"full_name": "Test User", "organisation": "", "phone": "",
                                   "preferred_language": "en"}
    assert event.after_data() == {"full_name": "Aigerim Sadykova", "organisation": "KazNU",
                                  "phone": "+7 701 000 00 00", "preferred_language": "kk"}
    shown = client.get("/account/profile")
    assert '<html lang="kk">' in text_of(shown)
    assert input_value(shown, "full_name") == "Aigerim Sadykova"


def test_profile_unchanged_save_is_not_audited(app, client, make_user):
    make_user(name="Test User", language="en")
    login(client, "user@example.com")

    post_form(client, "/account/profile", {"full_name": "Test User", "organisation": "",
                                           "phone": "", "preferred_language": "en"})

    assert audit_events(app, "user.update_profile") == []


@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        ({"full_name": ""}, {"full_name": "This field is required."}),
        ({"preferred_language": "de"}, {"preferred_language": "Not a valid choice."}),
        ({"phone": "1" * 41}, {"phone": "Field cannot be longer than 40 characters."}),
    ],
    ids=["no-name", "unknown-language", "long-phone"],
)
def test_profile_invalid_input_is_400_and_not_saved(app, client, make_user, overrides, errors):
    make_user(name="Test User")
    login(client, "user@example.com")
    data = {"full_name": "Changed", "organisation": "", "phone": "", "preferred_language": "ru",
            **overrides}

    response = post_form(client, "/account/profile", data)

    assert response.status_code == 400
    assert field_errors(response) == errors
    assert user_row(app).full_name == "Test User"


def test_profile_shows_registration_time_in_almaty(app, client, make_user):
    from datetime import UTC, datetime

    user = make_user()

    def _backdate(db):
        db.get(User, user.id).created_at = datetime(2020, 1, 1, 20, 30, tzinfo=UTC)
        db.commit()

    read(app, _backdate)
    login(client, "user@example.com")

    # 20:30 UTC on 1 January is 02:30 the next day in Almaty (UTC+6 in 2020).
    assert "<strong>Registered:</strong> 2 January 2020, 02:30</p>" in text_of(
        client.get("/account/profile")
    )


def test_resend_verification_queues_a_new_link(app, client, make_user, outbox):
    make_user(verified=False)
    login(client, "user@example.com")

    response = post_form(client, "/account/verify/resend", csrf_url="/account/profile")

    assert response.headers["Location"] == "/account/profile"
    assert flashes(client.get("/account/profile")) == [
        ("success", "We have sent a new confirmation link to your e-mail.")
    ]
    assert [m.kind for m in outbox()] == ["verify_email"]
    followed = client.get(link_in(outbox()[0]))
    assert followed.headers["Location"] == "/"
    assert flashes(client.get("/")) == [("success", "Your e-mail address is confirmed.")]
    assert user_row(app).email_verified is True


def test_resend_verification_for_verified_account_sends_nothing(client, make_user, outbox):
    make_user(verified=True)
    login(client, "user@example.com")

    post_form(client, "/account/verify/resend", csrf_url="/account/profile")

    assert outbox() == []


# ---- CSRF -----------------------------------------------------------------------------------

CSRF_FORMS = {
    "register": ("/account/register", False, {
        "full_name": "Mallory", "email": "mallory@example.com", "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD, "accept": "y"}),
    "login": ("/account/login", False, {"email": "user@example.com", "password": PASSWORD}),
    "forgot-password": ("/account/password/forgot", False, {"email": "user@example.com"}),
    "profile": ("/account/profile", True, {
        "full_name": "Mallory", "organisation": "", "phone": "", "preferred_language": "kk"}),
    "change-password": ("/account/password", True, {
        "current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}),
}


def _everything(app):
    def _q(db):
        users = db.execute(select(User.id, User.email, User.full_name, User.password_hash,
                                  User.preferred_language, User.session_token)).all()
        mails = db.scalar(select(func.count()).select_from(OutgoingMail))
        events = db.scalar(select(func.count()).select_from(AuditEvent))
        return users, mails, events

    return read(app, _q)


@pytest.mark.parametrize("token", [None, "wrong-token"], ids=["missing", "wrong"])
@pytest.mark.parametrize("form", list(CSRF_FORMS))
def test_form_without_valid_csrf_is_refused_and_saves_nothing(app, client, make_user, form,
                                                              token):
    url, needs_login, data = CSRF_FORMS[form]
    make_user()
    if needs_login:
        login(client, "user@example.com")
    client.get(url)  # the form was opened, so the session has a CSRF secret to check against
    before = _everything(app)

    response = client.post(url, data={**data, **({"csrf_token": token} if token else {})})

    assert response.status_code == 400
    assert FORM_EXPIRED in text_of(response)
    assert _everything(app) == before
    assert is_logged_in(client) is needs_login


def test_csrf_token_from_another_session_is_refused(app, client, other_client, make_user):
    make_user()
    stolen = get_csrf(other_client, "/account/login")
    client.get("/account/login")

    response = client.post("/account/login", data={"csrf_token": stolen,
                                                    "email": "user@example.com",
                                                    "password": PASSWORD})

    assert response.status_code == 400
    assert is_logged_in(client) is False


def test_expired_csrf_token_is_refused(app, client, make_user):
    make_user()
    app.config["WTF_CSRF_TIME_LIMIT"] = -1
    token = csrf_from(text_of(client.get("/account/login")))

    response = client.post("/account/login", data={"csrf_token": token,
                                                   "email": "user@example.com",
                                                   "password": PASSWORD})

    assert response.status_code == 400
    assert FORM_EXPIRED in text_of(response)



def test_login_after_registration_returns_to_the_page_the_newcomer_came_from(client, outbox):
    target = "/calls/"
    register_page = client.get(f"/account/register?next={target}")
    assert register_page.status_code == 200
    response = post_form(client, f"/account/register?next={target}", {
        "full_name": "Newcomer", "email": "newcomer@example.com", "password": "a-long-password",
        "confirm": "a-long-password", "accept": "y",
    })
    assert response.status_code == 200
    body = outbox("newcomer@example.com")[0].body_text
    link = re.search(r"http://localhost(/account/verify/\S+)", body)
    assert client.get(link.group(1)).status_code == 302
    response = post_form(client, "/account/login",
                         {"email": "newcomer@example.com", "password": "a-long-password"})
    assert response.status_code == 302
    assert response.headers["Location"] == target


def test_login_page_register_link_keeps_next(client):
    html = client.get("/account/login?next=/calls/").get_data(as_text=True)
    assert 'href="/account/register?next=/calls/"' in html
