"""Publication freezes the jury's work: once a call's results are scheduled or published (or
being corrected, or archived), no review is saved, submitted, reopened or recused, no
assignment changes, no round opens, no scores are imported, on the pages and in the API, and
the ranking the results came from stays as it was. The administrator is told why."""

from __future__ import annotations

import html
import io
import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from awards.calls.models import Call
from awards.db import utcnow
from awards.enums import AssignmentStatus, CallStatus, ReviewStatus, RoundStatus
from awards.jury.models import Assignment, Review, Round
from tests.api_factories import bearer, make_token
from tests.conftest import csrf_from, get_csrf, login
from tests.factories import arrange, read
from tests.integration.test_jury_setup import (  # noqa: F401  (english_client is the client fixture)
    audit_actions,
    english_client,
    flashes,
    post,
    text_of,
)
from tests.results_factories import decided_call

FROZEN = ("The results of this call are scheduled or published, so nothing that led to them may "
          "change; an administrator can open a correction of the decisions.")
PROBLEM = "/api/v1/problems/results-published"


@dataclass
class FreezeWorld:
    results: object
    assignment_id: int  # the juror Aida's submitted review of the winner, C
    other_id: int  # the juror Bolat's (no review of C): an assignment of D
    juror_secret: str
    admin_secret: str


@pytest.fixture
def world(app):
    def build(session):
        from awards.auth.models import User

        results = decided_call(session)
        call = session.get(Call, results.call_id)
        call.status = CallStatus.DELIBERATION
        # The round was left open when the results were decided: the failure of issue 15.
        rnd = session.get(Round, results.round_id)
        rnd.status = RoundStatus.OPEN
        rnd.closes_at = utcnow() + timedelta(days=7)
        aida = session.scalar(select(User).where(User.email == "aida@example.com"))
        bolat = session.scalar(select(User).where(User.email == "bolat@example.com"))
        admin = session.scalar(select(User).where(User.email == results.admin_email))

        def assignment_of(user, letter):
            return session.scalar(select(Assignment.id).where(
                Assignment.juror_id == user.id,
                Assignment.nomination_id == results.entries[letter]))
        session.flush()
        return FreezeWorld(results, assignment_of(aida, "C"), assignment_of(bolat, "D"),
                           make_token(session, aida), make_token(session, admin))
    return arrange(app, build)


def publish_now(app, world: FreezeWorld) -> None:
    """Publish the decided results now, through the service the results page calls."""
    def go(session):
        from awards.auth.models import User
        from awards.results import services as results

        admin = session.scalar(select(User).where(User.email == world.results.admin_email))
        call = session.get(Call, world.results.call_id)
        results.publish(session=session, actor=admin, call=call, scheduled_for=None, token=None)
    with app.test_request_context():  # the e-mails it queues carry links
        arrange(app, go)
    assert read(app, lambda s: str(s.get(Call, world.results.call_id).status)) == "published"


def set_phase(app, world: FreezeWorld, phase: CallStatus) -> None:
    arrange(app, lambda s: setattr(s.get(Call, world.results.call_id), "status", phase))


def ranking(client, world: FreezeWorld) -> list[tuple[int, int, float]]:
    response = client.get(f"/api/v1/rounds/{world.results.round_id}/ranking",
                          headers=bearer(world.admin_secret))
    assert response.status_code == 200
    return [(e["nomination"]["id"], e["rank"], e["score"])
            for e in response.get_json()["categories"][0]["entries"]]


def review_state(app, assignment_id: int) -> tuple[str, float | None]:
    return read(app, lambda s: tuple(s.execute(select(Review.status, Review.total).where(
        Review.assignment_id == assignment_id)).one()))


def test_after_publication_the_winner_review_cannot_be_reopened_or_resubmitted(
        app, client, world):
    before = ranking(client, world)
    publish_now(app, world)
    login(client, "aida@example.com")
    url = f"/jury/assignments/{world.assignment_id}"
    page = client.get(url)
    assert page.status_code == 200
    assert 'id="reopen-form"' not in text_of(page)
    version = read(app, lambda s: s.scalar(select(Review.version_id).where(
        Review.assignment_id == world.assignment_id)))
    response = client.post(f"{url}/reopen", data={"csrf_token": csrf_from(text_of(page)),
                                                 "version": str(version)})
    assert response.status_code == 409
    assert FROZEN in html.unescape(text_of(response))
    assert review_state(app, world.assignment_id) == (ReviewStatus.SUBMITTED, 27.0)

    # The API: save a draft and submit 0/0/1, as the attacker did.
    headers = bearer(world.juror_secret)
    for method, path in (("put", "review"), ("post", "review/submit")):
        response = getattr(client, method)(f"/api/v1/assignments/{world.assignment_id}/{path}",
                                           headers=headers, json={"scores": {"overall": 0}})
        assert response.status_code == 409, path
        body = response.get_json()
        assert (body["type"], body["detail"]) == (PROBLEM, FROZEN)
    assert review_state(app, world.assignment_id) == (ReviewStatus.SUBMITTED, 27.0)

    # Recusing would remove the review from the ranking: refused too.
    recuse = client.post(f"{url}/recuse", data={"csrf_token": csrf_from(text_of(page)),
                                               "reason": "Changed my mind"})
    assert recuse.status_code == 409
    assert FROZEN in html.unescape(text_of(recuse))
    assert read(app, lambda s: s.get(Assignment, world.assignment_id).status) \
        == AssignmentStatus.ACTIVE

    assert ranking(client, world) == before
    assert audit_actions(app, "review.") == []
    assert audit_actions(app, "assignment.") == []


