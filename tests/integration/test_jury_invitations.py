"""Inviting jurors by e-mail and the invitation link: new account, existing account, the wrong
account, forged and used links, sending again."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import select

from awards.auth.models import User
from awards.enums import JurorStatus
from awards.jury.models import JuryMember
from awards.mail import OutgoingMail
from tests.conftest import login
from tests.factories import arrange, read
from tests.integration.test_jury_setup import (  # noqa: F401  (english_client is the client fixture)
    account,
    as_admin,
    audit_actions,
    audit_events,
    english_client,
    field_errors,
    flashes,
    follow,
    make_world,
    post,
    text_of,
)

LINK_RE = re.compile(r"http://localhost(/admin/jury/invitations/([A-Za-z0-9_-]+))")


def invite(client, w, email="New.Juror@Example.com ", **extra):
    url = f"/admin/jury/panels/{w.panel_id}"
    return post(client, f"{url}/invite", {"email": email, **extra}, csrf_url=url)


def last_mail(app) -> OutgoingMail:
    return read(app, lambda s: s.scalar(select(OutgoingMail).order_by(OutgoingMail.id.desc())))


def link_of(app) -> tuple[str, str]:
    path, token = LINK_RE.search(last_mail(app).body_text).groups()
    return path, token


def member_row(app, email="new.juror@example.com") -> JuryMember:
    def _q(s):
        m = s.scalar(select(JuryMember).where(JuryMember.email == email))
        data = (m.status, m.user_id, m.is_chair, sorted(c.code for c in m.categories),
                m.invite_token_hash, m.accepted_at is not None)
        return data
    return read(app, _q)


@pytest.fixture
def world(app):
    return make_world(app, entries=1, jurors=0)


def test_invite_mails_a_link_and_stores_only_its_hash(app, client, world):
    as_admin(client)
    response = invite(client, world, is_chair="y",
                      categories=[str(world.categories["ecology"])])
    page = follow(client, response)
    assert flashes(page) == [("success", "The invitation is sent to new.juror@example.com.")]
    mail = last_mail(app)
    assert (mail.to_address, mail.kind, mail.language, mail.subject) == (
        "new.juror@example.com", "jury_invitation", "en",
        "Invitation to the jury of “Volunteer of the Year 2026”")
    assert "You are asked to chair the panel." in mail.body_text
    _path, token = link_of(app)
    status, user_id, chair, cats, token_hash, accepted = member_row(app)
    assert (status, user_id, chair, cats, accepted) == (
        JurorStatus.INVITED, None, True, ["ecology"], False)
    assert token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(read(app, lambda s: [
        (m.email, m.invite_token_hash) for m in s.scalars(select(JuryMember))]))
    [(_before, after)] = audit_events(app, "jury.member_invite")
    assert (after["email"], after["is_chair"], after["status"]) == (
        "new.juror@example.com", True, "invited")
    assert "new.juror@example.com" in text_of(page)


def test_invite_in_the_existing_accounts_language(app, client, world):
    arrange(app, lambda s: account(s, "kazakh@example.com", name="Асқар", language="kk"))
    as_admin(client)
    invite(client, world, email="kazakh@example.com")
    assert last_mail(app).language == "kk"


@pytest.mark.parametrize("email, errors", [
    ("new.juror@example.com", {"email": "This address is already invited to the panel."}),
    ("not-an-address", {"email": "Invalid email address."}),
])
def test_invite_invalid(app, client, world, email, errors):
    as_admin(client)
    invite(client, world)
    response = invite(client, world, email=email)
    assert response.status_code == 400
    assert field_errors(response) == errors
    assert read(app, lambda s: len(list(s.scalars(select(JuryMember))))) == 1


def test_invitation_new_account_registers_verified_and_accepts(app, client, world):
    as_admin(client)
    invite(client, world)
    path, _token = link_of(app)
    stranger = app.test_client()
    stranger.environ_base["HTTP_ACCEPT_LANGUAGE"] = "ru"
    page = stranger.get(path)
    assert page.status_code == 200
    assert 'name="full_name"' in text_of(page)
    response = post(stranger, path, {"full_name": "Айгуль Серикова", "password": "a-long-pass-42",
                                     "confirm": "a-long-pass-42", "accept": "y"}, csrf_url=path)
    assert response.status_code == 302
    assert response.headers["Location"] == "/jury/"
    user = read(app, lambda s: s.scalar(select(User).where(User.email == "new.juror@example.com")))
    assert (user.full_name, user.email_verified, user.preferred_language) == (
        "Айгуль Серикова", True, "ru")
    status, user_id, *_rest, accepted = member_row(app)
    assert (status, user_id, accepted) == (JurorStatus.ACTIVE, user.id, True)
    assert audit_actions(app, "") [-2:] == ["user.register", "jury.member_accept"]
    # Logged in: the profile opens, and no verification e-mail was sent.
    assert stranger.get("/account/profile").status_code == 200
    assert read(app, lambda s: list(s.scalars(select(OutgoingMail.kind)))) == ["jury_invitation"]


@pytest.mark.parametrize("data, errors", [
    ({"confirm": "something-else-1"}, {"confirm": "Passwords do not match."}),
    ({"password": "short", "confirm": "short"}, {"password": "Use at least 10 characters."}),
    ({"full_name": ""}, {"full_name": "This field is required."}),
])
def test_invitation_registration_invalid(app, client, world, data, errors):
    as_admin(client)
    invite(client, world)
    path, _token = link_of(app)
    stranger = app.test_client()
    stranger.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    form = {"full_name": "New Juror", "password": "a-long-pass-42", "confirm": "a-long-pass-42",
            "accept": "y", **data}
    response = post(stranger, path, form, csrf_url=path)
    assert response.status_code == 400
    assert field_errors(response) == errors
    assert member_row(app)[0] == JurorStatus.INVITED
    assert read(app, lambda s: s.scalar(select(User).where(
        User.email == "new.juror@example.com"))) is None


def test_invitation_existing_account_logged_in_accepts(app, client, world):
    juror_id = arrange(app, lambda s: account(s, "new.juror@example.com", name="Known").id)
    as_admin(client)
    invite(client, world)
    path, _token = link_of(app)
    juror = app.test_client()
    juror.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(juror, "new.juror@example.com")
    page = juror.get(path)
    assert page.status_code == 200
    assert "Accept the invitation" in text_of(page)
    assert member_row(app)[0] == JurorStatus.INVITED  # opening the link alone changes nothing
    response = post(juror, path, csrf_url=path)
    assert response.headers["Location"] == "/jury/"
    status, user_id, *_rest, accepted = member_row(app)
    assert (status, user_id, accepted) == (JurorStatus.ACTIVE, juror_id, True)
    [(before, after)] = audit_events(app, "jury.member_accept")
    assert (before["status"], after["status"], after["user_id"]) == ("invited", "active", juror_id)


def test_invitation_existing_account_not_logged_in_goes_to_login(app, client, world):
    arrange(app, lambda s: account(s, "new.juror@example.com", name="Known"))
    as_admin(client)
    invite(client, world)
    path, _token = link_of(app)
    juror = app.test_client()
    juror.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = juror.get(path)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/account/login?next={path}"
    login_page = follow(juror, response)
    assert flashes(login_page) == [("warning", "Log in with new.juror@example.com to accept the "
                                               "invitation.")]
    from tests.conftest import PASSWORD, get_csrf

    back = juror.post(response.headers["Location"],
                      data={"email": "new.juror@example.com", "password": PASSWORD,
                            "csrf_token": get_csrf(juror, "/account/login")})
    assert back.headers["Location"] == path
    assert "Accept the invitation" in text_of(juror.get(path))


def test_invitation_logged_in_as_someone_else_is_refused(app, client, world):
    arrange(app, lambda s: account(s, "other@example.com", name="Other"))
    as_admin(client)
    invite(client, world)
    path, _token = link_of(app)
    other = app.test_client()
    other.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(other, "other@example.com")
    for response in (other.get(path), post(other, path, csrf_url="/")):
        assert response.status_code == 403
        assert ("This invitation was sent to new.juror@example.com, but you are logged in as "
                "other@example.com.") in text_of(response)
    assert member_row(app)[:2] == (JurorStatus.INVITED, None)
    assert audit_actions(app, "jury.member_accept") == []


def test_invitation_forged_token_is_404(app, client, world):
    as_admin(client)
    invite(client, world)
    stranger = app.test_client()
    assert stranger.get("/admin/jury/invitations/forged-token-123").status_code == 404
    assert stranger.get("/admin/jury/invitations/" + "x" * 300).status_code == 404


def test_invitation_used_token(app, client, world):
    as_admin(client)
    invite(client, world)
    path, _token = link_of(app)
    first = app.test_client()
    first.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    post(first, path, {"full_name": "New Juror", "password": "a-long-pass-42",
                       "confirm": "a-long-pass-42", "accept": "y"}, csrf_url=path)
    again = first.get(path)
    assert (again.status_code, again.headers["Location"]) == (302, "/jury/")
    stranger = app.test_client()
    stranger.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    used = stranger.get(path)
    assert used.status_code == 410
    assert "This invitation has already been used." in text_of(used)
    replay = post(stranger, path, {"full_name": "Intruder", "password": "a-long-pass-43",
                                   "confirm": "a-long-pass-43", "accept": "y"}, csrf_url="/")
    assert replay.status_code == 410
    assert read(app, lambda s: s.scalar(select(User.full_name).where(
        User.email == "new.juror@example.com"))) == "New Juror"


def test_invitation_sent_again_replaces_the_link(app, client, world):
    as_admin(client)
    invite(client, world)
    old_path, _ = link_of(app)
    member_id = read(app, lambda s: s.scalar(select(JuryMember.id)))
    url = f"/admin/jury/panels/{world.panel_id}"
    page = follow(client, post(client, f"/admin/jury/members/{member_id}/resend", csrf_url=url))
    assert flashes(page) == [("success", "The invitation is sent again to new.juror@example.com.")]
    new_path, _ = link_of(app)
    assert new_path != old_path
    stranger = app.test_client()
    assert (stranger.get(old_path).status_code, stranger.get(new_path).status_code) == (404, 200)
    assert audit_actions(app) == ["jury.member_invite", "jury.member_reinvite"]


def test_invitation_of_a_removed_juror_is_404(app, client, world):
    as_admin(client)
    invite(client, world)
    path, _ = link_of(app)
    member_id = read(app, lambda s: s.scalar(select(JuryMember.id)))
    remove = f"/admin/jury/members/{member_id}/remove"
    from tests.integration.test_jury_setup import input_value

    preview = client.get(remove)
    post(client, remove, {"digest": input_value(preview, "digest")}, csrf_url=remove)
    assert member_row(app)[0] == JurorStatus.LEFT
    assert app.test_client().get(path).status_code == 404
