"""The decisions taken on a ranking: advancing entries to the next round, awarding levels,
revoking either.

Decisions that change state carry a *state digest* of what the administrator saw (the active
decisions of the category); the service recomputes it after taking a lock on the category row,
so two administrators deciding at once cannot overwrite each other: the second one is refused
(``StaleState``, answered with 409)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, selectinload

from awards import audit, policy
from awards.calls.models import AwardLevel, Call, Category
from awards.db import utcnow
from awards.enums import (
    AssignmentStatus,
    CallStatus,
    DecisionKind,
)
from awards.jury.models import Assignment, Round, RoundEntry
from awards.jury.setup.rounds import first_round
from awards.nominations.models import Nomination
from awards.ranking.errors import (
    CallPublished,
    EntryReviewed,
    LevelFull,
    NoNextRound,
    NotInThisPhase,
    RankingError,
    StaleState,
)
from awards.ranking.loading import NOT_RANKED, EntryInfo
from awards.ranking.models import Decision
from awards.ranking.rankings import RoundRanking


def active_decisions(session: Session, call: Call,
                     category_id: int | None = None) -> list[Decision]:
    query = (select(Decision).where(Decision.call_id == call.id, Decision.revoked_at.is_(None))
             .order_by(Decision.id))
    if category_id is not None:
        query = query.where(Decision.category_id == category_id)
    return list(session.scalars(query.execution_options(populate_existing=True)))


def state_digest(decisions: Iterable[Decision]) -> str:
    """A fingerprint of a category's active decisions, carried by every decision form."""
    data = sorted((d.id, d.version_id) for d in decisions)
    return hashlib.sha256(json.dumps(data).encode()).hexdigest()[:32]


def category_digests(session: Session, call: Call) -> dict[int, str]:
    by_category: dict[int, list[Decision]] = {c.id: [] for c in call.categories}
    for d in active_decisions(session, call):
        by_category.setdefault(d.category_id, []).append(d)
    return {cid: state_digest(ds) for cid, ds in by_category.items()}


FROZEN_MESSAGES = {
    CallStatus.RESULTS_SCHEDULED: _l("The results of this call are scheduled for publication: "
                                     "decisions can no longer be changed. Cancel the schedule "
                                     "or publish a correction instead."),
    CallStatus.PUBLISHED: _l("The results of this call are published: decisions can no "
                             "longer be changed. Publish a correction instead."),
    CallStatus.ARCHIVED: _l("The results of this call are published: decisions can no "
                            "longer be changed. Publish a correction instead."),
    CallStatus.CORRECTING: _l("The results of this call are being corrected: only the award "
                              "decisions may change, entries no longer move between rounds."),
}


def _require(session: Session, actor, action: policy.Action, subject: Round | Call) -> None:
    """Ask the policy whether ``actor`` may decide or advance in this phase of the call. A
    refusal because the results are scheduled or out says so (``CallPublished``); any other
    gives the policy's reason."""
    viewer = actor if isinstance(actor, policy.Viewer) else policy.Viewer(session, actor)
    decision = policy.allows(viewer, action, subject, now=utcnow())
    if decision.ok:
        return
    phase = CallStatus(getattr(subject, "call", subject).status)
    if decision.status == 409 and phase in FROZEN_MESSAGES:
        raise CallPublished(FROZEN_MESSAGES[phase])
    raise NotInThisPhase(decision.reason, decision.status)


def _lock_category(session: Session, category: Category, digest: str | None) -> list[Decision]:
    """Take the category's row lock (a write that changes nothing: a row lock on PostgreSQL,
    the write lock on SQLite) and compare what is decided now with what the page showed."""
    session.execute(update(Category).where(Category.id == category.id)
                    .values(position=Category.position)
                    .execution_options(synchronize_session=False))
    current = active_decisions(session, category.call, category.id)
    if digest is not None and digest != state_digest(current):
        raise StaleState(_l("Another administrator changed the decisions in this category "
                            "after you opened the page. Nothing was saved; review the current "
                            "decisions and try again."))
    return current


