"""Saves of one review that reach the server at the same moment (several tabs, a double click,
a script and the page): on SQLite as on PostgreSQL, one save wins, every other is told with a
409 that someone else saved the review and to reload, never a 500, and the stored review is
exactly the winner's, saved once and audited once.

Each thread has its own client, so its own request context and database connection; a barrier
releases them together (``together``, shared with the PostgreSQL race tests)."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from awards.audit import AuditEvent, verify_chain
from awards.enums import AssignmentStatus, ReviewStatus
from awards.jury.models import Assignment, Review, Score
from tests.api_factories import bearer, make_token
from tests.conftest import get_csrf, login
from tests.factories import arrange, read
from tests.jury_factories import jury_setup
from tests.security.test_concurrency_pg import together

TABS = 4
STALE_PAGE = ("This review was changed in another window or tab since you opened this page. "
              "Your changes below were not saved. Reload the page to see the saved version")


def tab(app, email):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(client, email)
    return client


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def stored(app, assignment_id):
    """(status, impact score, version) of the assignment's review(s) as the database has them."""
    return read(app, lambda s: s.execute(
        select(Review.status, Score.value, Review.version_id)
        .join(Score, Score.review_id == Review.id).join(Score.criterion)
        .where(Review.assignment_id == assignment_id, Score.criterion.has(key="impact"))).all())


def review_actions(app):
    return read(app, lambda s: list(s.scalars(
        select(AuditEvent.action).where(AuditEvent.action.like("review.%"))
        .order_by(AuditEvent.id))))


def chain_intact(app) -> bool:
    return read(app, lambda s: verify_chain(s).ok)


def sheet(world, csrf, impact, version, action="draft"):
    ids = world.criterion_ids
    return {f"score_{ids['impact']}": str(impact), f"score_{ids['originality']}": "5",
            f"score_{ids['scale']}": "3",
            "action": action, "version": str(version), "csrf_token": csrf}


def posting(tabs, url, forms):
    """Each tab posts its form, all at once."""
    return together(*[lambda t=t, f=f: t.post(url, data=f)
                      for t, f in zip(tabs, forms, strict=True)])


def winner_of(responses, ok: int) -> int:
    assert sorted(r.status_code for r in responses) == [ok] + [409] * (len(responses) - 1), [
        (r.status_code, text_of(r)[:300]) for r in responses]
    return next(i for i, r in enumerate(responses) if r.status_code == ok)


def test_first_save_from_four_tabs_at_once_saves_one_and_tells_the_others(app):
    world = arrange(app, lambda s: jury_setup(s, entries=1))
    url = f"/jury/assignments/{world.mine[0]}"
    tabs = [tab(app, world.juror_email) for _ in range(TABS)]
    forms = [sheet(world, get_csrf(t, url), impact=i + 1, version=0) for i, t in enumerate(tabs)]

    responses = posting(tabs, url, forms)

    won = winner_of(responses, 303)
    for loser in (r for r in responses if r.status_code == 409):
        assert STALE_PAGE in text_of(loser)
    assert stored(app, world.mine[0]) == [(ReviewStatus.DRAFT, won + 1.0, 1)]
    assert review_actions(app) == ["review.save_draft"]
    assert chain_intact(app)


def test_edits_of_a_saved_draft_from_four_tabs_at_once_keep_the_winners(app):
    world = arrange(app, lambda s: jury_setup(s, entries=1))
    url = f"/jury/assignments/{world.mine[0]}"
    first = tab(app, world.juror_email)
    assert first.post(url, data=sheet(world, get_csrf(first, url), 9, 0)).status_code == 303
    tabs = [tab(app, world.juror_email) for _ in range(TABS)]
    forms = [sheet(world, get_csrf(t, url), impact=i + 1, version=1,
                   action="submit" if i % 2 else "draft") for i, t in enumerate(tabs)]

    responses = posting(tabs, url, forms)

    won = winner_of(responses, 303)
    status = ReviewStatus.SUBMITTED if won % 2 else ReviewStatus.DRAFT
    assert stored(app, world.mine[0]) == [(status, won + 1.0, 2)]
    assert len(review_actions(app)) == 2
    assert chain_intact(app)


