"""The commission round from the administrators' pages: create it with its rules, change them,
invite members, add the entries; the chair opens the ballot, and from then on the rules and the
members are refused with a message."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from awards.audit import AuditEvent
from awards.commission.models import Ballot, BallotBox, BallotMethod
from awards.enums import JurorStatus, RoundKind, RoundStatus
from awards.jury.models import JuryMember, Panel, Round
from awards.nominations.models import Nomination
from tests.commission_factories import commission_world
from tests.conftest import post_form
from tests.factories import arrange, read
from tests.integration.test_commission import client_of

RULES = {"method": "approval", "quorum": "2/3", "quorum_bound": "at_least",
         "threshold": "1/2", "threshold_bound": "more_than", "threshold_base": "cast"}


@pytest.fixture
def world(app):
    return arrange(app, lambda s: commission_world(s, members=3, per_category=1))


def _box(app, round_id):
    return read(app, lambda s: s.scalar(select(BallotBox).where(BallotBox.round_id == round_id)))


def _panel_id(app, world):
    return read(app, lambda s: s.get(Round, world.round_id).panel_id)


def test_admin_sets_up_the_commission_round_and_the_chair_opens_it(app, world):
    admin = client_of(app, world.admin)
    call_page = admin.get(f"/admin/calls/{world.call_id}").get_data(as_text=True)
    assert f"/admin/commission/calls/{world.call_id}" in call_page

    # Create: the commission is the panel already invited, two thirds "at least".
    new_url = f"/admin/commission/calls/{world.call_id}/new"
    response = post_form(admin, new_url, {**RULES, "name_en": "Final ballot",
                                          "panel_id": str(_panel_id(app, world))})
    assert response.status_code == 302, response.get_data(as_text=True)[:600]
    round_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    kind, status = read(app, lambda s: (s.get(Round, round_id).kind,
                                        s.get(Round, round_id).status))
    assert (kind, status) == (RoundKind.COMMISSION, RoundStatus.DRAFT)
    box = _box(app, round_id)
    assert box.quorum == 2 / 3 and box.quorum_inclusive and not box.threshold_inclusive

    # Configure: ranked ballots, two laureates in one category, a quorum in percent.
    page_url = f"/admin/commission/rounds/{round_id}"
    social = world.category_ids["social"]
    response = post_form(admin, page_url, {**RULES, "method": "ranked", "quorum": "50 %",
                                           f"seats_{social}": "2"})
    assert response.status_code == 302, response.get_data(as_text=True)[:600]
    box = _box(app, round_id)
    assert (box.method, box.quorum, box.seats) == (BallotMethod.RANKED, 0.5,
                                                   {str(social): 2})
    page = admin.get(page_url).get_data(as_text=True)
    assert 'value="1/2"' in page and "The commission&#39;s rules are saved." in page

    # A share that is no number: the page says so, nothing is saved.
    response = post_form(admin, page_url, {**RULES, "quorum": "two thirds"})
    assert response.status_code == 400
    assert "Enter a share such as 2/3, 0.5 or 50 %." in response.get_data(as_text=True)
    assert _box(app, round_id).quorum == 0.5

    # Members: one more is invited (they vote once they accept).
    response = post_form(admin, f"{page_url}/members", {"email": "newcomer@example.com"},
                         csrf_url=page_url)
    assert response.status_code == 302
    page = admin.get(page_url).get_data(as_text=True)
    assert "newcomer@example.com" in page and "pending" in page

    # Entries, on the jury's entries page.
    refs = read(app, lambda s: list(s.scalars(select(Nomination.reference).where(
        Nomination.id.in_([n for ids in world.entries.values() for n in ids])))))
    response = post_form(admin, f"/admin/jury/rounds/{round_id}/entries/add",
                         {"references": "\n".join(refs)},
                         csrf_url=f"/admin/jury/rounds/{round_id}/entries")
    assert response.status_code == 302, response.get_data(as_text=True)[:600]

    # The chair opens the ballot.
    chair = client_of(app, world.chair)
    response = post_form(chair, f"/commission/rounds/{round_id}/open",
                         csrf_url=f"/commission/rounds/{round_id}/chair")
    assert response.status_code == 302
    assert read(app, lambda s: s.get(Round, round_id).status) == RoundStatus.OPEN

    # From now on: the rules and the members are refused, with the reason.
    response = post_form(admin, page_url, {**RULES, "quorum": "1/3"})
    assert response.status_code == 409
    assert "The ballot has been opened: its rules and its members can no longer change." \
        in response.get_data(as_text=True)
    assert _box(app, round_id).quorum == 0.5
    response = post_form(admin, f"{page_url}/members", {"email": "late@example.com"},
                         csrf_url=page_url)
    assert response.status_code == 409
    assert read(app, lambda s: s.scalar(select(JuryMember.id).where(
        JuryMember.email == "late@example.com"))) is None
    page = admin.get(page_url).get_data(as_text=True)
    assert 'id="save-rules"' not in page and 'id="invite-member"' not in page

    # Each change is audited.
    actions = read(app, lambda s: list(s.scalars(select(AuditEvent.action).where(
        AuditEvent.object_type.in_(["round", "jury_member"])).order_by(AuditEvent.id))))
    assert [a for a in actions if a.startswith(("commission.", "jury.member"))] == [
        "commission.round_create", "commission.configure", "jury.member_invite",
        "commission.ballot_open"]


def test_new_round_with_a_new_panel_and_its_chair(app, world):
    admin = client_of(app, world.admin)
    response = post_form(admin, f"/admin/commission/calls/{world.call_id}/new",
                         {**RULES, "name_ru": "Комиссия", "panel_id": "0"})
    assert response.status_code == 302
    round_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    page_url = f"/admin/commission/rounds/{round_id}"
    post_form(admin, f"{page_url}/members", {"email": "chair@example.com"}, csrf_url=page_url)
    panel_name, member_id = read(app, lambda s: (
        s.get(Panel, s.get(Round, round_id).panel_id).name,
        s.scalar(select(JuryMember.id).where(JuryMember.email == "chair@example.com"))))
    assert panel_name == "Комиссия"
    response = post_form(admin, f"{page_url}/members/{member_id}/chair", {"chair": "1"},
                         csrf_url=page_url)
    assert response.status_code == 303
    member = read(app, lambda s: s.get(JuryMember, member_id))
    assert member.is_chair and member.status == JurorStatus.INVITED


def test_a_scoring_round_has_no_commission_page(app, world):
    admin = client_of(app, world.admin)
    scoring = arrange(app, lambda s: _scoring_round(s, world))
    assert admin.get(f"/admin/commission/rounds/{scoring}").status_code == 404
    chair = client_of(app, world.chair)
    assert chair.get(f"/admin/commission/rounds/{world.round_id}").status_code == 403


def _scoring_round(session, world) -> int:
    round_ = Round(call_id=world.call_id, position=9, kind=RoundKind.SCORING,
                   status=RoundStatus.DRAFT, name_en="Scoring")
    session.add(round_)
    session.flush()
    return round_.id


def test_jury_pages_open_and_close_a_commission_round_through_its_ballot(app, world):
    """Opened and closed from the jury's rounds, the ballot is the chair's: the members are
    fixed at the opening and every ballot is sealed with the close's time."""
    from tests.integration.test_commission import vote

    admin = client_of(app, world.admin)
    move = f"/admin/jury/rounds/{world.round_id}/status"
    response = post_form(admin, f"{move}/open")
    assert response.status_code == 303, response.get_data(as_text=True)[:600]
    assert sorted(_box(app, world.round_id).member_ids) == sorted(
        world.user_ids[m] for m in world.members)
    entries = [n for ids in world.entries.values() for n in ids]
    for email in world.members[:2]:
        vote(app, world, email, dict.fromkeys(entries, "yes"))
    response = post_form(admin, f"{move}/close")
    assert response.status_code == 303, response.get_data(as_text=True)[:600]
    box = _box(app, world.round_id)
    sealed = read(app, lambda s: list(s.scalars(select(Ballot.sealed_at).where(
        Ballot.box_id == box.id))))
    assert box.closed_at is not None and sealed == [box.closed_at] * 2
    actions = read(app, lambda s: list(s.scalars(select(AuditEvent.action).where(
        AuditEvent.object_type == "round", AuditEvent.object_id == str(world.round_id))
        .order_by(AuditEvent.id))))
    assert "commission.ballot_open" in actions and "commission.ballot_close" in actions
    assert "jury.round_close" not in actions


