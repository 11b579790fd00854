"""The close of a public stage: counting, ties at the cut, the frozen results, the decisions it
records and the entries it sends on to the first jury round."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session

from awards import audit
from awards.audit import AuditEvent
from awards.auth.models import User
from awards.calls.models import Category
from awards.db import utcnow
from awards.enums import (
    AssignmentStatus,
    CallStatus,
    CommentStatus,
    DecisionKind,
    StageKind,
)
from awards.judging.public_vote import Candidate, InvalidChoice, select_advancing
from awards.jury.models import Assignment, Review, Round, RoundEntry
from awards.jury.setup.rounds import first_round
from awards.public_stage.common import NeedsChoice, StageError
from awards.public_stage.models import (
    PublicStage,
    PublicVote,
    StageComment,
)
from awards.public_stage.reading import entries_by_category, overall_numbers, public_name
from awards.ranking.models import Decision


def _counts(session: Session, stage: PublicStage) -> Counter:
    rows = session.execute(
        select(PublicVote.nomination_id, func.count(PublicVote.id))
        .where(PublicVote.stage_id == stage.id, PublicVote.annulled_at.is_(None))
        .group_by(PublicVote.nomination_id)
    ).all()
    return Counter(dict(rows))


def _category_names(category: Category) -> dict[str, str]:
    return {f"name_{lang}": getattr(category, f"name_{lang}") or category.code
            for lang in ("kk", "ru", "en")}


def tied_choices_needed(session: Session, stage: PublicStage) -> list[dict[str, Any]]:
    """For the tie rule ``admin_choice``: the categories where someone must choose."""
    try:
        _compute(session, stage, choices=None)
    except NeedsChoice as pending:
        return pending.pending
    return []


def _compute(session: Session, stage: PublicStage,
             choices: Mapping[int, Collection[int]] | None):
    counts = _counts(session, stage)
    grouped = entries_by_category(session, stage)
    outcome, pending = [], []
    for category, entries in grouped:
        candidates = [Candidate(key=e.nomination_id, votes=counts.get(e.nomination_id, 0),
                                submitted_at=e.nomination.submitted_at) for e in entries]
        chosen = None if choices is None else choices.get(category.id)
        try:
            result = select_advancing(candidates, stage.advance_per_category,
                                      str(stage.tie_rule), chosen=chosen)
        except InvalidChoice:
            raise StageError(_l("Choose exactly as many tied entries as there are seats left "
                                "in each category."), status=400) from None
        if result.needs_choice:
            by_id = {e.nomination_id: e for e in entries}
            pending.append({"category": category, "seats": result.seats_for_tied,
                            "tied": [by_id[k] for k in result.tied_at_cut],
                            "votes": counts.get(result.tied_at_cut[0], 0)})
        outcome.append((category, entries, result))
    if pending:
        raise NeedsChoice(pending)
    return counts, outcome


def close_stage(*, session: Session, actor, stage: PublicStage,
                choices: Mapping[int, Collection[int]] | None = None,
                now: datetime | None = None) -> int:
    """Count, freeze the results and advance the entries to the first jury round.
    Returns how many entries were added to the round."""
    now = now or utcnow()
    if stage.closed_at is not None:
        raise StageError(_l("The public stage is already closed."))
    if now < stage.closes_at:
        raise StageError(_l("The public stage is still open; it can be closed after its "
                            "closing time."))
    numbers = overall_numbers(session, stage)
    results: dict[str, Any] = {
        "kind": str(stage.kind), "closed_at": now.isoformat(), "votes": numbers.votes,
        "annulled": numbers.annulled, "voters": numbers.voters,
        "advance_per_category": stage.advance_per_category, "tie_rule": str(stage.tie_rule),
        "categories": [],
    }
    if stage.kind == StageKind.DISCUSSION:
        results["comments"] = session.scalar(
            select(func.count(StageComment.id)).where(StageComment.stage_id == stage.id,
                                                      StageComment.status == CommentStatus.APPROVED)
        ) or 0
        stage.results = results
        stage.closed_at, stage.closed_by_id = now, getattr(actor, "id", None)
        session.flush()
        audit.record(session, action="public_stage.close", object_type="public_stage",
                     object_id=stage.id, actor=actor, call_id=stage.call_id, after=results)
        _call_moves_on_to_judging(session, actor, stage, now)
        return 0
    counts, outcome = _compute(session, stage, choices)
    annulled_by_category = dict(session.execute(
        select(PublicVote.category_id, func.count(PublicVote.id))
        .where(PublicVote.stage_id == stage.id, PublicVote.annulled_at.is_not(None))
        .group_by(PublicVote.category_id)
    ).all())
    for category, entries, result in outcome:
        advanced, tied = set(result.advanced), set(result.tied_at_cut)
        by_id = {e.nomination_id: e for e in entries}
        rows = []
        for key in result.ordered:
            entry = by_id[key]
            entry.votes = counts.get(key, 0)
            entry.advanced = key in advanced
            entry.tied_at_cut = key in tied
            rows.append({"nomination_id": key, "reference": entry.nomination.reference,
                         "name": public_name(entry.nomination), "votes": entry.votes,
                         "advanced": entry.advanced, "tied": entry.tied_at_cut})
        results["categories"].append({
            "id": category.id, "code": category.code, **_category_names(category),
            "annulled": annulled_by_category.get(category.id, 0),
            "seats_for_tied": result.seats_for_tied,
            "chosen": sorted(choices.get(category.id, [])) if choices and tied else [],
            "entries": rows,
        })
    stage.results = results
    stage.closed_at, stage.closed_by_id = now, getattr(actor, "id", None)
    session.flush()
    audit.record(session, action="public_stage.close", object_type="public_stage",
                 object_id=stage.id, actor=actor, call_id=stage.call_id,
                 after={k: v for k, v in results.items() if k != "categories"}
                 | {"advanced": sorted(k for _c, _e, r in outcome for k in r.advanced),
                    "tied": sorted(k for _c, _e, r in outcome for k in r.tied_at_cut),
                    "choices": {str(k): sorted(v) for k, v in (choices or {}).items()}})
    _call_moves_on_to_judging(session, actor, stage, now)
    _record_advances(session, actor, stage, now)
    return advance_to_first_round(session=session, actor=actor, stage=stage)


def _call_moves_on_to_judging(session: Session, actor, stage: PublicStage,
                              now: datetime) -> None:
    """A call in its public stage goes on to the jury once the stage is closed, so the
    administrator doesn't have to remember a second step (other phases are left alone). The
    move is the lifecycle's own, audited like every other; its guard ("close the stage
    first") is what just happened, so it is not asked again."""
    from awards import lifecycle

    call = stage.call
    if call.status != CallStatus.PUBLIC_STAGE:
        return
    lifecycle.advance(session=session, call=call, action="judge", actor=actor, now=now,
                      check=False)


