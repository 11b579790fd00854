"""Rounds of a call: creating and editing them, opening and closing them through their
confirmation page, and the entries each round judges."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from awards import audit, policy
from awards.boundary import whole_number
from awards.calls.models import Call
from awards.calls.services import _apply, snapshot
from awards.db import utcnow
from awards.enums import (
    DecisionKind,
    JurorStatus,
    NominationStatus,
    RoundKind,
    RoundStatus,
    StageKind,
)
from awards.jury.models import Panel, Round, RoundEntry
from awards.jury.setup.common import _NOT_JUDGED, JurySetupError, NotAllowed, _require, refusal
from awards.jury.setup.progress import JurorProgress, round_progress
from awards.jury.setup.round_mail import announce_round_open
from awards.jury.setup.rubrics import ensure_rubric
from awards.nominations.models import Nomination
from awards.public_stage.models import PublicStage
from awards.ranking.models import Decision

ROUND_FIELDS = (
    "name_kk", "name_ru", "name_en", "kind", "opens_at", "closes_at", "blind",
    "reviews_per_entry", "panel_id", "show_scores_to_chairs", "status",
)


# Closing is final: jurors' reviews are frozen and the ranking is computed from them.
ROUND_TRANSITIONS: dict[RoundStatus, tuple[RoundStatus, ...]] = {
    RoundStatus.DRAFT: (RoundStatus.OPEN, RoundStatus.CLOSED),
    RoundStatus.OPEN: (RoundStatus.CLOSED, RoundStatus.DRAFT),
    RoundStatus.CLOSED: (),
}


def allowed_round_statuses(current: RoundStatus) -> list[RoundStatus]:
    """The statuses the round's settings form offers: closing is not among them, because it
    is final and goes through its confirmation page (``move_round``)."""
    current = RoundStatus(current)
    return [current, *(s for s in ROUND_TRANSITIONS[current] if s != RoundStatus.CLOSED)]


# ---- rounds -----------------------------------------------------------------------------------


def _check_round_values(session: Session, call: Call, values: Mapping[str, Any]) -> None:
    opens, closes = values.get("opens_at"), values.get("closes_at")
    if opens and closes and closes <= opens:
        raise JurySetupError(_l("The closing time must be after the opening time."),
                             field="closes_at")
    panel_id = values.get("panel_id")
    if panel_id is not None:
        panel = session.get(Panel, panel_id)
        if panel is None or panel.call_id != call.id:
            raise JurySetupError(_l("Choose a panel of this call."), field="panel_id")


def create_round(*, session: Session, actor, call: Call, values: Mapping[str, Any]) -> Round:
    _require(session, actor, policy.Action.SET_UP_ROUND, call)
    values = dict(values)
    status = RoundStatus(values.pop("status", RoundStatus.DRAFT))
    if status == RoundStatus.CLOSED:
        raise JurySetupError(_l("A new round cannot start closed."), field="status")
    if status == RoundStatus.OPEN:
        _require(session, actor, policy.Action.OPEN_ROUND, call)
    _check_round_values(session, call, values)
    position = (session.scalar(select(func.max(Round.position)).where(Round.call_id == call.id))
                or 0) + 1
    rnd = Round(call_id=call.id, position=position, status=status)
    _apply(rnd, ROUND_FIELDS, values)
    session.add(rnd)
    session.flush()
    if rnd.kind == RoundKind.SCORING:
        ensure_rubric(session=session, round=rnd)
    audit.record(session, action="jury.round_create", object_type="round", object_id=rnd.id,
                 actor=actor, call_id=call.id,
                 after={**snapshot(rnd, ROUND_FIELDS), "position": position,
                        "rubric_id": rnd.rubric_id})
    announce_round_open(session=session, actor=actor, round=rnd)
    return rnd


def update_round(*, session: Session, actor, round: Round, values: Mapping[str, Any]) -> bool:
    values = dict(values)
    _require(session, actor, policy.Action.SET_UP_ROUND, round)
    if "status" in values:
        new = RoundStatus(values["status"])
        old = RoundStatus(round.status)
        if new != old and new == RoundStatus.OPEN:
            _require(session, actor, policy.Action.OPEN_ROUND, round)
        if new != old and new not in ROUND_TRANSITIONS[old]:
            if old == RoundStatus.CLOSED:
                message = _l("The round is closed; closing is final.")
            else:
                message = _l("This change of status is not allowed.")
            raise JurySetupError(message, field="status")
    _check_round_values(session, round.call, {
        "opens_at": values.get("opens_at", round.opens_at),
        "closes_at": values.get("closes_at", round.closes_at),
        "panel_id": values.get("panel_id"),
    })
    before, after = _apply(round, ROUND_FIELDS, values)
    if not after:
        return False
    session.flush()
    if round.kind == RoundKind.SCORING:
        ensure_rubric(session=session, round=round)
    audit.record(session, action="jury.round_update", object_type="round", object_id=round.id,
                 actor=actor, call_id=round.call_id, before=before, after=after)
    if "status" in after:
        announce_round_open(session=session, actor=actor, round=round)
    return True


# ---- opening and closing a round --------------------------------------------------------------

# The moves of a round that go through a confirmation page, by the name used in its URL.
ROUND_MOVES: dict[str, RoundStatus] = {"open": RoundStatus.OPEN, "close": RoundStatus.CLOSED}


@dataclass
class RoundMoveSummary:
    """What opening or closing a round will do, for its confirmation page. ``blockers`` say
    why it cannot be done now (empty when it can), ``status`` is the HTTP answer then."""

    round: Round
    action: str
    target: RoundStatus
    blockers: list = field(default_factory=list)
    status: int = 200
    entries: int = 0
    jurors: int = 0  # active members of the round's panel
    assigned: int = 0
    submitted: int = 0
    drafts: int = 0
    unfinished: list[JurorProgress] = field(default_factory=list)

    @property
    def missing(self) -> int:
        """Active assignments without any review, not even a draft."""
        return self.assigned - self.submitted - self.drafts


def _round_move_refusal(session: Session, actor, round: Round,
                        action: str) -> policy.Decision | None:
    target = ROUND_MOVES[action]
    current = RoundStatus(round.status)
    decision = refusal(session, actor, policy.Action.SET_UP_ROUND, round)
    if decision is None and target == RoundStatus.OPEN:
        decision = refusal(session, actor, policy.Action.OPEN_ROUND, round)
    if decision is not None:
        return decision
    if current == target:
        reason = (_l("The round is already open.") if target == RoundStatus.OPEN
                  else _l("The round is already closed."))
        return policy.Decision(False, reason, 409)
    if target not in ROUND_TRANSITIONS[current]:
        return policy.Decision(False, _l("The round is closed; closing is final."), 409)
    return None


def preview_round_move(*, session: Session, actor, round: Round,
                       action: str) -> RoundMoveSummary:
    """What ``move_round`` would do now, changing nothing: the reviews submitted, still drafts
    or missing, the jurors with unfinished work, and what blocks the move."""
    summary = RoundMoveSummary(round, action, ROUND_MOVES[action])
    decision = _round_move_refusal(session, actor, round, action)
    if decision is not None:
        summary.blockers, summary.status = [decision.reason], decision.status
    progress = round_progress(session=session, round=round)
    summary.entries = session.scalar(
        select(func.count(RoundEntry.id))
        .join(Nomination, Nomination.id == RoundEntry.nomination_id)
        .where(RoundEntry.round_id == round.id, Nomination.status.not_in(_NOT_JUDGED))) or 0
    summary.jurors = sum(1 for j in progress.jurors if j.status == JurorStatus.ACTIVE.value)
    summary.assigned = progress.assigned
    summary.submitted = progress.submitted
    summary.drafts = sum(j.draft for j in progress.jurors)
    summary.unfinished = [j for j in progress.jurors if j.pending]
    return summary


def move_round(*, session: Session, actor, round: Round, action: str) -> RoundMoveSummary:
    """Open a draft round to its jurors, or close a round for good: the jurors' reviews are
    frozen and only the submitted ones count. Refused (``NotAllowed``, 409) once the call's
    results are scheduled, outside the phase that allows it, or when the round is not in a
    state to move; a round changed by someone else meanwhile is refused too."""
    from sqlalchemy.orm.exc import StaleDataError

    summary = preview_round_move(session=session, actor=actor, round=round, action=action)
    if summary.blockers:
        raise NotAllowed(policy.Decision(False, summary.blockers[0], summary.status))
    before = RoundStatus(round.status)
    round.status = summary.target
    try:
        session.flush()
    except StaleDataError:
        raise NotAllowed(policy.Decision(False, _l(
            "Someone else changed this round at the same time. Nothing was saved."),
            409)) from None
    audit.record(session, action=f"jury.round_{action}", object_type="round",
                 object_id=round.id, actor=actor, call_id=round.call_id,
                 before={"status": before.value},
                 after={"status": summary.target.value, "entries": summary.entries,
                        "submitted": summary.submitted, "drafts": summary.drafts,
                        "missing": summary.missing})
    announce_round_open(session=session, actor=actor, round=round)
    return summary


# ---- round entries ----------------------------------------------------------------------------


def first_round(session: Session, call: Call) -> Round | None:
    return session.scalar(select(Round).where(Round.call_id == call.id)
                          .order_by(Round.position, Round.id).limit(1))


def add_entries(*, session: Session, actor, round: Round,
                nomination_ids: Collection[int] | None = None) -> int:
    """Add eligible nominations of the round's call: all of them (``nomination_ids`` None,
    first round only) or those chosen. Entries already in the round are left as they are.
    Returns how many were added.

    After a people's vote, "all" means all the vote sent on: the entries with an active
    "advance" decision from the vote, not every eligible one. Later rounds take only the
    entries chosen for them (advanced from the round before, or added by reference)."""
    _require(session, actor, policy.Action.SET_UP_ROUND, round)
    call = round.call
    query = select(Nomination.id).where(Nomination.call_id == call.id,
                                        Nomination.status == NominationStatus.ELIGIBLE)
    if nomination_ids is None:
        first = first_round(session, call)
        if first is None or first.id != round.id:
            raise JurySetupError(_l(
                "All eligible nominations can only be added to the first round; later rounds "
                "take the entries chosen for them."))
        if vote_closed(session, call):
            query = query.where(Nomination.id.in_(_advanced_by_vote(call)))
    else:
        wanted = set(nomination_ids)
        if not wanted:
            raise JurySetupError(_l("Choose at least one nomination."), field="references")
        found = set(session.scalars(query.where(Nomination.id.in_(wanted))))
        if found != wanted:
            raise JurySetupError(_l("Only eligible nominations of this call can be added."),
                                 field="references")
        query = query.where(Nomination.id.in_(wanted))
    present = select(RoundEntry.nomination_id).where(RoundEntry.round_id == round.id)
    ids = sorted(session.scalars(query.where(Nomination.id.not_in(present))))
    if ids:
        now = utcnow()
        session.execute(insert(RoundEntry), [
            {"round_id": round.id, "nomination_id": nid, "added_at": now,
             "added_by_id": getattr(actor, "id", None)} for nid in ids
        ])
        audit.record(session, action="jury.entries_add", object_type="round",
                     object_id=round.id, actor=actor, call_id=call.id,
                     after={"added": len(ids), "nomination_ids": ids if len(ids) <= 50 else None,
                            "all_eligible": nomination_ids is None})
    return len(ids)


def vote_closed(session: Session, call: Call) -> bool:
    """Whether the call had a people's vote, now closed (its outcome decides the first
    round's entries)."""
    return session.scalar(select(PublicStage.id).where(
        PublicStage.call_id == call.id, PublicStage.kind == StageKind.VOTE,
        PublicStage.closed_at.is_not(None))) is not None