@pytest.mark.parametrize("phase", [CallStatus.RESULTS_SCHEDULED, CallStatus.PUBLISHED,
                                   CallStatus.CORRECTING, CallStatus.ARCHIVED])
def test_frozen_phases_refuse_scoring_in_the_api(app, client, world, phase):
    set_phase(app, world, phase)
    headers = bearer(world.juror_secret)
    body = client.get(f"/api/v1/assignments/{world.assignment_id}", headers=headers).get_json()
    assert (body["can_score"], body["round"]["is_closed"]) == (False, True)
    response = client.put(f"/api/v1/assignments/{world.assignment_id}/review", headers=headers,
                          json={"scores": {"overall": 1}})
    assert response.status_code == 409
    assert response.get_json()["type"] == PROBLEM
    assert review_state(app, world.assignment_id) == (ReviewStatus.SUBMITTED, 27.0)


def test_scoring_still_works_before_the_results_are_scheduled(app, client, world):
    login(client, "aida@example.com")
    url = f"/jury/assignments/{world.assignment_id}"
    page = client.get(url)
    assert 'id="reopen-form"' in text_of(page)
    version = read(app, lambda s: s.scalar(select(Review.version_id).where(
        Review.assignment_id == world.assignment_id)))
    response = client.post(f"{url}/reopen", data={"csrf_token": csrf_from(text_of(page)),
                                                 "version": str(version)})
    assert response.status_code == 303
    assert review_state(app, world.assignment_id)[0] == ReviewStatus.DRAFT


# ---- the administrator's side -------------------------------------------------------------------


def test_admin_sees_why_assignments_are_frozen_and_changes_are_refused(app, client, world):
    set_phase(app, world, CallStatus.PUBLISHED)
    login(client, world.results.admin_email)
    round_id = world.results.round_id
    entries_url = f"/admin/jury/rounds/{round_id}/entries"
    page = client.get(entries_url)
    assert page.status_code == 200
    assert f'<p class="flash flash-warning" id="frozen-notice">{html.escape(FROZEN)}</p>' \
        in text_of(page)
    assert "/assignments/add" not in text_of(page)
    assert "/remove" not in text_of(page)
    rounds = client.get(f"/admin/jury/calls/{world.results.call_id}/rounds")
    assert 'id="frozen-notice"' in text_of(rounds)
    auto = client.get(f"/admin/jury/rounds/{round_id}/auto-assign")
    assert 'id="frozen-notice"' in text_of(auto)
    assert "Save these assignments</button>" not in text_of(auto)

    jurors = world.results.entries
    aida = read(app, lambda s: s.get(Assignment, world.assignment_id).juror_id)
    added = post(client, f"/admin/jury/rounds/{round_id}/assignments/add",
                 {"nomination_id": str(jurors["D"]), "juror_id": str(aida)},
                 csrf_url=entries_url)
    assert added.status_code == 409
    assert flashes(added) == [("error", FROZEN)]
    removed = post(client, f"/admin/jury/assignments/{world.other_id}/remove",
                   csrf_url=entries_url)
    assert removed.status_code == 409
    assert read(app, lambda s: s.get(Assignment, world.other_id).status) \
        == AssignmentStatus.ACTIVE
    saved = post(client, f"/admin/jury/rounds/{round_id}/auto-assign",
                 {"seed": "1", "digest": "0" * 64}, csrf_url=entries_url)
    assert saved.status_code == 409
    assert ("error", FROZEN) in flashes(saved)
    assert audit_actions(app, "jury.") == []


def test_round_cannot_open_again_after_publication(app, client, world):
    def draft(session):
        session.get(Round, world.results.round_id).status = RoundStatus.DRAFT
        session.get(Call, world.results.call_id).status = CallStatus.PUBLISHED
    arrange(app, draft)
    login(client, world.results.admin_email)
    url = f"/admin/jury/rounds/{world.results.round_id}/edit"
    page = client.get(url)
    data = dict(re.findall(
        r'<input[^>]*name="(\w+)"[^>]*value="([^"]*)"', text_of(page)))
    data.update({"name_en": "Long list", "name_ru": "Длинный список", "name_kk": "Ұзын тізім",
                 "kind": "scoring", "reviews_per_entry": "3", "panel_id": "0",
                 "status": "open"})
    response = client.post(url, data={**data, "csrf_token": csrf_from(text_of(page))})
    assert response.status_code == 409
    assert html.escape(FROZEN) in text_of(response)
    assert read(app, lambda s: s.get(Round, world.results.round_id).status) == RoundStatus.DRAFT


def test_scores_cannot_be_imported_after_publication(app, client, world):
    set_phase(app, world, CallStatus.PUBLISHED)
    login(client, world.results.admin_email)
    url = f"/admin/ranking/rounds/{world.results.round_id}/import"
    content = f"entry,juror,criterion,score\n{world.results.refs['C']},aida@example.com," \
              "overall,0\n".encode()
    response = client.post(url, data={"csrf_token": get_csrf(client, url),
                                      "file": (io.BytesIO(content), "ballots.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 409
    assert FROZEN in html.unescape(text_of(response))
    assert review_state(app, world.assignment_id) == (ReviewStatus.SUBMITTED, 27.0)
