"""Moving a juror's work: when they leave the panel, or when an administrator blocks them
from an entry (a conflict of interest), their unfinished assignments go to other jurors."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from awards import audit, policy
from awards.calls.models import Call
from awards.db import utcnow
from awards.enums import AssignmentStatus, ConflictSource, JurorStatus, RoundStatus
from awards.judging.assignment import ReassignmentPlan, reassign
from awards.jury.models import Assignment, Conflict, JuryMember, Panel, Round
from awards.jury.setup.assignment import (
    RoundContext,
    _end_assignments,
    _insert_assignments,
    load_context,
)
from awards.jury.setup.common import JurySetupError, PlanChanged, _member_snapshot, _require
from awards.nominations.models import Nomination

# ---- moving work: a juror leaves or is blocked ------------------------------------------------


@dataclass
class RoundMove:
    round: Round
    plan: ReassignmentPlan
    context: RoundContext
    kept_submitted: int = 0  # the leaving juror's submitted reviews, which stay

    @property
    def shortfall_count(self) -> int:
        return sum(s.missing for s in self.plan.shortfalls)


def _rounds_in_progress(session: Session, **where) -> list[Round]:
    query = select(Round).where(Round.status != RoundStatus.CLOSED)
    for name, value in where.items():
        query = query.where(getattr(Round, name) == value)
    return list(session.scalars(query.order_by(Round.position, Round.id)))


def _apply_move(session: Session, move: RoundMove, *, actor, reason: str) -> None:
    ctx = move.context
    _end_assignments(session, [ctx.active[pair] for pair in move.plan.removed])
    _insert_assignments(session, round=move.round, pairs=move.plan.new, actor=actor)
    session.flush()
    audit.record(session, action="jury.reassign", object_type="round",
                 object_id=move.round.id, actor=actor, call_id=move.round.call_id,
                 before={"removed": [list(p) for p in move.plan.removed]},
                 after={"reason": reason, "new": [list(p) for p in move.plan.new],
                        "shortfalls": move.shortfall_count})


def plan_member_leave(*, session: Session, member: JuryMember) -> list[RoundMove]:
    """Where the juror's unfinished work would go, per round of the panel that is not closed.
    Submitted reviews stay with the juror; the rest moves to the other jurors."""
    if member.user_id is None:
        return []
    moves = []
    for rnd in _rounds_in_progress(session, panel_id=member.panel_id):
        ctx = load_context(session, rnd)
        mine_submitted = {p for p in ctx.submitted if p[0] == member.user_id}
        # An entry withdrawn meanwhile is no longer judged: its assignments move nowhere.
        judged = {e.id for e in ctx.entries}
        movable = [p for p in ctx.active if p not in mine_submitted and p[1] in judged]
        if not any(p[0] == member.user_id for p in movable):
            continue
        plan = reassign(member.user_id, entries=ctx.entries, jurors=ctx.jurors,
                        assignments=movable, conflicts=ctx.blocked, seed=rnd.id)
        moves.append(RoundMove(rnd, plan, ctx, kept_submitted=len(mine_submitted)))
    return moves


def leave_digest(moves: list[RoundMove]) -> str:
    body = json.dumps([(m.round.id, sorted(m.plan.removed), sorted(m.plan.new)) for m in moves])
    return hashlib.sha256(body.encode()).hexdigest()


def remove_member(*, session: Session, actor, member: JuryMember,
                  digest: str | None = None) -> list[RoundMove]:
    """The juror leaves the panel: status ``left`` and their unfinished assignments are moved
    (exactly as previewed, when ``digest`` is given)."""
    if member.status == JurorStatus.LEFT:
        raise JurySetupError(_l("This juror has already left the panel."))
    moves = plan_member_leave(session=session, member=member)
    for move in moves:
        _require(session, actor, policy.Action.ASSIGN, move.round)
    if digest is not None and leave_digest(moves) != digest:
        raise PlanChanged(_l("Assignments changed since the preview, so nothing was saved. "
                             "Check the new preview and confirm again."))
    before = _member_snapshot(member)
    member.status = JurorStatus.LEFT
    member.left_at = utcnow()
    member.is_chair = False
    session.flush()
    audit.record(session, action="jury.member_leave", object_type="jury_member",
                 object_id=member.id, actor=actor, call_id=member.panel.call_id,
                 before=before, after=_member_snapshot(member))
    for move in moves:
        _apply_move(session, move, actor=actor, reason="juror_left")
    return moves


# ---- conflicts --------------------------------------------------------------------------------


def call_jurors(session: Session, call: Call) -> list[JuryMember]:
    """Members of the call's panels who have an account (the ones a conflict can name)."""
    return list(session.scalars(
        select(JuryMember).join(Panel, Panel.id == JuryMember.panel_id)
        .where(Panel.call_id == call.id, JuryMember.user_id.is_not(None))
        .options(selectinload(JuryMember.user), selectinload(JuryMember.panel))
        .order_by(JuryMember.email, JuryMember.id)
    ))