def _decision_snapshot(d: Decision) -> dict[str, Any]:
    return {"id": d.id, "kind": d.kind.value, "nomination_id": d.nomination_id,
            "category_id": d.category_id, "round_id": d.round_id,
            "award_level_id": d.award_level_id, "note": d.note}


def next_round(session: Session, round: Round) -> Round | None:
    return session.scalar(
        select(Round).where(Round.call_id == round.call_id, Round.id != round.id,
                            (Round.position > round.position)
                            | ((Round.position == round.position) & (Round.id > round.id)))
        .order_by(Round.position, Round.id).limit(1))


def top_entries(ranking: RoundRanking, n: int | None = None) -> dict[int, list[int]]:
    """Per category, the entries ranked N-th or better (the category's winners count unless
    ``n`` is given). Entries tied at the boundary are all in: the tie is the jury's to
    settle, not the software's."""
    chosen: dict[int, list[int]] = {}
    for category in ranking.categories:
        limit = n if n is not None else category.category.winners_count
        chosen[category.category.id] = [
            row.entry.id for row in category.rows
            if row.ranked.rank is not None and row.ranked.rank <= limit]
    return chosen


@dataclass
class AdvanceResult:
    target: Round
    added: list[int]
    already: list[int]



@dataclass
class AdvancePreview:
    """What advancing the chosen entries of ``round`` will do, computed once for both the
    confirmation page and the step itself: per category, the entries that advance, those
    chosen but already in the next round, and those of this round that do not advance."""

    round: Round
    target: Round
    categories: list[Category]
    entries: dict[int, EntryInfo]  # every ranked entry of this round (names blanked if blind)
    chosen: list[int]
    present: set[int]  # chosen entries already in the target round
    others_in_target: int  # entries of the target round that were not chosen

    @property
    def added(self) -> list[int]:
        return [n for n in self.chosen if n not in self.present]

    @property
    def already(self) -> list[int]:
        return [n for n in self.chosen if n in self.present]

    def outcome(self, entry_id: int) -> str:
        """"advances", "already_there" or "stays"."""
        if entry_id not in self.chosen:
            return "stays"
        return "already_there" if entry_id in self.present else "advances"

    def of_category(self, category_id: int) -> list[EntryInfo]:
        return [e for e in self.entries.values() if e.category_id == category_id]


def preview_advance(*, session: Session, actor, round: Round,
                    nomination_ids: Collection[int],
                    digests: dict[int, str] | None = None) -> AdvancePreview:
    """What ``advance`` would do now, changing nothing; raises the refusal ``advance`` would
    raise (the phase, no next round, nothing chosen, an entry not of this round, decisions
    changed since ``digests`` were read)."""
    call = round.call
    viewer = actor if isinstance(actor, policy.Viewer) else policy.Viewer(session, actor)
    _require(session, viewer, policy.Action.ADVANCE, round)
    target = next_round(session, round)
    if target is None:
        raise NoNextRound(_l("This is the last round of the call: there is no next round to "
                             "advance entries to."))
    wanted = sorted(set(nomination_ids))
    if not wanted:
        raise RankingError(_l("Choose at least one entry to advance."))
    identity = policy.shows_identity(viewer, round)
    entries = {
        row.id: EntryInfo(row.id, row.reference or "", row.nominee_name if identity else "",
                          row.organisation_name if identity else "", row.category_id,
                          row.status)
        for row in session.execute(
            select(Nomination.id, Nomination.reference, Nomination.nominee_name,
                   Nomination.organisation_name, Nomination.category_id, Nomination.status)
            .join(RoundEntry, RoundEntry.nomination_id == Nomination.id)
            .where(RoundEntry.round_id == round.id, Nomination.status.not_in(NOT_RANKED))
            .order_by(Nomination.id))
    }
    if not set(wanted) <= set(entries):
        raise RankingError(_l("Only entries of this round can be advanced."))
    if digests is not None:
        current = category_digests(session, call)
        for category_id in sorted({entries[n].category_id for n in wanted}):
            if digests.get(category_id, "") != current.get(category_id):
                raise StaleState(_l("Another administrator changed the decisions in this "
                                    "category after you opened the page. Nothing was saved; "
                                    "review the current decisions and try again."))
    in_target = set(session.scalars(select(RoundEntry.nomination_id).where(
        RoundEntry.round_id == target.id)))
    categories = [c for c in call.categories
                  if any(e.category_id == c.id for e in entries.values())]
    return AdvancePreview(round, target, categories, entries, wanted,
                          in_target & set(wanted), len(in_target - set(wanted)))