def test_api_saves_with_the_same_version_at_once_one_wins_the_others_get_409(app):
    world = arrange(app, lambda s: jury_setup(s, entries=1))
    secret = arrange(app, lambda s: make_token(s, _user(s, world.juror_id)))
    url = f"/api/v1/assignments/{world.mine[0]}/review"
    clients = [app.test_client() for _ in range(TABS)]
    headers = {**bearer(secret), "Accept-Language": "en"}

    responses = together(*[
        lambda c=c, i=i: c.put(url, headers=headers,
                               json={"scores": {"impact": i + 1}, "version": 0})
        for i, c in enumerate(clients)])

    won = winner_of(responses, 200)
    for loser in (r for r in responses if r.status_code == 409):
        assert loser.mimetype == "application/problem+json"
        body = loser.get_json()
        assert body["type"].endswith("/stale")
        assert body["title"] == "Changed in the meantime"
    assert stored(app, world.mine[0]) == [(ReviewStatus.DRAFT, won + 1.0, 1)]
    assert review_actions(app) == ["review.save_draft"]
    assert chain_intact(app)


def test_api_saves_without_a_version_at_once_are_applied_one_after_another(app):
    world = arrange(app, lambda s: jury_setup(s, entries=1))
    secret = arrange(app, lambda s: make_token(s, _user(s, world.juror_id)))
    url = f"/api/v1/assignments/{world.mine[0]}/review"
    clients = [app.test_client() for _ in range(TABS)]

    responses = together(*[
        lambda c=c, i=i: c.put(url, headers=bearer(secret), json={"scores": {"impact": i + 1}})
        for i, c in enumerate(clients)])

    assert [r.status_code for r in responses] == [200] * TABS
    saves = read(app, lambda s: [json.loads(e.after) for e in s.scalars(
        select(AuditEvent).where(AuditEvent.action == "review.save_draft")
        .order_by(AuditEvent.id))])
    assert sorted(save["scores"]["impact"] for save in saves) == [i + 1.0 for i in range(TABS)]
    assert stored(app, world.mine[0]) == [
        (ReviewStatus.DRAFT, saves[-1]["scores"]["impact"], TABS)]
    assert chain_intact(app)


def _user(session, user_id):
    from awards.auth.models import User

    return session.get(User, user_id)


def test_recusing_while_tabs_and_a_script_save_the_review_leaves_no_review_and_no_500(app):
    world = arrange(app, lambda s: jury_setup(s, entries=1))
    url = f"/jury/assignments/{world.mine[0]}"
    first = tab(app, world.juror_email)
    assert first.post(url, data=sheet(world, get_csrf(first, url), 9, 0)).status_code == 303
    tabs = [tab(app, world.juror_email) for _ in range(TABS)]
    forms = [sheet(world, get_csrf(t, url), impact=i + 1, version=1) for i, t in enumerate(tabs)]
    recusing = tab(app, world.juror_email)
    withdrawal = {"reason": "My cousin", "confirm": "y",
                  "csrf_token": get_csrf(recusing, url + "/recuse")}
    secret = arrange(app, lambda s: make_token(s, _user(s, world.juror_id)))
    script = app.test_client()

    responses = together(
        lambda: recusing.post(url + "/recuse", data=withdrawal),
        lambda: script.put(f"/api/v1/assignments/{world.mine[0]}/review",
                           headers=bearer(secret), json={"scores": {"impact": 2}}),
        *[lambda t=t, f=f: t.post(url, data=f) for t, f in zip(tabs, forms, strict=True)])

    assert responses[0].status_code == 303, text_of(responses[0])[:300]
    assert responses[1].status_code in (200, 404)
    assert {r.status_code for r in responses[2:]} <= {303, 404, 409}
    assert stored(app, world.mine[0]) == []
    assert read(app, lambda s: s.get(Assignment, world.mine[0]).status) == (
        AssignmentStatus.RECUSED)
    assert chain_intact(app)
