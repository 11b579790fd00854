"""Who judges what in a round: the inputs of the pure ``awards.judging.assignment`` module
loaded in a fixed number of queries, the automatic plan (previewed, then saved exactly as
previewed) and assignments by hand.

Assignments are written with bulk statements (one INSERT for a whole plan), because an
automatic assignment of 5,000 entries x 3 reviews must save in seconds."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, selectinload

from awards import audit, policy
from awards.auth.models import User
from awards.db import utcnow
from awards.enums import AssignmentStatus, ConflictSource, JurorStatus, ReviewStatus, RoundStatus
from awards.i18n import localized
from awards.judging.assignment import AssignmentPlan, EntryToAssign, JurorToAssign, assign
from awards.jury.models import Assignment, Conflict, JuryMember, Review, Round, RoundEntry
from awards.jury.setup.common import (
    _NOT_JUDGED,
    JurySetupError,
    Pair,
    PlanChanged,
    _juror_label,
    _require,
)
from awards.nominations.models import Nomination
from awards.policy.conflicts import REASON_LABELS, Person, conflict_kinds, conflicted_ids

# ---- assignment inputs ------------------------------------------------------------------------


@dataclass
class RoundContext:
    """What the assignment functions need about one round, loaded in a fixed number of
    queries whatever its size."""

    round: Round
    entries: list[EntryToAssign]
    jurors: list[JurorToAssign]
    conflicts: set[Pair]  # every conflict of the jurors with the round's entries (the policy's)
    inactive: set[Pair]  # removed or recused assignments: never given back automatically
    active: dict[Pair, int]  # active assignment -> its id
    submitted: set[Pair]  # active assignments whose review is submitted

    @property
    def blocked(self) -> set[Pair]:
        return self.conflicts | self.inactive

    def digest(self, *extra: Any) -> str:
        data = [
            self.round.id, self.round.reviews_per_entry,
            [(e.id, e.category) for e in self.entries],
            [(j.id, sorted(j.categories) if j.categories is not None else None)
             for j in self.jurors],
            sorted(self.blocked), sorted(self.active), sorted(self.submitted), *extra,
        ]
        body = json.dumps(data, separators=(",", ":"), default=list)
        return hashlib.sha256(body.encode()).hexdigest()


def active_jurors(session: Session, panel_id: int | None) -> list[JuryMember]:
    if panel_id is None:
        return []
    return list(session.scalars(
        select(JuryMember)
        .where(JuryMember.panel_id == panel_id, JuryMember.status == JurorStatus.ACTIVE,
               JuryMember.user_id.is_not(None))
        .options(selectinload(JuryMember.categories), selectinload(JuryMember.user))
        .order_by(JuryMember.id)
    ))


def conflicted_pairs(session: Session, round: Round, users: Iterable[User | None],
                     nomination_ids: Collection[int]) -> set[Pair]:
    """(juror, entry) pairs among these people and entries that are in conflict, found as well
    as declared (``awards.policy.conflicts``): a hard constraint for every assignment."""
    wanted = set(nomination_ids)
    pairs: set[Pair] = set()
    for user in users:
        if user is None or not wanted:
            continue
        pairs.update((user.id, nid) for nid in
                     conflicted_ids(session, Person.of(user), round.call_id) & wanted)
    return pairs


def conflict_reasons(session: Session, pairs: Iterable[Pair]) -> dict[Pair, list[str]]:
    """Why each pair is in conflict, in the reader's language, for the administrator's
    pages."""
    pairs = list(pairs)
    if not pairs:
        return {}
    users = {u.id: u for u in session.scalars(
        select(User).where(User.id.in_({j for j, _e in pairs})))}
    nominations = {n.id: n for n in session.scalars(
        select(Nomination).where(Nomination.id.in_({e for _j, e in pairs})))}
    return {(j, e): [str(REASON_LABELS[k]) for k in
                     conflict_kinds(session, Person.of(users[j]), nominations[e])]
            for j, e in pairs if j in users and e in nominations}


def load_context(session: Session, round: Round) -> RoundContext:
    entries = [
        EntryToAssign(row.nomination_id, row.category_id)
        for row in session.execute(
            select(RoundEntry.nomination_id, Nomination.category_id)
            .join(Nomination, Nomination.id == RoundEntry.nomination_id)
            .where(RoundEntry.round_id == round.id, Nomination.status.not_in(_NOT_JUDGED))
            .order_by(RoundEntry.nomination_id)
        )
    ]
    members = active_jurors(session, round.panel_id)
    jurors = [
        JurorToAssign(m.user_id, frozenset(c.id for c in m.categories) or None)
        for m in members
    ]
    conflicts = conflicted_pairs(session, round, [m.user for m in members],
                                 {e.id for e in entries})
    active: dict[Pair, int] = {}
    inactive: set[Pair] = set()
    submitted: set[Pair] = set()
    for row in session.execute(
        select(Assignment.id, Assignment.juror_id, Assignment.nomination_id, Assignment.status,
               Review.status.label("review_status"))
        .outerjoin(Review, Review.assignment_id == Assignment.id)
        .where(Assignment.round_id == round.id)
    ):
        pair = (row.juror_id, row.nomination_id)
        if row.status == AssignmentStatus.ACTIVE:
            active[pair] = row.id
            if row.review_status == ReviewStatus.SUBMITTED:
                submitted.add(pair)
        else:
            inactive.add(pair)
    return RoundContext(round, entries, jurors, conflicts, inactive, active, submitted)


def _insert_assignments(session: Session, *, round: Round, pairs: Iterable[Pair],
                        actor) -> int:
    now = utcnow()
    rows = [{"round_id": round.id, "juror_id": juror_id, "nomination_id": entry_id,
             "status": AssignmentStatus.ACTIVE, "assigned_at": now,
             "assigned_by_id": getattr(actor, "id", None), "recusal_reason": ""}
            for juror_id, entry_id in pairs]
    if rows:
        session.execute(insert(Assignment), rows)
    return len(rows)


def _end_assignments(session: Session, ids: Collection[int]) -> None:
    ids = sorted(ids)
    for start in range(0, len(ids), 500):
        session.execute(
            update(Assignment).where(Assignment.id.in_(ids[start:start + 500]))
            .values(status=AssignmentStatus.REMOVED),
            execution_options={"synchronize_session": False},
        )
    # ORM copies loaded earlier in this session must not show the old status.
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Assignment) and obj.id in ids:
            session.expire(obj)


# ---- automatic assignment ---------------------------------------------------------------------


@dataclass
class AutoPlan:
    context: RoundContext
    plan: AssignmentPlan
    seed: int
    digest: str

    @property
    def new_count(self) -> int:
        return len(self.plan.new)

    def entry_counts(self) -> dict[int, int]:
        """How many active jurors each entry has after the plan."""
        counts: Counter = Counter({e.id: 0 for e in self.context.entries})
        for _juror, entry in self.context.active:
            if entry in counts:
                counts[entry] += 1
        for _juror, entry in self.plan.new:
            counts[entry] += 1
        return dict(counts)

    def histogram(self) -> list[tuple[int, int]]:
        """(number of jurors, number of entries with that many), ascending."""
        return sorted(Counter(self.entry_counts().values()).items())

    def new_by_juror(self) -> Counter:
        return Counter(juror for juror, _entry in self.plan.new)


def plan_assignment(*, session: Session, round: Round, seed: int = 0) -> AutoPlan:
    """What "assign automatically" would add: existing active assignments are kept, conflicts,
    earlier removals and recusals and the jurors' categories are respected."""
    ctx = load_context(session, round)
    plan = assign(ctx.entries, ctx.jurors, reviews_per_entry=round.reviews_per_entry,
                  conflicts=ctx.blocked, existing=ctx.active.keys(), seed=seed)
    return AutoPlan(ctx, plan, seed, ctx.digest(seed, sorted(plan.new)))


