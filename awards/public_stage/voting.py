"""The votes: a first vote in one statement, a repeat or a change, the ballot behind a refusal,
and an administrator's annulment of a flagged vote (audited)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    and_,
    bindparam,
    false,
    func,
    insert,
    literal,
    literal_column,
    null,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from awards import audit
from awards.calls.models import Call
from awards.db import utcnow
from awards.enums import (
    CallStatus,
    StageKind,
)
from awards.nominations.models import Nomination
from awards.public_stage import integrity
from awards.public_stage.common import REASON_MAX, StageError
from awards.public_stage.models import (
    PublicStage,
    PublicVote,
    StageEntry,
    Voter,
)
from awards.public_stage.reading import first_row

# of them in the last hours), so it reads and writes plain rows on the request's connection in
# autocommit mode: one lookup, one INSERT, one count, and no ORM objects or transaction around
# them. A second vote in a category is one read and, for a move, one conditional UPDATE on the
# same connection.


@dataclass(frozen=True, slots=True)
class Ballot:
    """What a vote needs to know about the call, its stage, the entry and the voter."""

    call_id: int
    call_status: str
    stage_id: int | None
    kind: str | None
    opens_at: datetime | None
    closes_at: datetime | None
    closed_at: datetime | None
    votes_changeable: bool
    entry_id: int | None
    category_id: int | None
    nomination_id: int | None
    voter_id: int | None
    voter_domain: str | None


def _ballot_query(with_voter: bool):
    nomination = and_(Nomination.call_id == Call.id,
                      Nomination.reference == bindparam("reference"))
    voter = (Voter.id, Voter.email_domain) if with_voter else (null(), null())
    query = (
        select(Call.id, Call.status, PublicStage.id, PublicStage.kind, PublicStage.opens_at,
               PublicStage.closes_at, PublicStage.closed_at, PublicStage.votes_changeable,
               StageEntry.id, StageEntry.category_id, StageEntry.nomination_id, *voter)
        .select_from(Call)
        .outerjoin(PublicStage, PublicStage.call_id == Call.id)
        .outerjoin(Nomination, nomination)
        .outerjoin(StageEntry, and_(StageEntry.stage_id == PublicStage.id,
                                    StageEntry.nomination_id == Nomination.id))
        .where(Call.slug == bindparam("slug"))
    )
    if with_voter:
        query = query.outerjoin(Voter, and_(Voter.id == bindparam("voter_id"),
                                            Voter.verified_at.is_not(None)))
    return query


_BALLOT_QUERIES: dict[bool, Any] = {}


def ballot_for(conn: Connection, *, slug: str, reference: str, voter_id: object
               ) -> Ballot | None:
    """The call, its stage, the entry with that reference in the stage and the verified voter,
    in one query. None when there is no such call; the other parts are None when missing."""
    row, _with_voter = first_row(conn, _BALLOT_QUERIES, _ballot_query, slug=slug,
                                  reference=reference, voter_id=voter_id)
    if row is None:
        return None
    return Ballot(row[0], row[1], row[2], row[3], row[4], row[5], row[6], bool(row[7]), row[8],
                  row[9], row[10], row[11], row[12])


def _first_vote_statement():
    """INSERT … SELECT of a first vote, which inserts a row only when every rule of a plain
    vote holds: the call is public (not a draft), its stage is a vote and open at ``now``, the
    entry takes part, the voter has verified their address. It returns the new vote's id, the
    voter's e-mail domain and how many other votes of the window came from the same network
    (the new row excluded, whether or not the database shows it to the subquery)."""
    votes = PublicVote.__table__
    recent = votes.alias("recent")
    nomination = and_(Nomination.call_id == Call.id,
                      Nomination.reference == bindparam("reference"))
    rows = (
        select(PublicStage.id, StageEntry.category_id, Voter.id, StageEntry.nomination_id,
               bindparam("now", type_=PublicVote.cast_at.type), null(), bindparam("ip"),
               bindparam("network"), false(), bindparam("reasons", type_=JSON), null(),
               null(), literal(""))
        .select_from(Call)
        .join(PublicStage, PublicStage.call_id == Call.id)
        .join(Nomination, nomination)
        .join(StageEntry, and_(StageEntry.stage_id == PublicStage.id,
                               StageEntry.nomination_id == Nomination.id))
        .join(Voter, and_(Voter.id == bindparam("voter_id"), Voter.verified_at.is_not(None)))
        .where(Call.slug == bindparam("slug"), Call.status != CallStatus.DRAFT,
               PublicStage.kind == StageKind.VOTE, PublicStage.closed_at.is_(None),
               PublicStage.opens_at <= bindparam("now"), PublicStage.closes_at > bindparam("now"))
    )
    # The new row's columns, written out with the table's name: SQLite leaves the table name
    # off the columns of a RETURNING clause, which would make them the subqueries' own.
    def new(column: str):
        return literal_column(f"{votes.name}.{column}")

    domain = select(Voter.email_domain).where(Voter.id == new("voter_id")).scalar_subquery()
    others = (select(func.count()).select_from(recent)
              .where(recent.c.stage_id == new("stage_id"), recent.c.network == new("network"),
                     recent.c.cast_at >= bindparam("since", type_=PublicVote.cast_at.type),
                     recent.c.id != new("id"))
              .scalar_subquery())
    changeable = (select(PublicStage.votes_changeable)
                  .where(PublicStage.id == new("stage_id")).scalar_subquery())
    return (insert(votes)
            .from_select(["stage_id", "category_id", "voter_id", "nomination_id", "cast_at",
                          "changed_at", "ip", "network", "flagged", "flag_reasons",
                          "annulled_at", "annulled_by_id", "annul_reason"], rows)
            .returning(votes.c.id, votes.c.stage_id, domain, others, votes.c.nomination_id,
                       changeable))


_FIRST_VOTE: list = []


def cast_first_vote(conn: Connection, *, slug: str, reference: str, voter_id: object, ip: str,
                    now: datetime) -> FirstVote | None:
    """The busiest case of the vote in one statement: a verified voter's first vote in the
    category, for an entry of an open vote. The vote when it was cast (then flagged as
    :func:`cast_vote` would flag it); None when anything else holds (no such entry, a stage
    not open, an unverified voter, a vote already in the category), and nothing was written:
    :func:`ballot_for` and :func:`cast_vote` then find out which, and answer it."""
    if not isinstance(voter_id, int) or isinstance(voter_id, bool):
        return None
    if not _FIRST_VOTE:
        _FIRST_VOTE.append(_first_vote_statement())
    network = integrity.network_of(ip)
    try:
        row = conn.execute(_FIRST_VOTE[0], {
            "slug": slug, "reference": reference, "voter_id": voter_id, "now": now,
            "ip": ip[:45], "network": network, "reasons": [],
            "since": now - integrity.burst_window()}).first()
    except IntegrityError:
        return None
    if row is None:
        return None
    vote_id, stage_id, domain, others, nomination_id, changeable = row
    reasons = integrity.reasons_for_new_vote(voter_domain=domain or "")
    if reasons:
        conn.execute(_FLAG_VOTE, {"vote_id": vote_id, "reasons": reasons})
    integrity.flag_burst(conn, stage_id=stage_id, network=network, now=now,
                         count=(others or 0) + 1)
    return FirstVote(nomination_id, bool(changeable))


_FLAG_VOTE = (update(PublicVote.__table__)
              .where(PublicVote.__table__.c.id == bindparam("vote_id"))
              .values(flagged=True, flag_reasons=bindparam("reasons", type_=JSON)))


def vote_option(stage: Any, chosen_id: int | None, nomination_id: int | None) -> str | None:
    """What a confirmed voter may do for an entry of an open vote, the one rule the pages, the
    script and the vote's answer show: ``"vote"`` (no vote in its category yet), ``"move"``
    (their vote is on another entry and ``stage.votes_changeable``), or None (this entry is
    their choice, or their vote cannot change). ``chosen_id``: the nomination they chose in the
    entry's category (None: none yet); ``nomination_id`` None: any entry but their choice."""
    if chosen_id is None:
        return "vote"
    if nomination_id is not None and nomination_id == chosen_id:
        return None
    return "move" if stage.votes_changeable else None


