"""The commission's secret ballot, one function per thing a person does: set up the round,
open the ballot, vote, close it, check a receipt, read the count, apply the outcome.

The commission is the round's panel: its active members with an account vote, the panel's
chair (or an administrator) opens and closes the ballot. What keeps the ballot secret is in
``awards.commission.models``; here, the order of writing: a member's participation row and
their ballot are inserted in one transaction (the unique participation row makes a second
ballot fail), the audit log records "member voted" without the choice, and the close writes
its time on every ballot in the order of their random keys, so the rows' physical order and
PostgreSQL's transaction ids no longer reflect the order of voting."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from awards import audit, policy
from awards.calls.models import AwardLevel, Call, Category
from awards.commission.models import Ballot, BallotBox, BallotMethod, Participation
from awards.db import utcnow
from awards.enums import JurorStatus, NominationStatus, RoundKind, RoundStatus, VoteChoice
from awards.judging.commission import (
    ApprovalCount,
    RankedCount,
    ThresholdBase,
    count_approval,
    count_ranked,
)
from awards.jury.models import JuryMember, Round, RoundEntry
from awards.nominations.models import Nomination
from awards.refusals import Refusal

RECEIPT_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32
RECEIPT_LENGTH = 16  # 80 random bits


class CommissionError(Refusal):
    status = 400


class NotAllowed(CommissionError):
    def __init__(self, decision: policy.Decision):
        super().__init__(decision.reason)
        self.status = decision.status


class AlreadyVoted(CommissionError):
    status = 409


def _viewer(session: Session, actor) -> policy.Viewer:
    return actor if isinstance(actor, policy.Viewer) else policy.Viewer(session, actor)


def _require(session: Session, actor, action: policy.Action, subject) -> None:
    decision = policy.allows(_viewer(session, actor), action, subject, now=utcnow())
    if not decision.ok:
        raise NotAllowed(decision)


def is_commission_round(round_: Round) -> bool:
    return round_.kind in (RoundKind.COMMISSION, RoundKind.VOTE)


# ---- receipts ------------------------------------------------------------------------------


def new_receipt() -> str:
    return "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(RECEIPT_LENGTH))


def normalise_receipt(text: str | None) -> str | None:
    if not text:
        return None
    code = "".join(ch for ch in text.upper() if ch.isalnum())
    code = code.translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))
    if len(code) != RECEIPT_LENGTH or any(ch not in RECEIPT_ALPHABET for ch in code):
        return None
    return code


def format_receipt(code: str) -> str:
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def receipt_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


# ---- reading -------------------------------------------------------------------------------


def box_of(session: Session, round_: Round) -> BallotBox | None:
    return session.scalar(select(BallotBox).where(BallotBox.round_id == round_.id))


def entries_of(session: Session, round_: Round) -> list[Nomination]:
    """The round's entries (withdrawn and ineligible ones aside), by category and reference."""
    return list(session.scalars(
        select(Nomination).join(RoundEntry, RoundEntry.nomination_id == Nomination.id)
        .join(Category, Category.id == Nomination.category_id)
        .where(RoundEntry.round_id == round_.id,
               Nomination.status.not_in([NominationStatus.WITHDRAWN,
                                         NominationStatus.INELIGIBLE]))
        .order_by(Category.position, Category.id, Nomination.reference, Nomination.id)))


def active_members(session: Session, round_: Round) -> list[JuryMember]:
    if round_.panel_id is None:
        return []
    return list(session.scalars(select(JuryMember).where(
        JuryMember.panel_id == round_.panel_id, JuryMember.status == JurorStatus.ACTIVE,
        JuryMember.user_id.is_not(None)).order_by(JuryMember.is_chair.desc(),
                                                   JuryMember.email)))


def voters(session: Session, round_: Round) -> list[int]:
    """Who counts as a voter (user ids): once the ballot is open, the members it was opened
    for (fixed then, whoever joins or leaves later); before, the members on the commission
    now, who would vote if it opened."""
    box = box_of(session, round_)
    if box is not None and box.opened_at is not None:
        return list(box.member_ids or [])
    return [m.user_id for m in active_members(session, round_)]


