"""Requests that race on PostgreSQL (real row locks between connections): each thread has its
own test client and so its own request context and connection; a barrier starts them together.

What must hold: nothing is silently overwritten or counted twice; the loser of a race gets a
clear conflict message; the audit chain stays intact."""

from __future__ import annotations

import re
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from awards.audit import AuditEvent, verify_chain
from awards.calls.models import Call
from awards.db import utcnow
from awards.enums import CallStatus, NominationStatus, ReviewStatus
from awards.jury.models import Review
from awards.mail import OutgoingMail
from awards.nominations.models import Nomination, StatusChange
from awards.ranking.models import Decision
from tests.conftest import csrf_from, get_csrf, login
from tests.factories import arrange, make_call, read, valid_form
from tests.jury_factories import jury_setup, make_account
from tests.ranking_factories import scored_round

pytestmark = pytest.mark.postgres_only


def together(*calls):
    """Run the callables in threads released at the same instant; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)
    errors: list = []

    def run(i, fn):
        try:
            barrier.wait(10)
            results[i] = fn()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    return results


def client_for(app, email):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(client, email)
    return client


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def chain_intact(app) -> bool:
    return read(app, lambda s: verify_chain(s).ok)


def actions(app, prefix: str) -> list[str]:
    return read(app, lambda s: list(s.scalars(
        select(AuditEvent.action).where(AuditEvent.action.like(prefix + "%"))
        .order_by(AuditEvent.id))))


# ---- jurors ---------------------------------------------------------------------------------


def score_sheet(world, csrf, action="submit", version="0", impact="8"):
    ids = world.criterion_ids
    return {f"score_{ids['impact']}": impact, f"score_{ids['originality']}": "6.5",
            f"score_{ids['scale']}": "4", "action": action, "version": version,
            "csrf_token": csrf}


def test_two_jurors_submitting_the_same_entry_at_once_both_count(app):
    world = arrange(app, lambda s: jury_setup(s, entries=1))
    juror, other = client_for(app, world.juror_email), client_for(app, world.other_email)
    forms = [score_sheet(world, get_csrf(c, "/jury/")) for c in (juror, other)]

    responses = together(
        lambda: juror.post(f"/jury/assignments/{world.mine[0]}", data=forms[0]),
        lambda: other.post(f"/jury/assignments/{world.others[0]}", data=forms[1]))

    assert [r.status_code for r in responses] == [303, 303]
    submitted = read(app, lambda s: sorted(s.execute(
        select(Review.assignment_id, Review.status, Review.total)).all()))
    assert submitted == sorted([(world.mine[0], ReviewStatus.SUBMITTED, 26.5),
                                (world.others[0], ReviewStatus.SUBMITTED, 26.5)])
    assert actions(app, "review.") == ["review.submit", "review.submit"]
    assert chain_intact(app)


def test_one_juror_submitting_from_two_tabs_at_once_submits_once(app):
    world = arrange(app, lambda s: jury_setup(s, entries=1))
    tab1, tab2 = client_for(app, world.juror_email), client_for(app, world.juror_email)
    first = score_sheet(world, get_csrf(tab1, "/jury/"), impact="8")
    second = score_sheet(world, get_csrf(tab2, "/jury/"), impact="3")
    url = f"/jury/assignments/{world.mine[0]}"

    responses = together(lambda: tab1.post(url, data=first), lambda: tab2.post(url, data=second))

    assert sorted(r.status_code for r in responses) == [303, 409]
    loser = next(r for r in responses if r.status_code == 409)
    assert ("This review was changed in another window or tab and is now submitted. Your "
            "changes below were not saved.") in text_of(loser)
    winner_total = 26.5 if responses[0].status_code == 303 else 16.5
    assert read(app, lambda s: s.execute(select(Review.status, Review.total, Review.version_id)
                                         ).all()) == [(ReviewStatus.SUBMITTED, winner_total, 1)]
    assert actions(app, "review.") == ["review.submit"]
    assert chain_intact(app)


# ---- applicants -------------------------------------------------------------------------------


def test_submission_racing_the_deadline_is_refused_after_it_and_keeps_the_draft(app, make_user):
    """Two applicants press Submit as the deadline arrives: the request that reaches the server
    before it is accepted; the one after it is refused with the deadline message, and its
    draft and answers stay as they were."""
    call_id = arrange(app, lambda s: make_call(s).id)
    for email in ("early@example.com", "late@example.com"):
        make_user(email)
    early, late = client_for(app, "early@example.com"), client_for(app, "late@example.com")
    ids = []
    for c in (early, late):
        response = c.post("/nominations/start/voy-2026", data={
            "category": "social", "nominator_kind": "self",
            "csrf_token": get_csrf(c, "/calls/voy-2026")})
        ids.append(int(response.headers["Location"].split("/")[-2]))
        saved = c.post(f"/nominations/{ids[-1]}/edit", data={
            **valid_form(q_title="Saved title"), "csrf_token": get_csrf(c, "/")})
        assert saved.status_code == 303
    tokens = [get_csrf(c, "/") for c in (early, late)]
    deadline = utcnow() + timedelta(seconds=1.5)
    arrange(app, lambda s: s.execute(update(Call).where(Call.id == call_id)
                                     .values(closes_at=deadline)))

    def at_deadline():
        time.sleep(max(0.0, (deadline - utcnow()).total_seconds()) + 0.05)
        return late.post(f"/nominations/{ids[1]}/submit", data={
            **valid_form(q_title="Typed at the last second"), "csrf_token": tokens[1]})

    responses = together(
        lambda: early.post(f"/nominations/{ids[0]}/submit",
                           data={**valid_form(), "csrf_token": tokens[0]}),
        at_deadline)

    assert [r.status_code for r in responses] == [303, 409]
    assert "The deadline passed at" in text_of(responses[1])
    assert "Typed at the last second" in text_of(responses[1])

    def states(s):
        return [(n.status, n.reference, next(a.value for a in n.answers if a.field.key == "title"))
                for n in (s.get(Nomination, i) for i in ids)]

    assert read(app, states) == [(NominationStatus.SUBMITTED, "VOY-2026-00001", "Clean rivers"),
                                 (NominationStatus.DRAFT, None, "Saved title")]


# ---- administrators ---------------------------------------------------------------------------


def test_two_admins_awarding_the_last_place_at_once_one_gets_a_conflict(app):
    world = arrange(app, scored_round)
    arrange(app, lambda s: make_account(s, "admin2@example.com", admin=True))
    first, second = client_for(app, world.admin_email), client_for(app, "admin2@example.com")
    url = f"/admin/ranking/rounds/{world.round_id}"
    pages = [c.get(url + "?method=mean").get_data(as_text=True) for c in (first, second)]

    def award(client, html, letter):
        digest = re.search(r'name="digest" value="([0-9a-f]+)"', html).group(1)
        return lambda: client.post(url + "/decisions?method=mean", data={
            "csrf_token": csrf_from(html), "nomination_id": world.entries[letter],
            "award_level_id": world.levels["gold"], "digest": digest})

    responses = together(award(first, pages[0], "C"), award(second, pages[1], "D"))

    assert sorted(r.status_code for r in responses) == [303, 409]
    loser = next(r for r in responses if r.status_code == 409)
    assert ("Another administrator changed the decisions in this category after you opened the "
            "page. Nothing was saved") in text_of(loser)
    winner = "C" if responses[0].status_code == 303 else "D"
    assert read(app, lambda s: s.execute(
        select(Decision.nomination_id, Decision.award_level_id)
        .where(Decision.revoked_at.is_(None))).all()) == [
        (world.entries[winner], world.levels["gold"])]
    assert actions(app, "ranking.") == ["ranking.decision_award"]
    assert chain_intact(app)


def test_two_admins_screening_one_entry_at_once_one_gets_a_conflict(app):
    def build(s):
        admin = make_account(s, "admin@example.com", admin=True)
        make_account(s, "admin2@example.com", admin=True)
        applicant = make_account(s, "applicant@example.com")
        call = make_call(s, status=CallStatus.SCREENING,
                         closes_at=utcnow() - timedelta(days=1))
        nomination = Nomination(call=call, category=call.categories[0], applicant_id=applicant.id,
                                nominator_kind="self", status=NominationStatus.SUBMITTED,
                                submitted_at=utcnow(), reference="VOY-2026-00001",
                                nominee_name="Aigerim")
        s.add(nomination)
        s.flush()
        return admin.email, nomination.id

    admin, nomination_id = arrange(app, build)
    first, second = client_for(app, admin), client_for(app, "admin2@example.com")
    url = f"/admin/screening/nomination/{nomination_id}"
    pages = [c.get(url).get_data(as_text=True) for c in (first, second)]

    def decide(client, html, decision, reason=""):
        version = re.search(r'name="version" type="hidden" value="(\d+)"', html).group(1)
        return lambda: client.post(url + "/decision", data={
            "csrf_token": csrf_from(html), "decision": decision, "reason": reason,
            "version": version})

    responses = together(decide(first, pages[0], "eligible"),
                         decide(second, pages[1], "ineligible", "Out of scope"))

    assert sorted(r.status_code for r in responses) == [303, 409]
    loser = next(r for r in responses if r.status_code == 409)
    assert "VOY-2026-00001 was changed by someone else" in text_of(loser)
    assert "Nothing was saved" in text_of(loser)
    expected = (NominationStatus.ELIGIBLE if responses[0].status_code == 303
                else NominationStatus.INELIGIBLE)
    assert read(app, lambda s: s.get(Nomination, nomination_id).status) == expected
    assert read(app, lambda s: s.scalar(select(func.count()).select_from(StatusChange))) == 1
    assert read(app, lambda s: s.scalar(select(func.count()).select_from(OutgoingMail))) == 1
    assert chain_intact(app)
