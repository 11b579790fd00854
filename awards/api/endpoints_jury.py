"""A juror's assignments and reviews, through ``awards.jury.services``.

Who sees what is ``awards.jury.access``, as on the jury pages: anything that is not the
caller's own active assignment in a started scoring round, or that concerns an entry they are
conflicted with, is a 404; writes aimed at such ids are audited as forbidden attempts. Blind
rounds leave out the nominee and identifying answers."""

from __future__ import annotations

import math

from flask import request
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from awards import policy
from awards.api import serialize
from awards.api.auth import require_user
from awards.api.blueprint import bp
from awards.api.http import Paging, json_body, json_response, query_choice, query_int
from awards.api.problems import ApiProblem, field_error
from awards.api.spec import Param, operation, path_id
from awards.db import get_db, utcnow
from awards.jury import access, services
from awards.jury.forms import MAX_COMMENT, MAX_OVERALL, score_message
from awards.jury.models import Assignment

ASSIGNMENT_ID = path_id("assignment_id", "The assignment's id.")


@operation(bp, "/assignments", tag="jury", auth="token", paged=True,
           params=[Param("status", {"type": "string", "enum": list(services.STATES)},
                         "Only entries in this state of your review."),
                   Param("round", {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
                         "Only this round.")],
           summary="Your assignments, soonest-closing round first",
           responses={200: ("AssignmentPage", "One page of assignments.")})
def list_assignments():
    user = require_user()
    state = query_choice("status", list(services.STATES))
    round_id = query_int("round")
    items = services.my_assignments(session=get_db(), user=user)
    if round_id is not None:
        items = [a for a in items if a.round_id == round_id]
    if state is not None:
        items = [a for a in items if services.state_of(a) == state]
    paging = Paging()
    page, total = paging.slice(items)
    now = utcnow()
    return json_response(paging.body([serialize.assignment_summary(a, now) for a in page],
                                     total), headers=paging.link_header(total))


def _assignment_or_404(assignment_id: int, user) -> Assignment:
    db = get_db()
    assignment = access.visible_assignment(db, user, assignment_id)
    if assignment is None:
        if request.method != "GET":
            db.rollback()
            services.record_forbidden_attempt(session=db, user=user, object_type="assignment",
                                              object_id=assignment_id, method=request.method,
                                              path=request.path)
            db.commit()
        raise ApiProblem("not-found")
    return assignment


def _assignment_body(assignment: Assignment) -> dict:
    now = utcnow()
    round_ = assignment.round
    return {
        **serialize.assignment_summary(assignment, now),
        "entry": serialize.juror_entry(
            assignment.nomination, round_,
            identity=policy.shows_identity(policy.Viewer(get_db(), require_user()), round_)),
        "rubric": serialize.rubric(round_.rubric),
        "can_score": (access.can_score(get_db(), require_user(), assignment, now)
                      and round_.rubric is not None and bool(round_.rubric.criteria)
                      and (assignment.review is None or not assignment.review.is_submitted)),
    }


@operation(bp, "/assignments/{assignment_id}", tag="jury", auth="token",
           params=[ASSIGNMENT_ID], summary="One assignment: the entry, the rubric, your review",
           responses={200: ("Assignment", "The assignment.")})
def get_assignment(assignment_id: int):
    user = require_user()
    return json_response(_assignment_body(_assignment_or_404(assignment_id, user)))


def _review_input(body: dict, assignment: Assignment) -> dict:
    """The body's score sheet, checked for shape; the service checks the values."""
    errors = []
    review = assignment.review
    stored_scores = {s.criterion.key: s.value for s in review.scores} if review else {}
    stored_comments = {s.criterion.key: s.comment for s in review.scores} if review else {}
    scores = body.get("scores", stored_scores)
    comments = body.get("comments", stored_comments)
    if not isinstance(scores, dict):
        errors.append(field_error("scores", _l("Give an object of scores by criterion key.")))
        scores = {}
    if not isinstance(comments, dict):
        errors.append(field_error("comments", _l("Give an object of comments by criterion "
                                                 "key.")))
        comments = {}
    criteria = {c.key: c for c in (assignment.round.rubric.criteria
                                   if assignment.round.rubric else [])}
    for key, value in scores.items():
        if key not in criteria:
            errors.append(field_error(f"scores.{key}", _l("This score is not part of the "
                                                          "rubric.")))
        elif value is not None and (isinstance(value, bool)
                                    or not isinstance(value, int | float)
                                    or not math.isfinite(value)):
            criterion = criteria[key]
            errors.append(field_error(f"scores.{key}", score_message(
                services.totals.ScoreError.NOT_A_NUMBER, criterion)))
    for key, value in comments.items():
        if key not in criteria:
            errors.append(field_error(f"comments.{key}", _l("This comment is not part of the "
                                                            "rubric.")))
        elif not isinstance(value, str) or len(value) > MAX_COMMENT:
            errors.append(field_error(f"comments.{key}", _l(
                "Use at most %(n)d characters.", n=MAX_COMMENT)))
    texts = {}
    for name, limit, default in (("overall_comment", MAX_OVERALL,
                                  review.overall_comment if review else ""),
                                 ("private_note", MAX_COMMENT,
                                  review.private_note if review else "")):
        value = body.get(name, default)
        if not isinstance(value, str) or len(value) > limit:
            errors.append(field_error(name, _l("Use at most %(n)d characters.", n=limit)))
            value = ""
        texts[name] = value
    version = body.get("version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)
                                or version < 0):
        errors.append(field_error("version", _l("Give the review's version you read.")))
    if errors:
        raise ApiProblem("validation-failed", errors=errors)
    return {"scores": dict(scores), "comments": {k: v or "" for k, v in comments.items()},
            "expected_version": version, **texts}


def _save(assignment_id: int, *, submit: bool):
    user = require_user()
    assignment = _assignment_or_404(assignment_id, user)
    body = json_body(required=not submit)
    sheet = _review_input(body, assignment)
    db = get_db()
    round_ = assignment.round
    try:
        result = services.save_review(session=db, juror=user, assignment=assignment,
                                      submit=submit, now=utcnow(), **sheet)
    except services.InvalidScores as refusal:
        criteria = {c.key: c for c in round_.rubric.criteria}
        raise ApiProblem("validation-failed", errors=[
            field_error(f"scores.{key}", score_message(error, criteria[key])
                        if key in criteria else _l("This score is not part of the rubric."))
            for key, error in sorted(refusal.errors.items())]) from None
    except services.NotAvailable:
        raise ApiProblem("not-found") from None
    except services.Frozen as refusal:
        raise ApiProblem("results-published", refusal.message) from None
    except services.RoundClosed:
        raise ApiProblem("round-closed") from None
    except services.RoundNotOpen:
        raise ApiProblem("round-not-open") from None
    except services.AlreadySubmitted:
        raise ApiProblem("already-submitted", _l(
            "This review is already submitted. Reopen it on the site to change it.")) from None
    except services.StaleReview:
        raise ApiProblem("stale") from None
    try:
        db.commit()
    except (StaleDataError, IntegrityError, OperationalError):
        db.rollback()
        raise ApiProblem("stale") from None
    del result
    db.expire_all()
    return json_response(_assignment_body(db.get(Assignment, assignment.id)))


_REVIEW_PROBLEMS = ["round-closed", "round-not-open", "results-published", "already-submitted",
                    "stale"]


@operation(bp, "/assignments/{assignment_id}/review", "PUT", tag="jury", auth="token",
           params=[ASSIGNMENT_ID], body="ReviewInput", problems=_REVIEW_PROBLEMS,
           summary="Save your review as a draft",
           description="Scores may be left out or null while a draft. Fields not given keep "
                       "their stored values.",
           responses={200: ("Assignment", "The assignment with the saved draft.")})
def save_review(assignment_id: int):
    return _save(assignment_id, submit=False)


@operation(bp, "/assignments/{assignment_id}/review/submit", "POST", tag="jury",
           auth="token", params=[ASSIGNMENT_ID], body="ReviewInput", body_required=False,
           problems=_REVIEW_PROBLEMS,
           summary="Submit your review",
           description="Without a body the stored draft is submitted. Every criterion needs a "
                       "valid score; `errors` names those that do not have one.",
           responses={200: ("Assignment", "The assignment with the submitted review.")})
def submit_review(assignment_id: int):
    return _save(assignment_id, submit=True)
