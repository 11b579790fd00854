"""Sessions that really end: logout, "log out of all other devices", a password change and an
administrator's lock end every copy of the session cookie and every "remember me" cookie at
once; a new password also revokes the account's API tokens."""

from __future__ import annotations

import html
import json
import re

from sqlalchemy import select

from awards.api.models import ApiToken
from awards.audit import AuditEvent
from awards.auth.models import User
from tests.api_factories import bearer, make_token
from tests.conftest import PASSWORD, csrf_from, get_csrf, login, post_form
from tests.factories import arrange, read

NEW_PASSWORD = "a-new-long-password"


def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def cookie(client, name: str) -> str | None:
    found = client.get_cookie(name)
    return found.value if found is not None else None


def thief_with(app, **cookies):
    thief = english(app.test_client())
    for name, value in cookies.items():
        thief.set_cookie(name, value)
    return thief


def lands_on_login(client) -> bool:
    response = client.get("/account/profile")
    if response.status_code == 200:
        return False
    assert response.status_code == 302
    return response.headers["Location"].startswith("/account/login")


def flashes(response) -> list[tuple[str, str]]:
    return [(cat, html.unescape(msg)) for cat, msg in re.findall(
        r'<p class="flash flash-(\w+)">(.*?)</p>', response.get_data(as_text=True))]


def remember_login(client, email="user@example.com"):
    response = post_form(client, "/account/login",
                         {"email": email, "password": PASSWORD, "remember": "y"})
    assert response.status_code == 302
    return cookie(client, "session"), cookie(client, "remember_token")


def actions(app) -> list[str]:
    return read(app, lambda s: list(s.scalars(select(AuditEvent.action).order_by(AuditEvent.id))))


# ---- logout ---------------------------------------------------------------------------------


def test_copied_session_cookie_is_worthless_after_logout(app, client, make_user):
    make_user()
    login(client, "user@example.com")
    copied = cookie(client, "session")
    thief = thief_with(app, session=copied)
    assert thief.get("/account/profile").status_code == 200

    assert post_form(client, "/account/logout", csrf_url="/").status_code == 302

    assert lands_on_login(thief)
    assert lands_on_login(client)


def test_copied_remember_cookie_is_worthless_after_logout(app, client, make_user):
    make_user()
    _session, remember = remember_login(client)
    assert remember is not None
    thief = thief_with(app, remember_token=remember)
    assert thief.get("/account/profile").status_code == 200

    post_form(client, "/account/logout", csrf_url="/")

    fresh_thief = thief_with(app, remember_token=remember)
    assert lands_on_login(fresh_thief)
    # The thief's own session, opened from the cookie before the logout, ends too.
    assert lands_on_login(thief)


def test_logout_ends_the_sessions_of_other_browsers_too(app, client, make_user):
    make_user()
    login(client, "user@example.com")
    laptop = english(app.test_client())
    login(laptop, "user@example.com")

    post_form(client, "/account/logout", csrf_url="/")

    assert lands_on_login(laptop)


def test_login_after_logout_works_again(client, make_user):
    make_user()
    login(client, "user@example.com")
    post_form(client, "/account/logout", csrf_url="/")

    login(client, "user@example.com")

    assert client.get("/account/profile").status_code == 200


# ---- log out of all other devices -----------------------------------------------------------


def test_profile_offers_log_out_of_all_other_devices(client, make_user):
    make_user()
    login(client, "user@example.com")

    page = client.get("/account/profile").get_data(as_text=True)

    assert 'action="/account/sessions/end"' in page
    assert "Log out of all other devices" in page
    assert "changing your password, which also revokes your API tokens" in page


def test_log_out_of_all_other_devices_ends_them_and_keeps_this_one(app, client, make_user):
    make_user()
    phone_session, phone_remember = remember_login(client)
    laptop = english(app.test_client())
    laptop_session, laptop_remember = remember_login(laptop)

    response = post_form(laptop, "/account/sessions/end", csrf_url="/account/profile")

    assert response.status_code == 303
    assert response.headers["Location"] == "/account/profile"
    page = laptop.get("/account/profile")
    assert page.status_code == 200
    assert flashes(page) == [
        ("success", "You are logged out on every other device. You stay logged in here.")]
    assert lands_on_login(client)
    assert lands_on_login(thief_with(app, session=phone_session))
    assert lands_on_login(thief_with(app, remember_token=phone_remember))
    assert lands_on_login(thief_with(app, session=laptop_session))
    assert lands_on_login(thief_with(app, remember_token=laptop_remember))
    # This browser's own "remember me" was renewed with the new token.
    laptop.delete_cookie("session")
    assert laptop.get("/account/profile").status_code == 200
    assert actions(app).count("user.end_sessions") == 1