def has_voted(session: Session, box: BallotBox, user_id: int | None) -> bool:
    if user_id is None:
        return False
    return session.scalar(select(Participation.id).where(
        Participation.box_id == box.id, Participation.user_id == user_id)) is not None


def participants(session: Session, box: BallotBox) -> list[int]:
    return list(session.scalars(select(Participation.user_id).where(
        Participation.box_id == box.id).order_by(Participation.user_id)))


def ballot_count(session: Session, box: BallotBox) -> int:
    return session.scalar(select(func.count()).select_from(Ballot)
                          .where(Ballot.box_id == box.id)) or 0


@dataclass
class MemberBallot:
    """What one member may vote on: the entries (approval) or categories (ranked) without
    those they are in conflict with."""

    entries: list[Nomination] = field(default_factory=list)
    categories: list[tuple[Category, list[Nomination]]] = field(default_factory=list)
    conflicted: list[Nomination] = field(default_factory=list)


def member_ballot(session: Session, actor, round_: Round) -> MemberBallot:
    viewer = _viewer(session, actor)
    box = box_of(session, round_)
    now = utcnow()
    result = MemberBallot()
    by_category: dict[int, list[Nomination]] = {}
    blocked: set[int] = set()
    for entry in entries_of(session, round_):
        ok = policy.allows(viewer, policy.Action.COMMISSION_VOTE_ENTRY, (round_, entry),
                           now=now).ok
        by_category.setdefault(entry.category_id, []).append(entry)
        if ok:
            result.entries.append(entry)
        else:
            result.conflicted.append(entry)
            blocked.add(entry.category_id)
    if box is not None and box.method == BallotMethod.RANKED:
        result.entries = []
        for category_id, entries in by_category.items():
            if category_id not in blocked:
                result.categories.append((entries[0].category, entries))
    return result


# ---- setting up ----------------------------------------------------------------------------

BOX_FIELDS = ("method", "quorum", "quorum_inclusive", "threshold", "threshold_inclusive",
              "threshold_base", "seats")


def _check_values(values: Mapping[str, Any]) -> None:
    if values.get("method", BallotMethod.APPROVAL) not in BallotMethod.ALL:
        raise CommissionError(_l("Choose how the commission votes."), field="method")
    for name in ("quorum", "threshold"):
        value = values.get(name)
        if value is not None and not 0 < float(value) <= 1:
            raise CommissionError(_l("Enter a share between 0 and 1, such as 0.6667."),
                                  field=name)
    if values.get("threshold_base", "cast") not in {b.value for b in ThresholdBase}:
        raise CommissionError(_l("Choose what the share of yes votes is counted over."),
                              field="threshold_base")
    for seats in (values.get("seats") or {}).values():
        if int(seats) < 1:
            raise CommissionError(_l("Each category has at least one laureate."),
                                  field="seats")


def create_round(*, session: Session, actor, call: Call, panel_id: int,
                 names: Mapping[str, str], values: Mapping[str, Any]) -> Round:
    """A commission round at the end of the call's rounds, with its ballot box."""
    _require(session, actor, policy.Action.SET_UP_ROUND, call)
    _check_values(values)
    from awards.jury.models import Panel

    panel = session.get(Panel, panel_id)
    if panel is None or panel.call_id != call.id:
        raise CommissionError(_l("Choose a panel of this call."), field="panel_id")
    position = (session.scalar(select(func.max(Round.position))
                               .where(Round.call_id == call.id)) or 0) + 1
    round_ = Round(call_id=call.id, position=position, kind=RoundKind.COMMISSION,
                   panel_id=panel.id, status=RoundStatus.DRAFT,
                   name_kk=names.get("kk", ""), name_ru=names.get("ru", ""),
                   name_en=names.get("en", ""), vote_quorum=values.get("quorum"),
                   vote_threshold=values.get("threshold"))
    session.add(round_)
    session.flush()
    box = BallotBox(round_id=round_.id, **{k: values[k] for k in BOX_FIELDS if k in values})
    session.add(box)
    session.flush()
    audit.record(session, action="commission.round_create", object_type="round",
                 object_id=round_.id, actor=actor, call_id=call.id,
                 after={"panel_id": panel.id, **{k: getattr(box, k) for k in BOX_FIELDS}})
    return round_