def save_assignment(*, session: Session, actor, round: Round, seed: int,
                    digest: str) -> AutoPlan:
    """Store exactly the plan the administrator previewed. The plan is computed again with
    the same seed (the algorithm is deterministic) and must have the same digest: if entries,
    jurors, conflicts or assignments changed in between, nothing is saved."""
    _require(session, actor, policy.Action.ASSIGN, round)
    if round.status == RoundStatus.CLOSED:
        raise JurySetupError(_l("The round is closed; assignments can no longer change."))
    auto = plan_assignment(session=session, round=round, seed=seed)
    if auto.digest != digest:
        raise PlanChanged(_l("Entries, jurors, conflicts or assignments changed since the "
                             "preview, so nothing was saved. Check the new preview and save "
                             "again."))
    _insert_assignments(session, round=round, pairs=auto.plan.new, actor=actor)
    session.flush()
    audit.record(session, action="jury.assign_auto", object_type="round", object_id=round.id,
                 actor=actor, call_id=round.call_id,
                 after={"new": auto.new_count, "entries": len(auto.context.entries),
                        "jurors": len(auto.context.jurors), "kept": len(auto.context.active),
                        "shortfalls": len(auto.plan.shortfalls),
                        "reviews_per_entry": round.reviews_per_entry, "seed": seed})
    return auto


# ---- manual assignment ------------------------------------------------------------------------


