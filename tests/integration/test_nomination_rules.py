"""The rulebook on an applicant's own nomination: no withdrawal once a decision stands on it or
the call's results are scheduled or published, no change while the call is frozen; the page
and the API refuse alike (409, the same reason), and the pages show why instead of the button.

The world is ``tests.results_factories.decided_call``: entries A-E in "social", C awarded gold,
D laureate; A, D and E belong to applicant@example.com (English)."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from awards.audit import AuditEvent
from awards.auth.models import User
from awards.calls.models import Call
from awards.db import get_db
from awards.enums import CallStatus, NominationStatus
from awards.jury.models import Round
from awards.nominations.lifecycle import change_status
from awards.nominations.models import Nomination
from awards.ranking import services as ranking
from awards.results import services as results
from awards.results.models import Citation
from tests.api_factories import bearer, make_token
from tests.conftest import post_form
from tests.factories import arrange, read
from tests.results_factories import decided_call

APPLICANT = "applicant@example.com"
DECIDED = ("A decision has already been taken on this nomination, so it can no longer be "
           "withdrawn. Please contact the organisers.")
FROZEN = ("The results of this call are scheduled or published, so nothing that led to them "
          "may change; an administrator can open a correction of the decisions.")
FROZEN_PHASES = [CallStatus.RESULTS_SCHEDULED, CallStatus.PUBLISHED, CallStatus.CORRECTING,
                 CallStatus.ARCHIVED]


@pytest.fixture
def world(app):
    def build(session):
        world = decided_call(session)
        # Still judging: the jury's decisions may be taken, and revoked.
        session.get(Call, world.call_id).status = CallStatus.JUDGING
        session.flush()
        return world

    return arrange(app, build)


@pytest.fixture
def token(app, world):
    return arrange(app, lambda s: make_token(s, _user(s, APPLICANT)))


def _user(session, email: str) -> User:
    return session.scalar(select(User).where(User.email == email))


def _page(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _alerts(response) -> list[str]:
    return [html.unescape(m) for m in re.findall(
        r'<p class="notice notice-bad" role="alert">(.*?)</p>', response.get_data(as_text=True),
        re.S)]


def _status(app, nomination_id: int) -> str:
    return read(app, lambda s: str(s.get(Nomination, nomination_id).status))


def _withdrawals(app) -> list[str]:
    return read(app, lambda s: list(s.scalars(select(AuditEvent.object_id).where(
        AuditEvent.action == "nomination.withdraw"))))


def _set_phase(app, world, phase: CallStatus) -> None:
    arrange(app, lambda s: setattr(s.get(Call, world.call_id), "status", phase))


def _publish(app, world) -> None:
    """Publish the decided awards through the results service, as the admin's button does
    (in a request: the outcome e-mails carry links)."""
    with app.test_request_context():
        session = get_db()
        _publish_in(session, world)
        session.commit()


def _publish_in(session, world) -> None:
    admin = _user(session, world.admin_email)
    call = session.get(Call, world.call_id)
    call.status = CallStatus.DELIBERATION
    # Every winner has a citation, so nothing blocks the publication.
    for letter in "CD":
        if session.scalar(select(Citation).where(
                Citation.nomination_id == world.entries[letter])) is None:
            session.add(Citation(nomination_id=world.entries[letter], text_kk="Үшін.",
                                 text_ru="За.", text_en="For."))
    session.flush()
    results.publish(session=session, actor=admin, call=call, scheduled_for=None, token=None)
    session.flush()


def _withdraw_page(client, nomination_id: int):
    return post_form(client, f"/nominations/{nomination_id}/withdraw", {"reason": "Changed mind"},
                     csrf_url="/")


def _withdraw_api(client, token: str, nomination_id: int):
    return client.post(f"/api/v1/nominations/{nomination_id}/withdraw", headers=bearer(token),
                       json={"reason": "Changed mind"})


# ---- the failure: an awarded entry withdrawn after publication -----------------------------


def test_awarded_entry_cannot_be_withdrawn_after_publication(app, client, login_as, world,
                                                             token):
    _publish(app, world)
    awarded = world.entries["D"]
    login_as(APPLICANT)

    confirm = client.get(f"/nominations/{awarded}/withdraw")
    page = _withdraw_page(client, awarded)
    api = _withdraw_api(client, token, awarded)

    assert confirm.status_code == 409
    assert page.status_code == 409
    assert _alerts(confirm) == _alerts(page) == [FROZEN]
    assert f'href="/nominations/{awarded}/withdraw"' not in _page(page)
    assert api.status_code == 409
    assert api.mimetype == "application/problem+json"
    assert (api.get_json()["type"], api.get_json()["detail"]) == (
        "/api/v1/problems/results-published", FROZEN)
    assert _status(app, awarded) == "eligible"
    assert _withdrawals(app) == []
    # The published results still name the laureate, who is still in the running.
    assert world.refs["D"] in _page(client.get(f"/results/{world.call_slug}"))


@pytest.mark.parametrize("phase", FROZEN_PHASES, ids=str)
def test_withdrawal_refused_while_the_call_is_frozen(app, client, login_as, world, token,
                                                     phase):
    undecided = world.entries["A"]
    _set_phase(app, world, phase)
    login_as(APPLICANT)

    page = _withdraw_page(client, undecided)
    api = _withdraw_api(client, token, undecided)

    assert page.status_code == 409
    assert _alerts(page) == [FROZEN]
    assert api.status_code == 409
    assert (api.get_json()["type"], api.get_json()["detail"]) == (
        "/api/v1/problems/results-published", FROZEN)
    assert _status(app, undecided) == "eligible"
    assert _withdrawals(app) == []


# ---- a decision stands on the nomination -------------------------------------------------


def _advance_a(session, world) -> None:
    admin = _user(session, world.admin_email)
    ranking.advance(session=session, actor=admin, round=session.get(Round, world.round_id),
                    nomination_ids=[world.entries["A"]])
    session.flush()


@pytest.mark.parametrize("letter", ["D", "A"], ids=["award", "advance"])
def test_withdrawal_refused_after_a_decision(app, client, login_as, world, token, letter):
    arrange(app, lambda s: _advance_a(s, world))
    nomination_id = world.entries[letter]
    login_as(APPLICANT)

    confirm = client.get(f"/nominations/{nomination_id}/withdraw")
    page = _withdraw_page(client, nomination_id)
    api = _withdraw_api(client, token, nomination_id)

    assert (confirm.status_code, page.status_code) == (409, 409)
    assert _alerts(confirm) == _alerts(page) == [DECIDED]
    assert api.status_code == 409
    assert (api.get_json()["type"], api.get_json()["detail"]) == (
        "/api/v1/problems/not-editable", DECIDED)
    assert _status(app, nomination_id) == "eligible"
    assert _withdrawals(app) == []


def test_withdrawal_allowed_again_once_the_decision_is_revoked(app, client, login_as, world,
                                                               token):
    def revoke(session):
        from awards.ranking.models import Decision

        decision = session.scalar(select(Decision).where(
            Decision.nomination_id == world.entries["D"], Decision.revoked_at.is_(None)))
        ranking.revoke_decision(session=session, actor=_user(session, world.admin_email),
                                decision=decision, digest=None)

    arrange(app, revoke)
    login_as(APPLICANT)

    response = _withdraw_api(client, token, world.entries["D"])

    assert response.status_code == 200
    assert response.get_json()["status"] == "withdrawn"
    assert _withdrawals(app) == [str(world.entries["D"])]


# ---- the pages say why there is no Withdraw button ---------------------------------------


def test_nomination_page_shows_why_it_cannot_be_withdrawn(app, client, login_as, world):
    login_as(APPLICANT)

    awarded = client.get(f"/nominations/{world.entries['D']}")
    undecided = client.get(f"/nominations/{world.entries['A']}")

    assert awarded.status_code == 200
    assert f'href="/nominations/{world.entries["D"]}/withdraw"' not in _page(awarded)
    assert f'<p class="notice withdraw-reason">{DECIDED}</p>' in _page(awarded)
    assert f'href="/nominations/{world.entries["A"]}/withdraw"' in _page(undecided)
    assert "withdraw-reason" not in _page(undecided)


def test_my_nominations_show_withdraw_or_the_reason(app, client, login_as, world):
    _set_phase(app, world, CallStatus.JUDGING)
    login_as(APPLICANT)

    page = _page(client.get("/nominations/"))

    rows = {ref: row for row in re.findall(r"<tr>(.*?)</tr>", page, re.S)
            for ref in [world.refs[x] for x in "ADE"] if ref in row}
    assert f'<small class="withdraw-reason">{DECIDED}</small>' in rows[world.refs["D"]]
    assert "/withdraw" not in rows[world.refs["D"]]
    assert f'href="/nominations/{world.entries["A"]}/withdraw"' in rows[world.refs["A"]]
    assert f'href="/nominations/{world.entries["E"]}/withdraw"' in rows[world.refs["E"]]


def test_my_nominations_after_publication_give_the_frozen_reason(app, client, login_as, world):
    _publish(app, world)
    login_as(APPLICANT)

    page = _page(client.get("/nominations/"))

    assert "/withdraw" not in page
    assert page.count(f'<small class="withdraw-reason">{FROZEN}</small>') == 3


# ---- no change to a nomination while the call is frozen --------------------------------------


def _changes_requested(session, world) -> None:
    nomination = session.get(Nomination, world.entries["E"])
    change_status(session=session, nomination=nomination,
                  to_status=NominationStatus.CHANGES_REQUESTED, actor=None,
                  reason="Add the report.")
    session.get(Call, world.call_id).status = CallStatus.PUBLISHED
    session.flush()


def test_edit_refused_while_the_call_is_frozen(app, client, login_as, world, token):
    arrange(app, lambda s: _changes_requested(s, world))
    entry = world.entries["E"]
    before = read(app, lambda s: s.get(Nomination, entry).answers[0].value)
    login_as(APPLICANT)

    shown = client.get(f"/nominations/{entry}")
    form = client.get(f"/nominations/{entry}/edit")
    saved = post_form(client, f"/nominations/{entry}/edit", {"q_title": "Changed"},
                      csrf_url="/")
    resubmitted = post_form(client, f"/nominations/{entry}/submit", {"q_title": "Changed"},
                            csrf_url="/")
    api = client.patch(f"/api/v1/nominations/{entry}", headers=bearer(token),
                       json={"answers": {"title": "Changed"}})
    api_submit = client.post(f"/api/v1/nominations/{entry}/submit", headers=bearer(token),
                             json={"personal_data_consent": True})
    api_read = client.get(f"/api/v1/nominations/{entry}", headers=bearer(token))

    assert f'href="/nominations/{entry}/edit"' not in _page(shown)
    assert [r.status_code for r in (form, saved, resubmitted)] == [409, 409, 409]
    assert _alerts(form) == _alerts(saved) == _alerts(resubmitted) == [FROZEN]
    for response in (api, api_submit):
        assert response.status_code == 409
        assert (response.get_json()["type"], response.get_json()["detail"]) == (
            "/api/v1/problems/results-published", FROZEN)
    assert (api_read.get_json()["editable"], api_read.get_json()["missing"]) == (False, [])
    assert _status(app, entry) == "changes_requested"
    assert read(app, lambda s: s.get(Nomination, entry).answers[0].value) == before