def configure(*, session: Session, actor, round: Round, values: Mapping[str, Any]) -> BallotBox:
    """Set how the commission votes; only before the ballot opens."""
    _require(session, actor, policy.Action.COMMISSION_CONFIGURE, round)
    _check_values(values)
    box = box_of(session, round)
    if box is None:
        box = BallotBox(round_id=round.id)
        session.add(box)
        session.flush()
    before = {k: getattr(box, k) for k in BOX_FIELDS}
    for k in BOX_FIELDS:
        if k in values:
            setattr(box, k, values[k])
    round.vote_quorum, round.vote_threshold = box.quorum, box.threshold
    session.flush()
    audit.record(session, action="commission.configure", object_type="round",
                 object_id=round.id, actor=actor, call_id=round.call_id, before=before,
                 after={k: getattr(box, k) for k in BOX_FIELDS})
    return box


# ---- opening, voting, closing --------------------------------------------------------------


def open_ballot(*, session: Session, actor, round: Round) -> BallotBox:
    """The chair opens the ballot: the members entitled to vote are fixed now."""
    _require(session, actor, policy.Action.COMMISSION_RUN, round)
    if RoundStatus(round.status) != RoundStatus.DRAFT:
        raise CommissionError(_l("The ballot can be opened only once."))
    box = box_of(session, round)
    if box is None:  # a round of the older kind, never configured: the default rules
        box = BallotBox(round_id=round.id)
        session.add(box)
        session.flush()
    members = active_members(session, round)
    if not members:
        raise CommissionError(_l("The commission has no members who accepted their seat."))
    if not entries_of(session, round):
        raise CommissionError(_l("There are no entries to vote on in this round."))
    now = utcnow()
    box.member_ids = sorted(m.user_id for m in members)
    box.opened_at, box.opened_by_id = now, getattr(actor, "id", None)
    round.status = RoundStatus.OPEN
    round.opens_at = round.opens_at if round.opens_at and round.opens_at <= now else now
    round.closes_at = None
    session.flush()
    audit.record(session, action="commission.ballot_open", object_type="round",
                 object_id=round.id, actor=actor, call_id=round.call_id,
                 after={"members": len(box.member_ids), "method": box.method})
    return box


def _clean_choices(member: MemberBallot, choices: Mapping[Any, str]) -> dict[str, str]:
    allowed = {e.id for e in member.entries}
    given = {int(k): v for k, v in choices.items()}
    if set(given) - allowed:
        raise CommissionError(_l("You cannot vote on an entry you are in conflict with, or "
                                 "one that is not in this round."))
    missing = allowed - set(given)
    if missing:
        raise CommissionError(_l("Choose yes, no or abstain for every entry."))
    clean = {}
    for nid, choice in sorted(given.items()):
        try:
            clean[str(nid)] = VoteChoice(choice).value
        except ValueError:
            raise CommissionError(_l("Choose yes, no or abstain for every entry.")) from None
    return clean


def _clean_rankings(member: MemberBallot,
                    rankings: Mapping[Any, Sequence[int]]) -> dict[str, list[int]]:
    allowed = {c.id: {e.id for e in entries} for c, entries in member.categories}
    clean = {}
    for category_id, order in rankings.items():
        cid = int(category_id)
        if cid not in allowed:
            raise CommissionError(_l("You cannot rank a category with an entry you are in "
                                     "conflict with."))
        order = [int(n) for n in order]
        if len(set(order)) != len(order) or not set(order) <= allowed[cid]:
            raise CommissionError(_l("Rank each entry of a category at most once."))
        clean[str(cid)] = order
    for cid in allowed:
        clean.setdefault(str(cid), [])
    return dict(sorted(clean.items()))