def advance(*, session: Session, actor, round: Round, nomination_ids: Collection[int],
            digests: dict[int, str] | None = None, note: str = "") -> AdvanceResult:
    """Put the chosen entries of ``round`` into the next round (by position) and record an
    "advance" decision for each. Entries already there are left as they are. The same
    computation as the confirmation page (``preview_advance``), redone under the categories'
    locks."""
    call = round.call
    preview = preview_advance(session=session, actor=actor, round=round,
                              nomination_ids=nomination_ids)
    target, wanted = preview.target, preview.chosen
    categories = {n: preview.entries[n].category_id for n in wanted}
    by_id = {c.id: c for c in call.categories}
    for category_id in sorted(set(categories.values())):
        # A form always sends digests; a category missing from them fails the comparison.
        _lock_category(session, by_id[category_id],
                       digests.get(category_id, "") if digests is not None else None)
    present = set(session.scalars(select(RoundEntry.nomination_id).where(
        RoundEntry.round_id == target.id, RoundEntry.nomination_id.in_(wanted))))
    added = [n for n in wanted if n not in present]
    now = utcnow()
    actor_id = getattr(actor, "id", None)
    if added:
        session.execute(insert(RoundEntry), [
            {"round_id": target.id, "nomination_id": n, "added_at": now, "added_by_id": actor_id}
            for n in added])
        for n in added:
            session.add(Decision(call_id=call.id, category_id=categories[n], round_id=round.id,
                                 nomination_id=n, kind=DecisionKind.ADVANCE, note=note.strip(),
                                 decided_by_id=actor_id, decided_at=now))
        session.flush()
    audit.record(session, action="ranking.advance", object_type="round", object_id=round.id,
                 actor=actor, call_id=call.id,
                 after={"to_round": target.id, "added": added,
                        "already_there": sorted(present)})
    return AdvanceResult(target, added, sorted(present))


def decide_award(*, session: Session, actor, round: Round, nomination_id: int,
                 award_level_id: int, digest: str | None, note: str = "") -> Decision:
    """Award ``award_level_id`` to an entry of the round. An entry holds at most one award in
    its category: an earlier one is revoked in the same step. A level is given at most
    ``AwardLevel.count`` times per category."""
    call = round.call
    _require(session, actor, policy.Action.DECIDE, round)
    nomination = session.get(Nomination, nomination_id)
    in_round = session.scalar(select(RoundEntry.id).where(
        RoundEntry.round_id == round.id, RoundEntry.nomination_id == nomination_id))
    if nomination is None or nomination.call_id != call.id or in_round is None \
            or nomination.status in NOT_RANKED:
        raise RankingError(_l("Only entries of this round can be awarded."))
    level = session.get(AwardLevel, award_level_id)
    if level is None or level.category_id != nomination.category_id:
        raise RankingError(_l("Choose an award level of the entry's category."))
    category = nomination.category
    current = _lock_category(session, category, digest)
    awards = [d for d in current if d.kind == DecisionKind.AWARD]
    same_level = [d for d in awards if d.award_level_id == level.id
                  and d.nomination_id != nomination_id]
    if len(same_level) >= level.count:
        from awards.i18n import localized

        raise LevelFull(lazy_ngettext(
            "“%(level)s” can be awarded %(num)d time in this category, and it already has "
            "been. Revoke that decision first.",
            "“%(level)s” can be awarded %(num)d times in this category, and it already has "
            "been. Revoke one of those decisions first.",
            level.count, level=localized(level, "name") or level.key))
    now = utcnow()
    previous = [d for d in awards if d.nomination_id == nomination_id]
    for d in previous:
        if d.award_level_id == level.id:
            return d  # already decided exactly so; nothing to change
    for d in previous:
        d.revoked_at = now
        d.revoked_by_id = getattr(actor, "id", None)
        audit.record(session, action="ranking.decision_revoke", object_type="decision",
                     object_id=d.id, actor=actor, call_id=call.id,
                     before=_decision_snapshot(d), after={"replaced": True})
    decision = Decision(call_id=call.id, category_id=category.id, round_id=round.id,
                        nomination_id=nomination_id, kind=DecisionKind.AWARD,
                        award_level_id=level.id, note=note.strip(),
                        decided_by_id=getattr(actor, "id", None), decided_at=now)
    session.add(decision)
    session.flush()
    audit.record(session, action="ranking.decision_award", object_type="decision",
                 object_id=decision.id, actor=actor, call_id=call.id,
                 after=_decision_snapshot(decision))
    return decision