class FirstVote(NamedTuple):
    """A first vote cast by :func:`cast_first_vote`: the entry chosen and whether the call lets
    the voter move it (what :func:`vote_option` needs)."""

    nomination_id: int
    votes_changeable: bool


def check_ballot_open(ballot: Ballot, now: datetime) -> None:
    """`common.check_open` for a :class:`Ballot`: the same refusals, in the same order."""
    if ballot.kind != StageKind.VOTE:
        raise StageError(_l("This call has no public vote."), status=404)
    if ballot.closed_at is not None or now >= ballot.closes_at:
        raise StageError(_l("The public stage is closed."))
    if now < ballot.opens_at:
        raise StageError(_l("The public stage has not opened yet."))


def cast_vote(conn: Connection, ballot: Ballot, *, ip: str,
              now: datetime | None = None) -> str:
    """The voter's vote for the ballot's entry, on a connection in autocommit mode and nothing
    else: ``"cast"``, ``"changed"`` (another entry of the category before) or ``"unchanged"``
    (the same entry again: a double click, a second tab, a retry). Each statement commits by
    itself and needs no second connection, so one voter's burst of parallel requests holds
    one connection per request and never waits for a connection it holds itself.

    The INSERT's unique constraint (stage, category, voter) decides, whatever the timing,
    whether this is a first vote; a first vote is then checked for a burst from its network."""
    now = now or utcnow()
    check_ballot_open(ballot, now)
    network = integrity.network_of(ip)
    reasons = integrity.reasons_for_new_vote(voter_domain=ballot.voter_domain or "")
    try:
        conn.execute(_VOTE_INSERT, {
            "stage_id": ballot.stage_id, "category_id": ballot.category_id,
            "voter_id": ballot.voter_id, "nomination_id": ballot.nomination_id, "cast_at": now,
            "changed_at": None, "ip": ip[:45], "network": network, "flagged": bool(reasons),
            "flag_reasons": reasons, "annulled_at": None, "annulled_by_id": None,
            "annul_reason": ""})
    except IntegrityError:
        return "changed" if _change_vote(conn, ballot, ip=ip, network=network, now=now) \
            else "unchanged"
    integrity.flag_burst(conn, stage_id=ballot.stage_id, network=network, now=now)
    return "cast"