def cast_ballot(*, session: Session, actor, round: Round,
                choices: Mapping[Any, str] | None = None,
                rankings: Mapping[Any, Sequence[int]] | None = None) -> str:
    """A member casts their one ballot; returns the receipt code, shown once (only its hash is
    kept). ``choices`` maps entries to yes/no/abstain; ``rankings`` maps categories to entry
    ids, best first (a category left empty is not ranked)."""
    _require(session, actor, policy.Action.COMMISSION_VOTE, round)
    box = box_of(session, round)
    user_id = getattr(actor, "user", actor).id
    if box is None or user_id not in (box.member_ids or []):
        raise NotAllowed(policy.Decision(False, _l(
            "You were not a member of the commission when this ballot opened."), 403))
    if has_voted(session, box, user_id):
        raise AlreadyVoted(_l("You have already voted in this ballot."))
    member = member_ballot(session, actor, round)
    if box.method == BallotMethod.RANKED:
        content: dict[str, Any] = {"rankings": _clean_rankings(member, rankings or {})}
    else:
        content = {"choices": _clean_choices(member, choices or {})}
    code = new_receipt()
    try:
        with session.begin_nested():
            session.add(Participation(box_id=box.id, user_id=user_id))
            session.add(Ballot(box_id=box.id, content=content, receipt_hash=receipt_hash(code)))
            session.flush()
    except IntegrityError:
        raise AlreadyVoted(_l("You have already voted in this ballot.")) from None
    audit.record(session, action="commission.member_voted", object_type="round",
                 object_id=round.id, actor=actor, call_id=round.call_id)
    return code


def close_ballot(*, session: Session, actor, round: Round) -> BallotBox:
    """The chair closes the ballot: no more ballots, and every ballot gets the close's time,
    written in the order of the ballots' random keys."""
    _require(session, actor, policy.Action.COMMISSION_RUN, round)
    if RoundStatus(round.status) != RoundStatus.OPEN:
        raise CommissionError(_l("Only an open ballot can be closed."))
    box = box_of(session, round)
    now = utcnow()
    round.status = RoundStatus.CLOSED
    round.closes_at = now
    box.closed_at, box.closed_by_id = now, getattr(actor, "id", None)
    session.flush()
    ids = sorted(session.scalars(select(Ballot.id).where(Ballot.box_id == box.id)))
    for ballot_id in ids:
        session.execute(update(Ballot).where(Ballot.id == ballot_id).values(sealed_at=now)
                        .execution_options(synchronize_session=False))
    count = tally(session, round)
    audit.record(session, action="commission.ballot_close", object_type="round",
                 object_id=round.id, actor=actor, call_id=round.call_id,
                 after={"members": len(box.member_ids), "ballots": len(ids),
                        "quorum_met": count.quorum.met, "outcome": outcome_summary(count)})
    return box


# ---- the count -----------------------------------------------------------------------------


def ballot_list(session: Session, round: Round) -> dict[str, Any]:
    """The published ballot list: the rules, the entries and every ballot (no voter, no
    receipt), in the order of the ballots' keys. ``flask awards commission tally`` counts it."""
    box = box_of(session, round)
    entries = entries_of(session, round)
    ballots = session.execute(select(Ballot.id, Ballot.content).where(Ballot.box_id == box.id)
                              .order_by(Ballot.id)).all()
    categories: dict[str, list[int]] = {}
    for e in entries:
        categories.setdefault(str(e.category_id), []).append(e.id)
    return {
        "round": round.id,
        "call": round.call.slug,
        "method": box.method,
        "members": len(box.member_ids or []),
        "quorum": box.quorum,
        "quorum_inclusive": box.quorum_inclusive,
        "threshold": box.threshold,
        "threshold_inclusive": box.threshold_inclusive,
        "threshold_base": box.threshold_base,
        "seats": {c: box.seats_for(int(c)) for c in categories},
        "closed_at": box.closed_at.isoformat() if box.closed_at else None,
        "entries": [{"id": e.id, "reference": e.reference, "category": e.category_id}
                    for e in entries],
        "categories": categories,
        "ballots": [{"id": b.id, **b.content} for b in ballots],
    }


