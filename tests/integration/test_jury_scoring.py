"""The juror's dashboard and score sheet: drafts, submission, totals, bad scores, reopening,
closed rounds, stale tabs, recusal."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from awards.audit import AuditEvent
from awards.db import utcnow
from awards.enums import AssignmentStatus, ConflictSource, ReviewStatus, RoundStatus, TotalMethod
from awards.jury.models import Assignment, Conflict, Review, Round
from tests.conftest import csrf_from
from tests.factories import arrange, english, read
from tests.jury_factories import NOMINEE, add_review, jury_setup

# Scores by criterion key: impact (weight 2, 0-10 step 1), originality (1, 0-10 step 0.5),
# scale (1, 1-5 step 1).
GOOD = {"impact": "8", "originality": "6.5", "scale": "4"}
WEIGHTED_SUM = 2 * 8 + 6.5 + 4  # 26.5
WEIGHTED_MEAN = WEIGHTED_SUM / 4  # 6.625


@pytest.fixture
def world(app):
    return arrange(app, lambda s: jury_setup(s))


@pytest.fixture
def juror(client, login_as, world):
    english(client)
    login_as(world.juror_email)
    return client


def page_of(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def sheet(world, scores: dict[str, str], *, action: str = "draft", version: str = "0",
          **extra: str) -> dict[str, str]:
    data = {f"score_{world.criterion_ids[key]}": value for key, value in scores.items()}
    data.update({"action": action, "version": version})
    data.update(extra)
    return data


def post_sheet(client, world, assignment_id: int, scores: dict[str, str], **kw):
    url = f"/jury/assignments/{assignment_id}"
    data = sheet(world, scores, **kw)
    data["csrf_token"] = csrf_from(page_of(client, "/jury/"))
    return client.post(url, data=data)


def review_row(app, assignment_id: int):
    def query(s):
        review = s.scalar(select(Review).where(Review.assignment_id == assignment_id))
        if review is None:
            return None
        return {"status": review.status, "total": review.total, "version": review.version_id,
                "scores": {sc.criterion.key: sc.value for sc in review.scores},
                "comment": review.overall_comment, "note": review.private_note}
    return read(app, query)


def audit_events(app, action: str) -> list[dict]:
    return read(app, lambda s: [
        {"object_id": e.object_id, "actor_id": e.actor_id, "before": e.before_data(),
         "after": e.after_data()}
        for e in s.scalars(select(AuditEvent).where(AuditEvent.action == action)
                           .order_by(AuditEvent.id))])


def text_of(html_text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", html_text))


# ---- the dashboard --------------------------------------------------------------------------


def test_dashboard_lists_assignments_with_progress(app, juror, world):
    arrange(app, lambda s: add_review(s, s.get(Assignment, world.mine[0]),
                                      {"impact": 5, "originality": 5, "scale": 3}, total=18))
    body = page_of(juror, "/jury/")
    assert body.count('data-assignment="') == 2
    assert f'data-assignment="{world.mine[0]}" data-state="submitted"' in body
    assert f'data-assignment="{world.mine[1]}" data-state="todo"' in body
    assert 'value="1" max="2"' in body
    assert f'<span class="progress-count" data-round="{world.round_id}">1/2</span>' in body
    assert NOMINEE in body  # not a blind round
    for other in world.others + world.chairs:
        assert f'data-assignment="{other}"' not in body
    # the untouched entry offers a declaration of conflict before it is opened
    assert f'/jury/assignments/{world.mine[1]}/recuse' in body
    assert f'/jury/assignments/{world.mine[0]}/recuse' not in body


@pytest.mark.parametrize(("query", "expected"), [
    ("status=todo", [1]),
    ("status=submitted", [0]),
    ("status=draft", []),
    ("category={social}", [0]),
    ("category={ecology}", [1]),
    ("category={social}&status=todo", []),
])
def test_dashboard_filters_by_category_and_status(app, juror, world, query, expected):
    arrange(app, lambda s: add_review(s, s.get(Assignment, world.mine[0]),
                                      {"impact": 5, "originality": 5, "scale": 3}, total=18))
    categories = read(app, lambda s: {c.code: c.id for c in
                                      s.get(Round, world.round_id).call.categories})
    body = page_of(juror, "/jury/?" + query.format(**categories))
    listed = [int(x) for x in re.findall(r'data-assignment="(\d+)"', body)]
    assert listed == [world.mine[i] for i in expected]
    # progress is about all of the juror's entries, whatever the filter
    assert f'data-round="{world.round_id}">1/2</span>' in body


def test_dashboard_next_unscored_prefers_drafts(app, juror, world):
    arrange(app, lambda s: add_review(s, s.get(Assignment, world.mine[1]), {"impact": 5},
                                      submitted=False))
    body = page_of(juror, "/jury/")
    assert f'id="next-unscored" href="/jury/assignments/{world.mine[1]}"' in body
    response = juror.get("/jury/next")
    assert (response.status_code, response.headers["Location"]) == (
        302, f"/jury/assignments/{world.mine[1]}")


def test_dashboard_next_unscored_when_all_done(app, juror, world):
    def submit_all(s):
        for assignment_id in world.mine:
            add_review(s, s.get(Assignment, assignment_id),
                       {"impact": 5, "originality": 5, "scale": 3}, total=18)
    arrange(app, submit_all)
    assert 'id="next-unscored"' not in page_of(juror, "/jury/")
    response = juror.get("/jury/next")
    assert (response.status_code, response.headers["Location"]) == (302, "/jury/")


def test_dashboard_empty_state_when_not_juror(client, make_user, login_as, world):
    english(client)
    login_as(make_user("visitor@example.com"))
    body = page_of(client, "/jury/")
    assert "You have no entries to judge." in body
    assert "data-assignment=" not in body


def test_dashboard_requires_login(client, world):
    response = client.get("/jury/")
    assert response.status_code == 302
    assert "/account/login" in response.headers["Location"]


# ---- scoring --------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "expected"), [
    (TotalMethod.SUM, WEIGHTED_SUM),
    (TotalMethod.MEAN, WEIGHTED_MEAN),
])
def test_review_draft_then_submit_has_weighted_total(app, client, login_as, method, expected):
    world = arrange(app, lambda s: jury_setup(s, method=method))
    english(client)
    login_as(world.juror_email)
    target = world.mine[0]

    response = post_sheet(client, world, target, {"impact": "8", "originality": "6,5"},
                          action="draft", overall_comment="Strong work.",
                          private_note="ask the chair about the dates")
    assert (response.status_code, response.headers["Location"]) == (
        303, f"/jury/assignments/{target}")
    assert review_row(app, target) == {
        "status": ReviewStatus.DRAFT, "total": None, "version": 1,
        "scores": {"impact": 8.0, "originality": 6.5, "scale": None},
        "comment": "Strong work.", "note": "ask the chair about the dates"}
    body = page_of(client, f"/jury/assignments/{target}")
    assert "Draft saved. It is not submitted yet." in body
    assert "ask the chair about the dates" in body  # the juror sees their own private note

    response = post_sheet(client, world, target, GOOD, action="submit", version="1",
                          overall_comment="Strong work.",
                          private_note="ask the chair about the dates")
    # Submitting goes on to the next entry still to score.
    assert (response.status_code, response.headers["Location"]) == (
        303, f"/jury/assignments/{world.mine[1]}")
    stored = review_row(app, target)
    assert (stored["status"], stored["total"], stored["scores"]) == (
        ReviewStatus.SUBMITTED, expected, {"impact": 8.0, "originality": 6.5, "scale": 4.0})

    body = page_of(client, f"/jury/assignments/{target}")
    shown = str(expected).rstrip("0").rstrip(".")
    assert f'data-empty="—">{shown}</output>' in body
    dashboard = page_of(client, "/jury/")
    assert f'data-round="{world.round_id}">1/2</span>' in dashboard

    drafts = audit_events(app, "review.save_draft")
    submits = audit_events(app, "review.submit")
    assert [e["actor_id"] for e in drafts + submits] == [world.juror_id, world.juror_id]
    assert drafts[0]["before"] is None
    assert drafts[0]["after"]["scores"] == {"impact": 8.0, "originality": 6.5, "scale": None}
    assert submits[0]["before"]["scores"] == {"impact": 8.0, "originality": 6.5, "scale": None}
    assert (submits[0]["after"]["status"], submits[0]["after"]["total"]) == ("submitted", expected)
    assert "private_note" not in json.dumps(submits[0])


@pytest.mark.parametrize(("key", "typed", "message"), [
    ("impact", "11", "The score must be between 0 and 10."),
    ("impact", "-1", "The score must be between 0 and 10."),
    ("scale", "0", "The score must be between 1 and 5."),
    ("originality", "7.3", "Scores go in steps of 0.5 from 0 (for example 0 or 0.5)."),
    ("impact", "7.5", "Scores go in steps of 1 from 0 (for example 0 or 1)."),
    ("impact", "lots", "Enter a number from 0 to 10."),
])
@pytest.mark.parametrize("action", ["draft", "submit"])
def test_review_bad_score_is_refused_on_the_field(app, juror, world, key, typed, message,
                                                  action):
    scores = {**GOOD, key: typed}
    response = post_sheet(juror, world, world.mine[0], scores, action=action)
    body = response.get_data(as_text=True)
    field_id = f"score_{world.criterion_ids[key]}"
    assert response.status_code == 400
    assert f'<p class="error" id="{field_id}-error">{message}</p>' in body
    # every typed value comes back as typed
    for k, value in scores.items():
        assert re.search(rf'name="score_{world.criterion_ids[k]}"[^>]*value="{re.escape(value)}"',
                         body), k
    assert review_row(app, world.mine[0]) is None
    assert audit_events(app, "review.save_draft") + audit_events(app, "review.submit") == []


def test_review_missing_score_blocks_submit_not_draft(app, juror, world):
    partial = {"impact": "8", "originality": "6.5"}
    response = post_sheet(juror, world, world.mine[0], partial, action="submit")
    body = response.get_data(as_text=True)
    missing_id = f"score_{world.criterion_ids['scale']}"
    assert response.status_code == 400
    assert (f'<p class="error" id="{missing_id}-error">Give a score for this criterion before '
            "submitting.</p>") in body
    assert review_row(app, world.mine[0]) is None

    response = post_sheet(juror, world, world.mine[0], partial, action="draft")
    assert response.status_code == 303
    assert review_row(app, world.mine[0])["status"] == ReviewStatus.DRAFT


def test_review_reopen_before_close_returns_to_draft(app, juror, world):
    target = world.mine[0]
    assert post_sheet(juror, world, target, GOOD, action="submit").status_code == 303
    version = review_row(app, target)["version"]
    csrf = csrf_from(page_of(juror, f"/jury/assignments/{target}"))
    response = juror.post(f"/jury/assignments/{target}/reopen",
                          data={"csrf_token": csrf, "version": str(version)})
    assert (response.status_code, response.headers["Location"]) == (
        303, f"/jury/assignments/{target}")
    stored = review_row(app, target)
    assert (stored["status"], stored["total"]) == (ReviewStatus.DRAFT, WEIGHTED_SUM)
    reopens = audit_events(app, "review.reopen")
    assert [(e["before"]["status"], e["after"]["status"]) for e in reopens] == [
        ("submitted", "draft")]
    assert reopens[0]["before"]["scores"] == {"impact": 8.0, "originality": 6.5, "scale": 4.0}
    body = page_of(juror, f"/jury/assignments/{target}")
    assert 'id="submit-review"' in body
    assert f'data-round="{world.round_id}">0/2</span>' in page_of(juror, "/jury/")


def _close_by_status(s, world):
    s.get(Round, world.round_id).status = RoundStatus.CLOSED


def _close_by_date(s, world):
    s.get(Round, world.round_id).closes_at = utcnow() - timedelta(minutes=1)


@pytest.mark.parametrize("close", [_close_by_status, _close_by_date], ids=["status", "date"])
@pytest.mark.parametrize("action", ["draft", "submit", "reopen", "recuse"])
def test_review_after_round_close_is_refused(app, juror, world, close, action):
    target = world.mine[0]
    arrange(app, lambda s: add_review(s, s.get(Assignment, target),
                                      {"impact": 5, "originality": 5, "scale": 3}, total=18,
                                      submitted=action in {"reopen", "recuse"}))
    before = review_row(app, target)
    arrange(app, lambda s: close(s, world))
    page = page_of(juror, f"/jury/assignments/{target}")
    assert 'id="submit-review"' not in page
    csrf = csrf_from(page)
    if action in {"draft", "submit"}:
        response = juror.post(f"/jury/assignments/{target}", data={
            **sheet(world, GOOD, action=action, version=str(before["version"])),
            "csrf_token": csrf})
    elif action == "reopen":
        response = juror.post(f"/jury/assignments/{target}/reopen",
                              data={"csrf_token": csrf, "version": str(before["version"])})
    else:
        response = juror.post(f"/jury/assignments/{target}/recuse",
                              data={"csrf_token": csrf, "reason": "My cousin", "confirm": "y"})
    body = text_of(response.get_data(as_text=True))
    assert response.status_code == 409
    assert "Reviews can no longer be changed." in body
    assert review_row(app, target) == before
    assert read(app, lambda s: s.get(Assignment, target).status) == AssignmentStatus.ACTIVE


def test_review_stale_version_is_refused_with_conflict(app, client, juror, world):
    target = world.mine[0]
    # Tab A loads the empty sheet (version 0); tab B saves a draft (version 1).
    assert post_sheet(juror, world, target, {"impact": "3"}, action="draft").status_code == 303
    response = post_sheet(juror, world, target, GOOD, action="submit", version="0")
    body = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "This review was changed in another window or tab" in body
    # what tab A typed is still on the page, with the current version to overwrite on purpose
    assert re.search(rf'name="score_{world.criterion_ids["originality"]}"[^>]*value="6.5"', body)
    assert 'name="version" type="hidden" value="1"' in body
    stored = review_row(app, target)
    assert (stored["status"], stored["scores"]["impact"], stored["version"]) == (
        ReviewStatus.DRAFT, 3.0, 1)
    assert len(audit_events(app, "review.submit")) == 0


def test_review_double_submit_keeps_one_review(app, juror, world):
    target = world.mine[0]
    first = post_sheet(juror, world, target, GOOD, action="submit", version="0")
    second = post_sheet(juror, world, target, GOOD, action="submit", version="0")
    assert (first.status_code, second.status_code) == (303, 303)
    assert read(app, lambda s: s.scalars(
        select(Review.id).where(Review.assignment_id == target)).all()).__len__() == 1
    assert len(audit_events(app, "review.submit")) == 1
    # a second submit with different content from the stale page is a conflict
    third = post_sheet(juror, world, target, {**GOOD, "impact": "2"}, action="submit",
                       version="0")
    assert third.status_code == 409
    assert review_row(app, target)["scores"]["impact"] == 8.0


def test_review_submitted_is_read_only_until_reopened(app, juror, world):
    target = world.mine[0]
    assert post_sheet(juror, world, target, GOOD, action="submit").status_code == 303
    version = review_row(app, target)["version"]
    response = post_sheet(juror, world, target, {**GOOD, "impact": "1"}, action="draft",
                          version=str(version))
    assert response.status_code == 409
    assert "Reopen it first" in response.get_data(as_text=True)
    assert review_row(app, target)["scores"]["impact"] == 8.0


# ---- recusal --------------------------------------------------------------------------------


@pytest.mark.parametrize("scored_first", [False, True])
def test_recuse_records_conflict_and_hides_entry(app, juror, world, scored_first):
    target = world.mine[0]
    if scored_first:
        assert post_sheet(juror, world, target, GOOD, action="submit").status_code == 303
    page = page_of(juror, f"/jury/assignments/{target}/recuse")
    assert 'id="confirm-recuse"' in page
    response = juror.post(f"/jury/assignments/{target}/recuse",
                          data={"csrf_token": csrf_from(page), "reason": "My former student",
                                "confirm": "y"})
    assert (response.status_code, response.headers["Location"]) == (303, "/jury/")

    def state(s):
        a = s.get(Assignment, target)
        c = s.scalar(select(Conflict).where(Conflict.user_id == world.juror_id))
        return (a.status, a.recusal_reason, a.recused_at is not None, a.review is None,
                c.nomination_id, c.source, c.reason, c.created_by_id)
    assert read(app, state) == (AssignmentStatus.RECUSED, "My former student", True, True,
                                world.entry_ids[0], ConflictSource.DECLARED, "My former student",
                                world.juror_id)
    recusals = audit_events(app, "assignment.recuse")
    assert [(e["object_id"], e["after"]["status"]) for e in recusals] == [
        (str(target), "recused")]
    assert (recusals[0]["before"]["review"] is not None) == scored_first
    assert len(audit_events(app, "conflict.declare")) == 1

    dashboard = page_of(juror, "/jury/")
    assert f'data-assignment="{target}"' not in dashboard
    assert f'data-round="{world.round_id}">0/1</span>' in dashboard
    assert juror.get(f"/jury/assignments/{target}").status_code == 404


@pytest.mark.parametrize(("data", "message"), [
    ({"reason": "", "confirm": "y"}, "Say briefly why you cannot judge this entry."),
    ({"reason": "Colleague"}, "Tick the box to confirm."),
])
def test_recuse_needs_reason_and_confirmation(app, juror, world, data, message):
    target = world.mine[0]
    csrf = csrf_from(page_of(juror, f"/jury/assignments/{target}/recuse"))
    response = juror.post(f"/jury/assignments/{target}/recuse", data={**data, "csrf_token": csrf})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert read(app, lambda s: s.get(Assignment, target).status) == AssignmentStatus.ACTIVE
    assert read(app, lambda s: s.scalars(select(Conflict)).all()) == []