def block_juror(*, session: Session, actor, call: Call, juror_id: int, nomination_id: int,
                reason: str) -> tuple[Conflict, list[RoundMove]]:
    """An administrator's conflict of interest: the juror never gets the entry, and an
    assignment they already have to it (in a round not yet closed) ends and is given to
    someone else. Refused once the call's results are scheduled or published: the reviews
    that decided them stand (a correction of the decisions is the way to go)."""
    _require(session, actor, policy.Action.SET_UP_ROUND, call)
    nomination = session.get(Nomination, nomination_id)
    if nomination is None or nomination.call_id != call.id:
        raise JurySetupError(_l("No nomination of this call has this reference."),
                             field="reference")
    if juror_id not in {m.user_id for m in call_jurors(session, call)}:
        raise JurySetupError(_l("Choose a juror of this call."), field="juror_id")
    existing = session.scalar(select(Conflict).where(Conflict.user_id == juror_id,
                                                     Conflict.nomination_id == nomination_id))
    if existing is not None:
        raise JurySetupError(_l("A conflict of interest between this juror and this entry is "
                                "already recorded."), field="juror_id")
    conflict = Conflict(user_id=juror_id, nomination_id=nomination_id,
                        source=ConflictSource.ADMIN, reason=reason.strip(),
                        created_by_id=getattr(actor, "id", None))
    session.add(conflict)
    session.flush()
    audit.record(session, action="jury.conflict_add", object_type="conflict",
                 object_id=conflict.id, actor=actor, call_id=call.id,
                 after={"user_id": juror_id, "nomination_id": nomination_id,
                        "source": "admin", "reason": conflict.reason})
    round_ids = set(session.scalars(
        select(Assignment.round_id).join(Round, Round.id == Assignment.round_id)
        .where(Assignment.juror_id == juror_id, Assignment.nomination_id == nomination_id,
               Assignment.status == AssignmentStatus.ACTIVE,
               Round.status != RoundStatus.CLOSED, Round.call_id == call.id)
    ))
    moves = []
    for rnd in _rounds_in_progress(session, call_id=call.id):
        if rnd.id not in round_ids:
            continue
        ctx = load_context(session, rnd)
        # Even a submitted review moves: the conflict makes it one that must not count. An
        # entry withdrawn meanwhile is no longer judged: nobody takes it over.
        judged = {e.id for e in ctx.entries}
        plan = reassign(juror_id, entries=ctx.entries, jurors=ctx.jurors,
                        assignments=[p for p in ctx.active if p[1] in judged],
                        conflicts=ctx.blocked,
                        only_entries={nomination_id}, seed=rnd.id)
        move = RoundMove(rnd, plan, ctx)
        _apply_move(session, move, actor=actor, reason="conflict")
        moves.append(move)
    return conflict, moves


def remove_conflict(*, session: Session, actor, conflict: Conflict) -> None:
    """Lift an administrator's block. A conflict the juror declared is theirs to keep."""
    if conflict.source != ConflictSource.ADMIN:
        raise JurySetupError(_l("Only a block set by an administrator can be removed here; "
                                "the juror declared this conflict."))
    call_id = conflict.nomination.call_id
    before = {"user_id": conflict.user_id, "nomination_id": conflict.nomination_id,
              "source": "admin", "reason": conflict.reason}
    conflict_id = conflict.id
    session.delete(conflict)
    session.flush()
    audit.record(session, action="jury.conflict_remove", object_type="conflict",
                 object_id=conflict_id, actor=actor, call_id=call_id, before=before)