def _decider(session: Session, actor, stage: PublicStage) -> User | None:
    """Who a decision of the vote's close is recorded as taken by.

    The administrator who closed the stage; for the scheduled close (cron, no person), the
    administrator who last set the stage up (its closing time and entries are what made the
    close happen), read from the audit log; failing that (a stage written straight to the
    database), the first active administrator. ``Decision.decided_by_id`` stays NOT NULL: a
    decision always has a person answerable for it, and the audit log still says the close
    itself was the system's."""
    if getattr(actor, "id", None) is not None:
        return actor
    configured = session.scalar(
        select(AuditEvent.actor_id).where(AuditEvent.object_type == "public_stage",
                                          AuditEvent.object_id == str(stage.id),
                                          AuditEvent.actor_id.is_not(None))
        .order_by(AuditEvent.id.desc()).limit(1))
    user = session.get(User, configured) if configured is not None else None
    if user is not None and user.is_admin:
        return user
    return session.scalar(select(User).where(User.is_admin.is_(True), User.active.is_(True),
                                             User.deleted_at.is_(None))
                          .order_by(User.id).limit(1))


def _record_advances(session: Session, actor, stage: PublicStage, now: datetime) -> None:
    """An "advance" decision for each entry the vote sends on, the same record as advancing
    from a jury round (``ranking.services.advance``); ``round_id`` is empty: no jury round
    was left. Written at the close, whether or not the first round exists yet."""
    advanced = [e for e in stage.entries if e.advanced]
    if stage.kind != StageKind.VOTE or not advanced:
        return
    decider = _decider(session, actor, stage)
    if decider is None:  # no administrator at all: nobody to be answerable, nothing to record
        return
    for entry in advanced:
        session.add(Decision(call_id=stage.call_id, category_id=entry.category_id,
                             round_id=None, nomination_id=entry.nomination_id,
                             kind=DecisionKind.ADVANCE, note="", decided_by_id=decider.id,
                             decided_at=now))
    session.flush()
    audit.record(session, action="public_stage.decisions", object_type="public_stage",
                 object_id=stage.id, actor=actor, call_id=stage.call_id,
                 after={"kind": str(DecisionKind.ADVANCE), "decided_by": decider.id,
                        "nomination_ids": sorted(e.nomination_id for e in advanced)})


