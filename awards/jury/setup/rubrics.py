"""A round's rubric: its criteria, which stop changing once jurors have started reviewing
on it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from awards import audit, policy
from awards.calls.services import _apply, snapshot
from awards.i18n import localized
from awards.jury.models import Assignment, Criterion, Review, Round, Rubric
from awards.jury.setup.common import JurySetupError, _require

CRITERION_FIELDS = (
    "key", "title_kk", "title_ru", "title_en", "description_kk", "description_ru",
    "description_en", "min_score", "max_score", "step", "weight", "position",
)


# ---- rubric -----------------------------------------------------------------------------------


def ensure_rubric(*, session: Session, round: Round) -> Rubric:
    """The round's own rubric, created empty on first need."""
    if round.rubric is not None:
        return round.rubric
    call = round.call
    rubric = Rubric(call_id=call.id, name=localized(round, "name") or f"#{round.position}",
                    total_method=call.total_method)
    session.add(rubric)
    session.flush()
    round.rubric = rubric
    session.flush()
    return rubric


def rubric_review_count(session: Session, rubric: Rubric) -> int:
    """Reviews (draft or submitted) written on this rubric, in any round that uses it."""
    return session.scalar(
        select(func.count(Review.id))
        .join(Assignment, Assignment.id == Review.assignment_id)
        .join(Round, Round.id == Assignment.round_id)
        .where(Round.rubric_id == rubric.id)
    ) or 0


def _check_rubric_editable(session: Session, rubric: Rubric) -> None:
    if rubric_review_count(session, rubric):
        raise JurySetupError(_l(
            "Jurors have already started reviewing on this rubric, so its criteria can no "
            "longer change: the scores given so far would no longer mean the same thing."))


def _check_criterion_key(session: Session, rubric: Rubric, key: str,
                         criterion_id: int | None) -> None:
    query = select(Criterion.id).where(Criterion.rubric_id == rubric.id, Criterion.key == key)
    if criterion_id is not None:
        query = query.where(Criterion.id != criterion_id)
    if session.scalar(query) is not None:
        raise JurySetupError(_l("Another criterion of this rubric already has this key."),
                             field="key")


def add_criterion(*, session: Session, actor, round: Round,
                  values: Mapping[str, Any]) -> Criterion:
    _require(session, actor, policy.Action.SET_UP_ROUND, round)
    rubric = ensure_rubric(session=session, round=round)
    _check_rubric_editable(session, rubric)
    _check_criterion_key(session, rubric, values["key"], None)
    values = dict(values)
    if values.get("position") is None:
        values["position"] = (session.scalar(
            select(func.max(Criterion.position)).where(Criterion.rubric_id == rubric.id)) or 0) + 1
    criterion = Criterion(rubric_id=rubric.id)
    _apply(criterion, CRITERION_FIELDS, values)
    session.add(criterion)
    session.flush()
    audit.record(session, action="jury.criterion_create", object_type="criterion",
                 object_id=criterion.id, actor=actor, call_id=round.call_id,
                 after={**snapshot(criterion, CRITERION_FIELDS), "rubric_id": rubric.id})
    session.expire(rubric, ["criteria"])
    return criterion


def update_criterion(*, session: Session, actor, criterion: Criterion,
                     values: Mapping[str, Any]) -> bool:
    _require(session, actor, policy.Action.SET_UP_ROUND, criterion.rubric.call)
    _check_rubric_editable(session, criterion.rubric)
    _check_criterion_key(session, criterion.rubric, values.get("key", criterion.key),
                         criterion.id)
    values = {k: v for k, v in values.items() if not (k == "position" and v is None)}
    before, after = _apply(criterion, CRITERION_FIELDS, values)
    if not after:
        return False
    session.flush()
    audit.record(session, action="jury.criterion_update", object_type="criterion",
                 object_id=criterion.id, actor=actor, call_id=criterion.rubric.call_id,
                 before=before, after=after)
    return True


def delete_criterion(*, session: Session, actor, criterion: Criterion) -> None:
    rubric = criterion.rubric
    _require(session, actor, policy.Action.SET_UP_ROUND, rubric.call)
    _check_rubric_editable(session, rubric)
    before = {**snapshot(criterion, CRITERION_FIELDS), "rubric_id": rubric.id}
    criterion_id = criterion.id
    session.delete(criterion)
    session.flush()
    audit.record(session, action="jury.criterion_delete", object_type="criterion",
                 object_id=criterion_id, actor=actor, call_id=rubric.call_id, before=before)
    session.expire(rubric, ["criteria"])
