"""The administrator's to-do list: for each active call, what needs doing now.

Read in a fixed number of grouped queries whatever the number of calls, entries, reviews or
decisions (``tests/integration/test_admin_todo.py`` counts them): each count is grouped by
call (or by round), never read call by call. What an administrator may do in the call's phase
is the policy's answer (``awards.policy``): an item leads to a step only when that step is
allowed now (screening in the screening phase, publishing from deliberation, and so on).

Nothing here writes; the page (``admin.dashboard``) turns each item into a sentence and a
link."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased, joinedload

from awards import policy
from awards.calls.models import Call
from awards.enums import (
    AssignmentStatus,
    CallStatus,
    DecisionKind,
    NominationStatus,
    PublicationStatus,
    ReviewStatus,
    RoundKind,
    RoundStatus,
)
from awards.jury.models import Assignment, Conflict, Review, Round
from awards.nominations.models import Nomination
from awards.public_stage.models import PublicStage
from awards.ranking.models import Decision
from awards.results.models import Citation, Publication

# A call in these phases has nothing left for the desk (not yet set up, or done with).
INACTIVE = (CallStatus.DRAFT, CallStatus.PUBLISHED, CallStatus.ARCHIVED)
# Entries still in competition: a category holding one needs a winner.
COMPETING = (NominationStatus.SUBMITTED, NominationStatus.ELIGIBLE)
# Entries whose nominee's consent is still awaited matter only while they may go on.
CONSENT_MATTERS = (NominationStatus.SUBMITTED, NominationStatus.ELIGIBLE,
                   NominationStatus.CHANGES_REQUESTED)
LANGS = ("kk", "ru", "en")


@dataclass
class Item:
    """One thing to do. ``kind`` names it (the page words it), ``count`` how many, ``when`` a
    deadline or a publication time, ``target`` the id the link needs (a round, or the call)."""

    kind: str
    count: int = 0
    when: datetime | None = None
    target: int | None = None
    name: object = None  # a round, when the item is about one


@dataclass
class CallTodo:
    call: Call
    items: list[Item] = field(default_factory=list)
    ranking_round_id: int | None = None  # where winners are decided, if anywhere


# Kinds, in the order a call's life meets them.
KINDS = ("screen", "consent", "conflicts", "jurors_behind", "public_stage", "public_stage_ended",
         "commission", "decide", "no_winner", "citations", "publish", "scheduled")


def _counts(session: Session, call_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Per call: (entries waiting for screening, nominees' consents still awaited)."""
    to_screen = case((Nomination.status == NominationStatus.SUBMITTED, 1), else_=0)
    consent_missing = case((and_(Nomination.nominee_consent_required.is_(True),
                                 Nomination.nominee_consent_at.is_(None),
                                 Nomination.nominee_declined_at.is_(None),
                                 Nomination.status.in_(CONSENT_MATTERS)), 1), else_=0)
    rows = session.execute(
        select(Nomination.call_id, func.sum(to_screen), func.sum(consent_missing))
        .where(Nomination.call_id.in_(call_ids)).group_by(Nomination.call_id))
    return {call_id: (int(a or 0), int(b or 0)) for call_id, a, b in rows}


def _open_rounds(session: Session, call_ids: list[int]) -> list[tuple[Round, int, int]]:
    """Open rounds (scoring, vote, commission) with, for the jury's rounds, the assigned
    reviews not yet submitted and how many jurors hold them (counted in those rounds only)."""
    open_round = aliased(Round)
    pending = (select(Assignment.round_id.label("round_id"),
                      func.count(Assignment.id).label("reviews"),
                      func.count(func.distinct(Assignment.juror_id)).label("jurors"))
               .join(open_round, open_round.id == Assignment.round_id)
               .outerjoin(Review, Review.assignment_id == Assignment.id)
               .where(open_round.call_id.in_(call_ids), open_round.status == RoundStatus.OPEN,
                      Assignment.status == AssignmentStatus.ACTIVE,
                      or_(Review.id.is_(None), Review.status != ReviewStatus.SUBMITTED))
               .group_by(Assignment.round_id).subquery())
    rows = session.execute(
        select(Round, func.coalesce(pending.c.reviews, 0), func.coalesce(pending.c.jurors, 0))
        .outerjoin(pending, pending.c.round_id == Round.id)
        .where(Round.call_id.in_(call_ids), Round.status == RoundStatus.OPEN)
        .order_by(Round.position, Round.id))
    return [(r, int(reviews), int(jurors)) for r, reviews, jurors in rows]


def _conflicts(session: Session, call_ids: list[int]) -> dict[int, int]:
    """Per call: conflicts of interest whose juror still holds an active assignment for the
    entry (in any round); such reviews never count, so the entry needs another juror."""
    rows = session.execute(
        select(Nomination.call_id, func.count(func.distinct(Conflict.id)))
        .select_from(Assignment)
        .join(Conflict, and_(Conflict.user_id == Assignment.juror_id,
                             Conflict.nomination_id == Assignment.nomination_id))
        .join(Nomination, Nomination.id == Assignment.nomination_id)
        .where(Nomination.call_id.in_(call_ids), Assignment.status == AssignmentStatus.ACTIVE)
        .group_by(Nomination.call_id))
    return dict(rows.all())


