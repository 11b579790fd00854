"""Rankings of judging rounds and award decisions, through ``awards.ranking.services``.

As on the ranking pages, the policy decides: administrators read and decide; the chair of the
round's panel may read its ranking when the round and the call show scores to chairs, without
the entries they are in conflict with. Decisions follow the call's phase (409 once the results
are scheduled or published)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from awards import policy
from awards.api import serialize
from awards.api.auth import require_admin, require_user
from awards.api.blueprint import bp
from awards.api.http import json_body, json_response, query_choice, query_int
from awards.api.problems import ApiProblem, field_error
from awards.api.spec import Param, operation, path_id, path_str
from awards.calls.models import Call
from awards.db import get_db, utcnow
from awards.enums import AggregationMethod, DecisionKind
from awards.jury.models import Round
from awards.ranking import services
from awards.ranking.models import Decision

METHODS = [m.value for m in AggregationMethod]


@operation(bp, "/rounds/{round_id}/ranking", tag="ranking", auth="token",
           params=[path_id("round_id", "The round's id."),
                   Param("method", {"type": "string", "enum": METHODS},
                         "How reviews are aggregated; the call's method by default."),
                   Param("category", {"type": "integer", "minimum": 1,
                                      "maximum": 2**31 - 1}, "Only this category (its id).")],
           problems=["forbidden"],
           summary="The ranking of a round, category by category",
           description="Administrators; the chair of a panel of the call when the round and "
                       "the call show scores to chairs. Entries without data come last, "
                       "unranked; ties left to the jury have `tied` true.",
           responses={200: ("Ranking", "The ranking.")})
def round_ranking(round_id: int):
    user = require_user()
    db = get_db()
    rnd = db.get(Round, round_id)
    if rnd is None:
        raise ApiProblem("not-found")
    method = query_choice("method", METHODS)
    category_id = query_int("category")
    try:
        result = services.round_ranking(
            session=db, round=rnd,
            method=AggregationMethod(method or rnd.call.aggregation_method),
            category_id=category_id, stability=False, viewer=policy.Viewer(db, user))
    except policy.Forbidden as refusal:
        raise ApiProblem("not-found" if refusal.status == 404 else "forbidden",
                         refusal.message) from None
    return json_response(serialize.ranking(result, rnd, utcnow()))


def _call_or_404(slug: str) -> Call:
    call = get_db().scalar(select(Call).where(Call.slug == slug))
    if call is None:
        raise ApiProblem("not-found")
    return call


SLUG = path_str("slug", "The call's slug.")


@operation(bp, "/calls/{slug}/decisions", tag="ranking", auth="token", params=[SLUG],
           problems=["forbidden"], summary="The call's active decisions (administrators)",
           responses={200: ("DecisionList", "Active decisions, oldest first.")})
def list_decisions(slug: str):
    require_admin()
    call = _call_or_404(slug)
    db = get_db()
    decisions = services.active_decisions(db, call)
    return json_response({"items": [serialize.decision(d) for d in decisions],
                          "digests": {str(k): v for k, v in
                                      services.category_digests(db, call).items()}})


def _int_field(body: dict, name: str) -> int:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 2**31 - 1:
        raise ApiProblem("validation-failed", errors=[field_error(
            name, _l("Give the id as a whole number."))])
    return value


def _refused(exc: services.RankingError) -> ApiProblem:
    if isinstance(exc, services.CallPublished):
        return ApiProblem("results-published", exc.message)
    if isinstance(exc, services.StaleState):
        return ApiProblem("stale", exc.message)
    if exc.status == 403:
        return ApiProblem("forbidden", exc.message)
    if exc.status == 409:
        return ApiProblem("conflict", exc.message)
    return ApiProblem("validation-failed", exc.message,
                      errors=[field_error("body", exc.message)], status=422)


@operation(bp, "/calls/{slug}/decisions", "POST", tag="ranking", auth="token",
           params=[SLUG], body="DecisionCreate",
           problems=["forbidden", "results-published", "stale", "conflict"],
           summary="Decide: award a level to an entry, or advance entries to the next round",
           description="`award` needs `nomination_id` and `award_level_id`; an entry's earlier "
                       "award in its category is revoked in the same step. `advance` needs "
                       "`nomination_ids` and puts them into the next round. Send the "
                       "category's `digest` from the list with an `award` to refuse a change "
                       "made in between. The call's phase decides what is possible: entries "
                       "advance only while it is judged; awards are decided while it is "
                       "judged, in deliberation or in a correction (409 otherwise).",
           rules=["Also when `round_id` is not a round of this call, an entry is not in "
                  "that round, the award level is not one of the entry's category, or the "
                  "ids an `award` or `advance` needs are missing; `errors` names the field."],
           responses={201: ("DecisionResult", "What was decided.")})
def create_decision(slug: str):
    user = require_admin()
    call = _call_or_404(slug)
    body = json_body()
    kind = body.get("kind")
    if kind not in [k.value for k in DecisionKind]:
        raise ApiProblem("validation-failed", errors=[field_error(
            "kind", _l("Choose one of: %(choices)s.", choices="award, advance"))])
    db = get_db()
    rnd = db.get(Round, _int_field(body, "round_id"))
    if rnd is None or rnd.call_id != call.id:
        raise ApiProblem("validation-failed", errors=[field_error(
            "round_id", _l("Choose a round of this call."))])
    note = body.get("note", "")
    digest = body.get("digest")
    if not isinstance(note, str) or len(note) > 2000:
        raise ApiProblem("validation-failed", errors=[field_error(
            "note", _l("Use at most %(n)d characters.", n=2000))])
    if digest is not None and (not isinstance(digest, str) or len(digest) > 64):
        raise ApiProblem("validation-failed", errors=[field_error(
            "digest", _l("Send the digest as it was given."))])
    try:
        if kind == DecisionKind.AWARD.value:
            decision = services.decide_award(
                session=db, actor=user, round=rnd, nomination_id=_int_field(body, "nomination_id"),
                award_level_id=_int_field(body, "award_level_id"), digest=digest, note=note)
            decisions, target, already = [decision], None, []
        else:
            ids = body.get("nomination_ids")
            if not isinstance(ids, list) or not ids or len(ids) > 1000 or not all(
                    isinstance(i, int) and not isinstance(i, bool) and 1 <= i <= 2**31 - 1
                    for i in ids):
                raise ApiProblem("validation-failed", errors=[field_error(
                    "nomination_ids", _l("Choose at least one entry to advance."))])
            result = services.advance(session=db, actor=user, round=rnd, nomination_ids=ids,
                                      note=note)
            db.flush()
            decisions = list(db.scalars(select(Decision).where(
                Decision.round_id == rnd.id, Decision.kind == DecisionKind.ADVANCE,
                Decision.revoked_at.is_(None), Decision.nomination_id.in_(result.added or [0]))
                .order_by(Decision.id)))
            target, already = result.target.id, result.already
    except services.RankingError as exc:
        raise _refused(exc) from None
    try:
        db.commit()
    except StaleDataError:
        db.rollback()
        raise ApiProblem("stale") from None
    return json_response({"decisions": [serialize.decision(d) for d in decisions],
                          "advanced_to_round": target, "already_there": already}, 201)


@operation(bp, "/calls/{slug}/decisions/{decision_id}/revoke", "POST", tag="ranking",
           auth="token", params=[SLUG, path_id("decision_id", "The decision's id.")],
           problems=["forbidden", "results-published", "stale", "conflict"],
           summary="Revoke a decision (never deleted; the entry can be decided again)",
           responses={200: ("DecisionList", "The call's active decisions after revoking.")})
def revoke_decision(slug: str, decision_id: int):
    user = require_admin()
    call = _call_or_404(slug)
    db = get_db()
    decision = db.get(Decision, decision_id)
    if decision is None or decision.call_id != call.id:
        raise ApiProblem("not-found")
    try:
        services.revoke_decision(session=db, actor=user, decision=decision, digest=None)
    except services.RankingError as exc:
        raise _refused(exc) from None
    db.commit()
    return list_decisions(slug)