def advanced_into(session: Session, decision: Decision) -> Round | None:
    """The round an "advance" decision put its entry into: the next round after the decision's
    round, or the call's first round for an advance from the people's vote (no round)."""
    if decision.round is None:
        return first_round(session, decision.call)
    return next_round(session, decision.round)


def revoke_decision(*, session: Session, actor, decision: Decision,
                    digest: str | None) -> None:
    """Revoke (never delete) a decision; the entry can then be decided again. An "advance"
    revoked (from a jury round or from the people's vote) takes the entry back out of the
    round it was put into, with its assignments there; refused once someone has reviewed it
    there, since those reviews would be orphaned."""
    call = decision.call
    _require(session, actor, policy.Action.DECIDE, decision.round or call)
    _lock_category(session, decision.category, digest)
    session.refresh(decision)
    if decision.revoked_at is not None:
        raise StaleState(_l("This decision was already revoked."))
    after: dict[str, Any] = {"revoked": True}
    target = advanced_into(session, decision) if decision.kind == DecisionKind.ADVANCE else None
    entry = session.scalar(select(RoundEntry).where(
        RoundEntry.round_id == target.id,
        RoundEntry.nomination_id == decision.nomination_id)) if target is not None else None
    assignments: list[Assignment] = []
    if entry is not None:
        if policy.call_is_frozen(call):
            raise CallPublished(FROZEN_MESSAGES.get(CallStatus(call.status),
                                                    FROZEN_MESSAGES[CallStatus.CORRECTING]))
        assignments = list(session.scalars(select(Assignment).where(
            Assignment.round_id == target.id,
            Assignment.nomination_id == decision.nomination_id)
            .options(selectinload(Assignment.review))))
        if any(a.review is not None for a in assignments):
            from awards.i18n import localized

            raise EntryReviewed(_l(
                "This entry has already been reviewed in the round “%(round)s”, so the "
                "decision to advance it stands: revoking it would leave those reviews without "
                "an entry.", round=localized(target, "name") or f"#{target.position}"))
    decision.revoked_at = utcnow()
    decision.revoked_by_id = getattr(actor, "id", None)
    if entry is not None:
        ended = [a.id for a in assignments if a.status == AssignmentStatus.ACTIVE]
        for a in assignments:
            if a.status == AssignmentStatus.ACTIVE:
                a.status = AssignmentStatus.REMOVED
        session.delete(entry)
        after["removed_from_round"] = target.id
        if ended:
            after["assignments_ended"] = ended
    session.flush()
    audit.record(session, action="ranking.decision_revoke", object_type="decision",
                 object_id=decision.id, actor=actor, call_id=call.id,
                 before=_decision_snapshot(decision), after=after)


def decisions_by_entry(decisions: Sequence[Decision]) -> dict[int, list[Decision]]:
    out: dict[int, list[Decision]] = {}
    for d in decisions:
        out.setdefault(d.nomination_id, []).append(d)
    return out