def _awards(session: Session, call_ids: list[int]) -> dict[int, list[tuple[int, bool]]]:
    """Per call, each active award decision: (category id, its citation is complete)."""
    complete = and_(*(func.length(func.trim(getattr(Citation, f"text_{lang}"))) > 0
                      for lang in LANGS))
    rows = session.execute(
        select(Decision.call_id, Decision.category_id,
               case((complete, 1), else_=0))
        .outerjoin(Citation, Citation.nomination_id == Decision.nomination_id)
        .where(Decision.call_id.in_(call_ids), Decision.kind == DecisionKind.AWARD,
               Decision.revoked_at.is_(None)))
    out: dict[int, list[tuple[int, bool]]] = {}
    for call_id, category_id, done in rows:
        out.setdefault(call_id, []).append((category_id, bool(done)))
    return out


def _competing(session: Session, call_ids: list[int]) -> dict[int, set[int]]:
    out: dict[int, set[int]] = {}
    for call_id, category_id in session.execute(
            select(Nomination.call_id, Nomination.category_id)
            .where(Nomination.call_id.in_(call_ids), Nomination.status.in_(COMPETING))
            .distinct()):
        out.setdefault(call_id, set()).add(category_id)
    return out


def _scheduled(session: Session, call_ids: list[int]) -> dict[int, datetime]:
    rows = session.execute(
        select(Publication.call_id, func.min(Publication.scheduled_for))
        .where(Publication.call_id.in_(call_ids),
               Publication.status == PublicationStatus.SCHEDULED)
        .group_by(Publication.call_id))
    return dict(rows.all())


def _stages(session: Session, call_ids: list[int]) -> dict[int, PublicStage]:
    return {s.call_id: s for s in session.scalars(
        select(PublicStage).where(PublicStage.call_id.in_(call_ids),
                                  PublicStage.closed_at.is_(None)))}


def _last_rounds(session: Session, call_ids: list[int]) -> dict[int, int]:
    """Per call, its last jury round (where the final ranking and the winners are)."""
    out: dict[int, int] = {}
    for call_id, round_id in session.execute(
            select(Round.call_id, Round.id)
            .where(Round.call_id.in_(call_ids), Round.kind == RoundKind.SCORING)
            .order_by(Round.call_id, Round.position, Round.id)):
        out[call_id] = round_id
    return out


def _allowed(viewer: policy.Viewer, action: policy.Action, call: Call, now: datetime) -> bool:
    return policy.allows(viewer, action, call, now=now).ok


def desk(*, session: Session, viewer: policy.Viewer, now: datetime,
         calls: list[Call] | None = None) -> list[CallTodo]:
    """What needs doing now in each active call (newest first), a call with nothing due
    included with no items. A fixed number of queries whatever the number of calls.
    ``calls``: every call, newest first, when the page has read them already."""
    if calls is None:
        calls = list(session.scalars(
            select(Call).options(joinedload(Call.programme))
            .where(Call.status.not_in(INACTIVE))
            .order_by(Call.year.desc(), Call.id.desc())))
    calls = [c for c in calls if CallStatus(c.status) not in INACTIVE]
    if not calls:
        return []
    ids = [c.id for c in calls]
    counts = _counts(session, ids)
    rounds = _open_rounds(session, ids)
    conflicts = _conflicts(session, ids)
    awards = _awards(session, ids)
    competing = _competing(session, ids)
    scheduled = _scheduled(session, ids)
    stages = _stages(session, ids)
    last_rounds = _last_rounds(session, ids)

    out = []
    for call in calls:
        todo = CallTodo(call, ranking_round_id=last_rounds.get(call.id))
        items = todo.items
        to_screen, consents = counts.get(call.id, (0, 0))
        if to_screen and _allowed(viewer, policy.Action.SCREEN, call, now):
            items.append(Item("screen", to_screen, target=call.id))
        if consents and CallStatus(call.status) not in policy.FROZEN_PHASES:
            items.append(Item("consent", consents, target=call.id))
        if conflicts.get(call.id) and _allowed(viewer, policy.Action.ASSIGN, call, now):
            items.append(Item("conflicts", conflicts[call.id], target=call.id))
        for round_, reviews, jurors in rounds:
            if round_.call_id != call.id:
                continue
            if round_.kind == RoundKind.COMMISSION:
                items.append(Item("commission", when=round_.closes_at, target=round_.id,
                                  name=round_))
            elif reviews:
                items.append(Item("jurors_behind", reviews, when=round_.closes_at,
                                  target=round_.id, name=(round_, jurors)))
        stage = stages.get(call.id)
        if stage is not None and stage.opens_at <= now:
            kind = "public_stage" if now < stage.closes_at else "public_stage_ended"
            items.append(Item(kind, when=stage.closes_at, target=call.id))
        decided = awards.get(call.id, [])
        may_decide = _allowed(viewer, policy.Action.DECIDE, call, now)
        if may_decide and todo.ranking_round_id is not None:
            undecided = competing.get(call.id, set()) - {c for c, _ in decided}
            if not decided and CallStatus(call.status) != CallStatus.JUDGING:
                items.append(Item("decide", target=todo.ranking_round_id))
            elif decided and undecided:
                items.append(Item("no_winner", len(undecided), target=todo.ranking_round_id))
        missing = sum(1 for _, done in decided if not done)
        if missing and CallStatus(call.status) not in (CallStatus.PUBLISHED,
                                                       CallStatus.ARCHIVED,
                                                       CallStatus.RESULTS_SCHEDULED):
            items.append(Item("citations", missing, target=call.id))
        if call.id in scheduled:
            items.append(Item("scheduled", when=scheduled[call.id], target=call.id))
        elif (decided and not missing and _allowed(viewer, policy.Action.PUBLISH, call, now)
              and not (competing.get(call.id, set()) - {c for c, _ in decided})):
            items.append(Item("publish", target=call.id))
        items.sort(key=lambda i: KINDS.index(i.kind))
        out.append(todo)
    return out