def count_list(data: Mapping[str, Any]) -> ApprovalCount | RankedCount:
    """Count a published ballot list (``ballot_list``): the same function the server uses."""
    if data["method"] == BallotMethod.RANKED:
        return count_ranked(
            ({int(c): [int(n) for n in order] for c, order in b.get("rankings", {}).items()}
             for b in data["ballots"]),
            members=data["members"],
            categories={int(c): [int(n) for n in ids] for c, ids in data["categories"].items()},
            seats={int(c): int(n) for c, n in data["seats"].items()},
            quorum=data["quorum"], quorum_inclusive=data["quorum_inclusive"])
    return count_approval(
        ({int(n): c for n, c in b.get("choices", {}).items()} for b in data["ballots"]),
        members=data["members"], entries=[e["id"] for e in data["entries"]],
        quorum=data["quorum"], quorum_inclusive=data["quorum_inclusive"],
        threshold=data["threshold"], inclusive=data["threshold_inclusive"],
        base=ThresholdBase(data["threshold_base"]))


def tally(session: Session, round: Round) -> ApprovalCount | RankedCount:
    return count_list(ballot_list(session, round))


def outcome_summary(count: ApprovalCount | RankedCount) -> dict[str, Any]:
    if isinstance(count, ApprovalCount):
        return {str(e.entry_id): {"yes": e.yes, "no": e.no, "abstain": e.abstain,
                                  "outcome": e.outcome.value} for e in count.entries}
    return {str(c.category_id): {"elected": list(c.elected), "tied": list(c.tied)}
            for c in count.categories}


def see_count(*, session: Session, actor, round: Round) -> ApprovalCount | RankedCount:
    """Totals and outcome, for the chair and administrators, after the close only."""
    _require(session, actor, policy.Action.COMMISSION_SEE_COUNT, round)
    return tally(session, round)


def see_ballots(*, session: Session, actor, round: Round) -> dict[str, Any]:
    _require(session, actor, policy.Action.COMMISSION_SEE_BALLOTS, round)
    return ballot_list(session, round)


@dataclass
class ChairView:
    """What the chair's page shows: the box, the members entitled to vote with whether each
    has voted (never how), and after the close the count and the laureates it makes."""

    box: BallotBox | None
    voters: list[int]  # who counts as a voter (``voters``)
    roster: list[tuple[Any, bool]]  # (user, has voted), from the opening on
    voted: int
    entries: dict[int, Nomination]
    count: ApprovalCount | RankedCount | None = None
    laureates: dict[int, list[int]] | None = None
    undecided: list[int] | None = None


def chair_view(*, session: Session, actor, round: Round) -> ChairView:
    from awards.auth.models import User

    _require(session, actor, policy.Action.COMMISSION_CHAIR, round)
    box = box_of(session, round)
    voted_ids = set(participants(session, box)) if box else set()
    roster = [] if box is None else [
        (u, u.id in voted_ids) for u in session.scalars(select(User).where(
            User.id.in_(box.member_ids or [-1])).order_by(User.full_name, User.email))]
    view = ChairView(box, voters(session, round), roster, len(voted_ids),
                     {e.id: e for e in entries_of(session, round)})
    if RoundStatus(round.status) == RoundStatus.CLOSED:
        view.count = see_count(session=session, actor=actor, round=round)
        view.laureates, view.undecided = laureates(session, round, view.count)
    return view


@dataclass
class ReceiptCheck:
    found: bool
    sealed_at: datetime | None = None