def test_log_out_of_all_other_devices_needs_csrf_and_post(app, client, make_user):
    make_user()
    login(client, "user@example.com")
    other = english(app.test_client())
    login(other, "user@example.com")

    assert client.post("/account/sessions/end", data={}).status_code == 400
    assert client.post("/account/sessions/end",
                       data={"csrf_token": "forged"}).status_code == 400
    assert client.get("/account/sessions/end").status_code == 405

    assert other.get("/account/profile").status_code == 200
    assert "user.end_sessions" not in actions(app)


def test_log_out_of_all_other_devices_asks_a_visitor_to_log_in(client):
    response = client.post("/account/sessions/end",
                           data={"csrf_token": get_csrf(client, "/account/login")})

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/login")


# ---- password change ------------------------------------------------------------------------


def change_password(client):
    return post_form(client, "/account/password",
                     {"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})


def test_password_change_ends_remember_cookies_and_revokes_api_tokens(app, client, make_user):
    user = make_user()
    secrets = arrange(app, lambda s: [make_token(s, s.get(User, user.id), name=n)
                                      for n in ("laptop", "ci")])
    laptop = english(app.test_client())
    _session, remember = remember_login(laptop)
    login(client, "user@example.com")
    for secret in secrets:
        assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200

    response = change_password(client)

    assert response.status_code == 302
    assert flashes(client.get("/account/profile")) == [
        ("success", "Your password has been changed."),
        ("warning", "2 API tokens were revoked with the old password: programs using them "
                    "need new ones."),
    ]
    for secret in secrets:
        refused = client.get("/api/v1/me", headers=bearer(secret))
        assert refused.status_code == 401
        assert refused.get_json()["type"] == "/api/v1/problems/invalid-token"
    assert lands_on_login(laptop)
    assert lands_on_login(thief_with(app, remember_token=remember))
    assert client.get("/account/profile").status_code == 200
    assert actions(app).count("api_token.revoke") == 2
    page = client.get("/account/profile").get_data(as_text=True)
    assert page.count('<span class="badge">revoked</span>') == 2


def test_password_page_says_what_a_new_password_ends(client, make_user):
    make_user()
    login(client, "user@example.com")

    page = client.get("/account/password").get_data(as_text=True)

    assert ("A new password logs you out on every other device and revokes your API tokens: "
            "programs using them will need new ones.") in page


def test_password_reset_revokes_api_tokens(app, client, make_user, outbox):
    user = make_user()
    secret = arrange(app, lambda s: make_token(s, s.get(User, user.id)))
    post_form(client, "/account/password/forgot", {"email": "user@example.com"})
    path = re.search(r"http://localhost(/\S+)", outbox()[0].body_text).group(1)

    response = post_form(client, path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})

    assert response.status_code == 302
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401
    assert read(app, lambda s: s.scalar(select(ApiToken.revoked_at))) is not None


def test_tokens_created_after_the_password_change_work(app, client, make_user):
    make_user()
    login(client, "user@example.com")
    change_password(client)

    page = client.get("/account/profile").get_data(as_text=True)
    created = client.post("/account/api-tokens/", data={
        "csrf_token": csrf_from(page), "name": "new laptop", "expires_in": "30"})
    secret = re.search(r'id="token-secret">(awd_[A-Za-z0-9_-]+)<',
                       created.get_data(as_text=True)).group(1)

    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200


# ---- an administrator locks the account -----------------------------------------------------


def test_locking_an_account_ends_sessions_remember_cookies_and_tokens(app, client, make_user):
    user = make_user()
    secret = arrange(app, lambda s: make_token(s, s.get(User, user.id)))
    _session, remember = remember_login(client)

    result = app.test_cli_runner().invoke(args=["awards", "users", "lock", "USER@example.com"])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "locked"
    assert lands_on_login(client)
    assert lands_on_login(thief_with(app, remember_token=remember))
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401
    response = post_form(client, "/account/login",
                         {"email": "user@example.com", "password": PASSWORD})
    assert response.status_code == 401
    events = read(app, lambda s: [(e.action, json.loads(e.before), json.loads(e.after))
                                  for e in s.scalars(select(AuditEvent).where(
                                      AuditEvent.action.like("user.%lock")))])
    assert events == [("user.lock", {"active": True}, {"active": False})]

    result = app.test_cli_runner().invoke(args=["awards", "users", "unlock", "user@example.com"])

    assert result.output.strip() == "unlocked"
    assert lands_on_login(thief_with(app, remember_token=remember))
    login(client, "user@example.com")
    assert client.get("/account/profile").status_code == 200


def test_locking_an_unknown_account_is_a_clear_error(app):
    result = app.test_cli_runner().invoke(args=["awards", "users", "lock", "nobody@example.com"])

    assert result.exit_code == 2
    assert "no account has this e-mail address" in result.output