def test_round_settings_do_not_open_a_commission_round(app, world):
    admin = client_of(app, world.admin)
    url = f"/admin/jury/rounds/{world.round_id}/edit"
    response = post_form(admin, url, {"name_en": "Commission vote", "kind": "vote",
                                      "reviews_per_entry": "3", "panel_id": "0",
                                      "status": "open"})
    assert response.status_code == 400
    assert read(app, lambda s: s.get(Round, world.round_id).status) == RoundStatus.DRAFT


def test_admin_removes_a_member_before_the_ballot_opens_and_not_after(app, world):
    admin = client_of(app, world.admin)
    page_url = f"/admin/commission/rounds/{world.round_id}"
    leaving, staying = world.members[2], world.members[1]
    seat = {email: read(app, lambda s, e=email: s.scalar(select(JuryMember.id).where(
        JuryMember.email == e, JuryMember.panel_id == s.get(Round, world.round_id).panel_id)))
        for email in (leaving, staying)}
    page = admin.get(page_url).get_data(as_text=True)
    # Each seat has a remove button behind a confirmation that names the member.
    assert f"{page_url}/members/{seat[leaving]}/remove" in page
    assert f"Remove {leaving} from the commission?" in page
    assert "Quorum: two thirds of 3 members = 2." in " ".join(page.split())

    response = post_form(admin, f"{page_url}/members/{seat[leaving]}/remove", csrf_url=page_url)
    assert response.status_code == 303
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert f"{leaving} is no longer on the commission." in page
    assert "Quorum: two thirds of 2 members = 2." in " ".join(page.split())
    assert read(app, lambda s: s.get(JuryMember, seat[leaving]).status) == JurorStatus.LEFT
    event = read(app, lambda s: s.scalars(select(AuditEvent).where(
        AuditEvent.action == "jury.member_leave")).one())
    assert (event.object_id, event.actor_id) == (str(seat[leaving]),
                                                 world.user_ids[world.admin])
    # Removed twice: a clear refusal, not an error page.
    response = post_form(admin, f"{page_url}/members/{seat[leaving]}/remove", csrf_url=page_url)
    assert response.status_code == 303
    assert "has already left" in admin.get(page_url).get_data(as_text=True)

    # The chair opens the ballot: the removed member is not among those who vote.
    chair = client_of(app, world.chair)
    post_form(chair, f"/commission/rounds/{world.round_id}/open",
              csrf_url=f"/commission/rounds/{world.round_id}/chair")
    assert sorted(_box(app, world.round_id).member_ids) == sorted(
        world.user_ids[m] for m in world.members if m != leaving)
    assert client_of(app, leaving).get(
        f"/commission/rounds/{world.round_id}").status_code == 404

    # Once the ballot is open, removal is refused with the reason and changes nothing.
    page = admin.get(page_url).get_data(as_text=True)
    assert f"/members/{seat[staying]}/remove" not in page
    response = post_form(admin, f"{page_url}/members/{seat[staying]}/remove",
                         csrf_url=page_url)
    assert response.status_code == 303
    assert ("The ballot has been opened: its rules and its members can no longer change."
            in admin.get(page_url).get_data(as_text=True))
    assert read(app, lambda s: s.get(JuryMember, seat[staying]).status) == JurorStatus.ACTIVE
    assert read(app, lambda s: s.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "jury.member_leave"))) == 1