def _advanced_by_vote(call: Call):
    """The entries the call's people's vote sent on (active "advance" decisions without a
    round), as a subquery."""
    return select(Decision.nomination_id).where(
        Decision.call_id == call.id, Decision.kind == DecisionKind.ADVANCE,
        Decision.round_id.is_(None), Decision.revoked_at.is_(None))


def find_nominations(session: Session, call: Call,
                     tokens: Iterable[str]) -> tuple[list[int], list[str]]:
    """Nomination ids for references (VOY-2026-00042) or plain ids typed by an administrator;
    returns (ids found, tokens not found)."""
    tokens = [t.strip() for t in tokens if t.strip()]
    refs = [t.upper() for t in tokens if whole_number(t) is None]
    numbers = [n for t in tokens if (n := whole_number(t)) is not None]
    rows = session.execute(
        select(Nomination.id, Nomination.reference).where(
            Nomination.call_id == call.id,
            (Nomination.reference.in_(refs)) | (Nomination.id.in_(numbers)),
        )
    ).all()
    by_ref = {r.reference: r.id for r in rows if r.reference}
    by_id = {r.id for r in rows}
    found, missing = [], []
    for token in tokens:
        number = whole_number(token)
        nid = number if number in by_id else by_ref.get(token.upper())
        if nid is None:
            missing.append(token)
        elif nid not in found:
            found.append(nid)
    return found, missing