def advance_to_first_round(*, session: Session, actor, stage: PublicStage) -> int:
    """Apply the vote's outcome to the call's first round (by position), once: add the
    advanced entries and take out those that did not advance (added before the close, e.g.
    "all eligible"), with their assignments. An entry someone already reviewed there stays,
    and the audit says so. A round created after the close gets the outcome on the next run;
    once applied, the round is the administrators' again, so running it again changes
    nothing. Returns how many entries were added."""
    if stage.closed_at is None or stage.kind != StageKind.VOTE:
        return 0
    target = first_round(session, stage.call)
    if target is None or _outcome_applied(session, target):
        return 0
    advanced = {e.nomination_id for e in stage.entries if e.advanced}
    present = set(session.scalars(select(RoundEntry.nomination_id)
                                  .where(RoundEntry.round_id == target.id)))
    ids = sorted(advanced - present)
    now = utcnow()
    if ids:
        session.execute(insert(RoundEntry), [
            {"round_id": target.id, "nomination_id": nid, "added_at": now,
             "added_by_id": getattr(actor, "id", None)} for nid in ids
        ])
    removed, kept = _trim(session, target, present - advanced)
    audit.record(session, action="public_stage.advance", object_type="round",
                 object_id=target.id, actor=actor, call_id=stage.call_id,
                 after={"added": len(ids), "nomination_ids": ids, "public_stage_id": stage.id,
                        "removed": removed, "kept_reviewed": kept})
    return len(ids)


def _outcome_applied(session: Session, round_: Round) -> bool:
    return session.scalar(select(AuditEvent.id).where(
        AuditEvent.action == "public_stage.advance", AuditEvent.object_type == "round",
        AuditEvent.object_id == str(round_.id)).limit(1)) is not None


def _trim(session: Session, round_: Round, not_advanced: set[int]) -> tuple[list[int], list[int]]:
    """Take the entries that did not advance out of ``round_`` (their active assignments
    too), except those already reviewed there. Returns (removed, kept) nomination ids."""
    if not not_advanced:
        return [], []
    reviewed = set(session.scalars(
        select(Assignment.nomination_id).join(Review, Review.assignment_id == Assignment.id)
        .where(Assignment.round_id == round_.id, Assignment.nomination_id.in_(not_advanced))))
    removed = sorted(not_advanced - reviewed)
    if removed:
        session.execute(delete(RoundEntry).where(RoundEntry.round_id == round_.id,
                                                 RoundEntry.nomination_id.in_(removed)))
        session.execute(update(Assignment).where(
            Assignment.round_id == round_.id, Assignment.nomination_id.in_(removed),
            Assignment.status == AssignmentStatus.ACTIVE).values(
            status=AssignmentStatus.REMOVED), execution_options={"synchronize_session": False})
        session.expire_all()
    return removed, sorted(reviewed)


def due_stages(session: Session, now: datetime) -> list[PublicStage]:
    return list(session.scalars(
        select(PublicStage).where(PublicStage.closed_at.is_(None), PublicStage.closes_at <= now)
        .order_by(PublicStage.id)
    ))


def closed_stages(session: Session) -> list[PublicStage]:
    return list(session.scalars(
        select(PublicStage).where(PublicStage.closed_at.is_not(None),
                                  PublicStage.kind == StageKind.VOTE).order_by(PublicStage.id)
    ))
