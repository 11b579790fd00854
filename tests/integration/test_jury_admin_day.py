"""The jury administrators' side of the juror's day: the round-opened e-mail (once, in each
juror's language, with the link to their list), declining an invitation (audited, shown on the
panel as declined, invited again), the seats' and reviews' statuses in the page's language, and
automatic assignment in a round without entries."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from awards.auth.models import User
from awards.enums import JurorStatus, ReviewStatus, RoundStatus
from awards.jury.models import JuryMember, Round, RoundEntry
from awards.mail import OutgoingMail
from tests.conftest import login
from tests.factories import arrange, read
from tests.integration.test_jury_invitations import invite, link_of
from tests.integration.test_jury_setup import (  # noqa: F401  (english_client is the client fixture)
    account,
    as_admin,
    assign_rows,
    audit_events,
    english_client,
    follow,
    make_world,
    post,
    text_of,
)


def mails(app, kind: str) -> list[tuple[str, str, str, str]]:
    return read(app, lambda s: [(m.to_address, m.language, m.subject, m.body_text)
                                for m in s.scalars(select(OutgoingMail).where(
                                    OutgoingMail.kind == kind).order_by(OutgoingMail.id))])


def set_language(app, user_id: int, language: str) -> None:
    arrange(app, lambda s: setattr(s.get(User, user_id), "preferred_language", language))


# ---- the round-opened e-mail --------------------------------------------------------------------


def test_opening_a_round_mails_each_active_juror_once_in_their_language(app, client):
    w = make_world(app, entries=2, jurors=3, round_status=RoundStatus.DRAFT)
    set_language(app, w.jurors[1], "ru")
    set_language(app, w.jurors[2], "kk")
    arrange(app, lambda s: s.add(JuryMember(panel_id=w.panel_id, email="pending@example.com",
                                            status=JurorStatus.INVITED)))
    as_admin(client)
    url = f"/admin/jury/rounds/{w.round_id}/status/open"
    assert post(client, url, csrf_url=url).status_code == 303
    sent = mails(app, "jury_round_open")
    assert [(to, lang) for to, lang, _s, _b in sent] == [
        ("juror0@example.com", "en"), ("juror1@example.com", "ru"), ("juror2@example.com", "kk")]
    _to, _lang, subject, body = sent[0]
    assert subject == ("The round “First round” of “Volunteer of the Year 2026” is open for "
                       "your reviews")
    assert "Hello, Juror 0!" in body
    assert "http://localhost/jury/" in body
    assert "The round closes on" in body
    assert "(Almaty, UTC+5)." in body and "Asia/Almaty" not in body  # the zone in words
    assert sent[1][3] != body and "Juror 1" in sent[1][3]  # Russian text
    assert audit_events(app, "jury.round_open_mail")[0][1]["count"] == 3

    # Back to draft and open again: nobody is told twice.
    arrange(app, lambda s: setattr(s.get(Round, w.round_id), "status", RoundStatus.DRAFT))
    assert post(client, url, csrf_url=url).status_code == 303
    assert len(mails(app, "jury_round_open")) == 3


def test_a_round_created_open_mails_its_jurors(app, client):
    w = make_world(app, entries=1, jurors=1)
    as_admin(client)
    url = f"/admin/jury/calls/{w.call_id}/rounds/new"
    page = client.get(url)
    assert page.status_code == 200
    response = post(client, url, {
        "name_ru": "Второй тур", "name_kk": "Екінші кезең", "name_en": "Second round",
        "kind": "scoring", "status": "open", "panel_id": str(w.panel_id),
        "reviews_per_entry": "1", "blind": ""}, csrf_url=url)
    assert response.status_code in (302, 303), text_of(response)[:3000]
    assert [m[0] for m in mails(app, "jury_round_open")] == ["juror0@example.com"]


# ---- declining an invitation --------------------------------------------------------------------


@pytest.fixture
def invited(app, client):
    w = make_world(app, entries=1, jurors=0)
    arrange(app, lambda s: account(s, "new.juror@example.com", name="New Juror"))
    as_admin(client)
    invite(client, w)
    path, token = link_of(app)
    return w, path, token  # the client stays the administrator's


def member_state(app):
    return read(app, lambda s: s.scalar(select(JuryMember.status).where(
        JuryMember.email == "new.juror@example.com")))


def test_invitee_declines_with_a_reason_and_the_admin_invites_again(app, client, invited):
    w, path, _token = invited
    juror = app.test_client()
    juror.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(juror, "new.juror@example.com")
    page = juror.get(path)
    body = text_of(page)
    assert page.status_code == 200
    assert 'id="decline-form"' in body and 'id="accept-button"' in body
    response = post(juror, path, {"decision": "decline", "reason": "No time this spring."},
                    csrf_url=path)
    assert response.status_code == 200
    assert "You have declined this invitation." in text_of(response)
    assert member_state(app) == JurorStatus.DECLINED
    before, after = audit_events(app, "jury.member_decline")[0]
    assert (before["status"], after["status"], after["reason"]) == (
        "invited", "declined", "No time this spring.")
    # the link now says so, and cannot be accepted any more
    assert juror.get(path).status_code == 410
    assert post(juror, path, {}, csrf_url="/").status_code == 410
    assert member_state(app) == JurorStatus.DECLINED

    panel = client.get(f"/admin/jury/panels/{w.panel_id}")
    row = re.search(r'<tr data-email="new.juror@example.com">.*?</tr>', text_of(panel), re.S)
    assert row is not None
    assert '<span class="badge bad" data-status="declined">declined</span>' in row.group(0)
    assert "No time this spring." in row.group(0)
    assert "Invite again" in row.group(0)
    member_id = read(app, lambda s: s.scalar(select(JuryMember.id).where(
        JuryMember.email == "new.juror@example.com")))
    panel_url = f"/admin/jury/panels/{w.panel_id}"
    response = post(client, f"/admin/jury/members/{member_id}/resend", csrf_url=panel_url)
    assert response.status_code == 302
    assert member_state(app) == JurorStatus.INVITED
    new_path, _new = link_of(app)
    assert new_path != path
    assert juror.get(new_path).status_code == 200


def test_a_visitor_declines_through_the_link_alone(app, client, invited):
    _w, path, _token = invited
    arrange(app, lambda s: s.delete(s.scalar(select(User).where(
        User.email == "new.juror@example.com"))))
    visitor = app.test_client()
    visitor.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert 'id="decline-form"' in text_of(visitor.get(path))
    response = post(visitor, path, {"decision": "decline"}, csrf_url=path)
    assert response.status_code == 200
    assert member_state(app) == JurorStatus.DECLINED
    assert audit_events(app, "jury.member_decline")[0][1]["reason"] == ""


def test_another_account_cannot_decline(app, client, invited):
    _w, path, _token = invited
    arrange(app, lambda s: account(s, "someone@example.com"))
    other = app.test_client()
    login(other, "someone@example.com")
    response = post(other, path, {"decision": "decline"}, csrf_url="/")
    assert response.status_code == 403
    assert member_state(app) == JurorStatus.INVITED


# ---- statuses in the page's language ------------------------------------------------------------


@pytest.mark.parametrize("language, invited_word, accepted_word, submitted_word", [
    ("ru", "приглашён", "принято", "отправлена"),
    ("kk", "шақырылды", "қабылданды", "жіберілді"),
])
def test_jury_admin_statuses_are_translated(app, client, language, invited_word,
                                            accepted_word, submitted_word):
    w = make_world(app, entries=2, jurors=2)
    assign_rows(app, w.round_id, [(w.jurors[0], w.entries[0])], review=ReviewStatus.SUBMITTED)
    arrange(app, lambda s: s.add(JuryMember(panel_id=w.panel_id, email="x@example.com",
                                            status=JurorStatus.INVITED)))
    set_language(app, w.admin_id, language)
    as_admin(client)
    panel = re.sub(r"<[^>]+>", " ", text_of(client.get(f"/admin/jury/panels/{w.panel_id}")))
    entries = re.sub(r"<[^>]+>", " ", text_of(client.get(
        f"/admin/jury/rounds/{w.round_id}/entries")))
    assert invited_word in panel and accepted_word in panel
    assert submitted_word in entries
    for english in ("invited", "accepted", "declined", "submitted"):
        assert not re.search(rf"\b{english}\b", panel + entries), english


# ---- automatic assignment without entries -------------------------------------------------------


def test_auto_assign_in_a_round_without_entries_says_so(app, client):
    w = make_world(app, entries=0, jurors=2)
    as_admin(client)
    page = text_of(client.get(f"/admin/jury/rounds/{w.round_id}/auto-assign"))
    assert "There are no entries in this round to assign." in page
    assert "every entry has its jurors" not in page
    assert read(app, lambda s: s.scalar(select(RoundEntry.id))) is None