_VOTE_INSERT = insert(PublicVote.__table__)
_VOTES = PublicVote.__table__
_STANDING_VOTE = (
    select(_VOTES.c.id, _VOTES.c.nomination_id, _VOTES.c.annulled_at)
    .where(_VOTES.c.stage_id == bindparam("stage_id"),
           _VOTES.c.category_id == bindparam("category_id"),
           _VOTES.c.voter_id == bindparam("voter_id"))
)
# Moves the vote only if it is still what was read: another request that moved or annulled it
# meanwhile makes this one read again instead of overwriting.
_MOVE_VOTE = (
    update(_VOTES)
    .where(_VOTES.c.id == bindparam("vote_id"),
           _VOTES.c.nomination_id == bindparam("seen_nomination_id"),
           _VOTES.c.annulled_at.is_(None))
    .values(nomination_id=bindparam("new_nomination_id"), changed_at=bindparam("now"),
            ip=bindparam("new_ip"), network=bindparam("new_network"))
)
MOVE_TRIES = 5


def _change_vote(conn: Connection, ballot: Ballot, *, ip: str, network: str,
                 now: datetime) -> bool:
    """After the INSERT found a vote in the category: the same choice again is not an error
    and returns False; another entry replaces the vote if the call allows it (True)."""
    keys = {"stage_id": ballot.stage_id, "category_id": ballot.category_id,
            "voter_id": ballot.voter_id}
    for _attempt in range(MOVE_TRIES):
        standing = conn.execute(_STANDING_VOTE, keys).first()
        if standing is None:  # the vote that blocked ours was removed meanwhile
            break
        if standing.annulled_at is not None:
            raise StageError(_l("Your vote in this category was annulled by the organisers."))
        if standing.nomination_id == ballot.nomination_id:
            return False
        if not ballot.votes_changeable:
            raise StageError(_l("You have already voted in this category, and votes cannot be "
                                "changed in this call."))
        moved = conn.execute(_MOVE_VOTE, {
            "vote_id": standing.id, "seen_nomination_id": standing.nomination_id,
            "new_nomination_id": ballot.nomination_id, "now": now, "new_ip": ip[:45],
            "new_network": network})
        if moved.rowcount == 1:
            return True
    raise StageError(_l("Your vote could not be saved. Please try again."))


def annul_vote(*, session: Session, actor, vote: PublicVote, reason: str,
               now: datetime | None = None) -> None:
    reason = (reason or "").strip()
    if not reason:
        raise StageError(_l("Give the reason for annulling the vote."), field="reason",
                         status=400)
    if vote.stage.closed_at is not None:
        raise StageError(_l("The public stage is closed; its votes can no longer be annulled."))
    if vote.annulled_at is not None:
        raise StageError(_l("This vote is already annulled."))
    vote.annulled_at = now or utcnow()
    vote.annulled_by_id = getattr(actor, "id", None)
    vote.annul_reason = reason[:REASON_MAX]
    session.flush()
    audit.record(session, action="public_stage.vote_annul", object_type="public_vote",
                 object_id=vote.id, actor=actor, call_id=vote.stage.call_id,
                 before={"flag_reasons": vote.flag_reasons},
                 after={"reason": vote.annul_reason, "category_id": vote.category_id,
                        "network": vote.network})


def flagged_votes(session: Session, stage: PublicStage) -> list[PublicVote]:
    return list(session.scalars(
        select(PublicVote).where(PublicVote.stage_id == stage.id,
                                 PublicVote.flagged.is_(True)
                                 | PublicVote.annulled_at.is_not(None))
        .options(selectinload(PublicVote.voter), selectinload(PublicVote.category))
        .order_by(PublicVote.annulled_at.is_not(None), PublicVote.cast_at, PublicVote.id)
    ))