def check_receipt(*, session: Session, actor, round: Round, code: str | None) -> ReceiptCheck:
    """Whether the ballot with this receipt is in the round's box (and, once closed, in the
    count). It says nothing about what the ballot says, so it proves nothing to anyone else."""
    _require(session, actor, policy.Action.COMMISSION_SEE_BALLOTS
             if RoundStatus(round.status) == RoundStatus.CLOSED
             else policy.Action.COMMISSION_VOTE, round)
    normal = normalise_receipt(code)
    if normal is None:
        raise CommissionError(_l("A receipt code has 16 letters and digits."), field="code")
    box = box_of(session, round)
    row = session.execute(select(Ballot.id, Ballot.sealed_at).where(
        Ballot.box_id == box.id, Ballot.receipt_hash == receipt_hash(normal))).first()
    return ReceiptCheck(row is not None, row.sealed_at if row else None)


# ---- the outcome as award decisions ---------------------------------------------------------


@dataclass
class Applied:
    awarded: list[int] = field(default_factory=list)
    undecided: list[int] = field(default_factory=list)  # categories left to the commission


def laureates(session: Session, round: Round,
              count: ApprovalCount | RankedCount) -> tuple[dict[int, list[int]], list[int]]:
    """Per category, the entries the count makes laureates, and the categories it leaves
    undecided (a tie, or more entries passing than the category has laureates)."""
    entries = {e.id: e for e in entries_of(session, round)}
    result: dict[int, list[int]] = {}
    undecided: list[int] = []
    if isinstance(count, ApprovalCount):
        passed: dict[int, list] = {}
        for e in count.entries:
            if e.passed:
                passed.setdefault(entries[e.entry_id].category_id, []).append(e)
        for category_id, items in passed.items():
            category = entries[items[0].entry_id].category
            limit = _award_level(session, category).count if _award_level(
                session, category) else len(items)
            if len(items) <= limit:
                result[category_id] = [e.entry_id for e in items]
                continue
            items.sort(key=lambda e: -e.yes)
            if items[limit - 1].yes == items[limit].yes:
                undecided.append(category_id)
            else:
                result[category_id] = [e.entry_id for e in items[:limit]]
    else:
        for c in count.categories:
            if c.elected:
                result[int(c.category_id)] = [int(n) for n in c.elected]
            if c.tied:
                undecided.append(int(c.category_id))
    return result, undecided


def _award_level(session: Session, category: Category) -> AwardLevel | None:
    return session.scalar(select(AwardLevel).where(AwardLevel.category_id == category.id)
                          .order_by(AwardLevel.position, AwardLevel.id).limit(1))


def apply_outcome(*, session: Session, actor, round: Round) -> Applied:
    """The count's laureates become award decisions (the category's first award level), each
    recorded and audited as a decision of this round, so the results are published as
    usual. Categories the count leaves tied are left for the administrators to decide."""
    from awards.ranking import services as ranking

    _require(session, actor, policy.Action.COMMISSION_SEE_COUNT, round)
    _require(session, actor, policy.Action.DECIDE, round)
    count = tally(session, round)
    if not count.quorum.met:
        raise CommissionError(_l("The quorum was not reached: the ballot decides nothing."))
    chosen, undecided = laureates(session, round, count)
    applied = Applied(undecided=undecided)
    for category_id, nomination_ids in sorted(chosen.items()):
        category = session.get(Category, category_id)
        level = _award_level(session, category)
        if level is None:
            raise CommissionError(_l("The category “%(category)s” has no award level.",
                                     category=category.name_en or category.code))
        for nid in nomination_ids:
            try:
                ranking.decide_award(session=session, actor=actor, round=round,
                                     nomination_id=nid, award_level_id=level.id, digest=None)
            except ranking.RankingError as exc:
                raise CommissionError(exc.message) from None
            applied.awarded.append(nid)
    audit.record(session, action="commission.outcome_applied", object_type="round",
                 object_id=round.id, actor=actor, call_id=round.call_id,
                 after={"awarded": applied.awarded, "undecided_categories": undecided})
    return applied