def _conflict_message(conflict: Conflict, name: str):
    if conflict.source == ConflictSource.DECLARED:
        return _l("%(name)s declared a conflict of interest with this entry.", name=name)
    return _l("An administrator has blocked %(name)s from this entry.", name=name)


def add_assignment(*, session: Session, actor, round: Round, nomination_id: int,
                   juror_id: int) -> Assignment:
    """One juror to one entry, by hand. Refused for a pair in conflict of interest, however
    the request was made (the page never offers such a pair)."""
    _require(session, actor, policy.Action.ASSIGN, round)
    if round.status == RoundStatus.CLOSED:
        raise JurySetupError(_l("The round is closed; assignments can no longer change."))
    entry = session.scalar(
        select(RoundEntry).where(RoundEntry.round_id == round.id,
                                 RoundEntry.nomination_id == nomination_id)
        .options(selectinload(RoundEntry.nomination))
    )
    if entry is None:
        raise JurySetupError(_l("This entry is not in the round."), field="nomination_id")
    member = session.scalar(
        select(JuryMember).where(JuryMember.panel_id == round.panel_id,
                                 JuryMember.user_id == juror_id)
    ) if round.panel_id is not None else None
    if member is None or not member.is_active:
        raise JurySetupError(_l("Only jurors of this round's panel who have accepted their "
                                "invitation can be assigned."), field="juror_id")
    name = _juror_label(member.user, member)
    conflict = session.scalar(select(Conflict).where(Conflict.user_id == juror_id,
                                                     Conflict.nomination_id == nomination_id))
    if conflict is not None:
        raise JurySetupError(_conflict_message(conflict, name), field="juror_id")
    nomination = entry.nomination
    kinds = conflict_kinds(session, Person.of(member.user), nomination)
    if kinds:
        raise JurySetupError(_l(
            "%(name)s has a conflict of interest with this entry (%(reasons)s), so they cannot "
            "judge it.", name=name, reasons=", ".join(str(REASON_LABELS[k]) for k in kinds)),
            field="juror_id")
    if not member.covers_category(nomination.category_id):
        raise JurySetupError(
            _l("%(name)s does not judge the category “%(category)s”.", name=name,
               category=localized(nomination.category, "name") or nomination.category.code),
            field="juror_id")
    existing = session.scalar(select(Assignment).where(
        Assignment.round_id == round.id, Assignment.nomination_id == nomination_id,
        Assignment.juror_id == juror_id))
    if existing is not None and existing.status == AssignmentStatus.ACTIVE:
        raise JurySetupError(_l("%(name)s is already assigned to this entry.", name=name),
                             field="juror_id")
    if existing is not None and existing.status == AssignmentStatus.RECUSED:
        raise JurySetupError(_l("%(name)s recused themselves from this entry.", name=name),
                             field="juror_id")
    if existing is not None:
        before = {"status": AssignmentStatus(existing.status).value}
        existing.status = AssignmentStatus.ACTIVE
        existing.assigned_at = utcnow()
        existing.assigned_by_id = getattr(actor, "id", None)
        assignment = existing
    else:
        before = None
        assignment = Assignment(round_id=round.id, nomination_id=nomination_id,
                                juror_id=juror_id, status=AssignmentStatus.ACTIVE,
                                assigned_by_id=getattr(actor, "id", None))
        session.add(assignment)
    session.flush()
    audit.record(session, action="jury.assignment_add", object_type="assignment",
                 object_id=assignment.id, actor=actor, call_id=round.call_id, before=before,
                 after={"round_id": round.id, "nomination_id": nomination_id,
                        "juror_id": juror_id, "status": "active"})
    return assignment


def remove_assignment(*, session: Session, actor, assignment: Assignment) -> None:
    _require(session, actor, policy.Action.ASSIGN, assignment.round)
    if assignment.round.status == RoundStatus.CLOSED:
        raise JurySetupError(_l("The round is closed; assignments can no longer change."))
    if assignment.status != AssignmentStatus.ACTIVE:
        raise JurySetupError(_l("This assignment has already ended."))
    if assignment.review is not None and assignment.review.is_submitted:
        raise JurySetupError(_l("The juror has already submitted this review; block the juror "
                                "from the entry as a conflict of interest if it must not "
                                "count."))
    assignment.status = AssignmentStatus.REMOVED
    session.flush()
    audit.record(session, action="jury.assignment_remove", object_type="assignment",
                 object_id=assignment.id, actor=actor, call_id=assignment.round.call_id,
                 before={"status": "active"},
                 after={"status": "removed", "round_id": assignment.round_id,
                        "nomination_id": assignment.nomination_id,
                        "juror_id": assignment.juror_id})
