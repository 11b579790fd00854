"""The public stage: its setup, the votes, the moderated comments and the close that sends the
top entries on to the first jury round.

Services take keyword-only arguments, flush and leave the commit to the caller. Setup,
annulments, moderation and closing are audited; single votes and comments are not (there are
tens of thousands, each is stored with its time, address and network, and an administrator's
act on one of them is audited)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    and_,
    bindparam,
    delete,
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
from sqlalchemy.orm import Session, contains_eager, joinedload, selectinload

from awards import audit
from awards.audit import AuditEvent
from awards.auth.models import User
from awards.calls.models import Call, Category, FormField
from awards.db import utcnow
from awards.enums import (
    AssignmentStatus,
    CallStatus,
    CommentStatus,
    DecisionKind,
    FieldType,
    NominationStatus,
    StageKind,
)
from awards.judging.public_vote import Candidate, InvalidChoice, select_advancing
from awards.jury.models import Assignment, Review, Round, RoundEntry
from awards.nominations.models import Answer, Attachment, Nomination
from awards.public_stage import integrity
from awards.public_stage.models import (
    CommentReport,
    PublicStage,
    PublicVote,
    StageComment,
    StageEntry,
    Voter,
)
from awards.ranking.models import Decision
from awards.refusals import Refusal

IMAGE_TYPES = ("image/jpeg", "image/png")
NAME_MAX = 120
COMMENT_MAX = 2000
REASON_MAX = 2000


class StageError(Refusal):
    """A refusal with a message for the person and the HTTP status that fits it."""

    status = 409

    def __init__(self, message, *, field: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if status is not None:
            self.status = status


class NeedsChoice(StageError):
    """Tie rule ``admin_choice``: entries are tied at the cut and nobody chose among them."""

    def __init__(self, pending: list[dict[str, Any]]):
        super().__init__(_l("Entries are tied at the cut. Choose which of them advance."))
        self.pending = pending


# ---- reading ------------------------------------------------------------------------------


def stage_of(session: Session, call: Call) -> PublicStage | None:
    return session.scalar(select(PublicStage).where(PublicStage.call_id == call.id))


def call_and_stage(session: Session, slug: str) -> tuple[Call, PublicStage | None] | None:
    """The call with that slug and its stage (None if it has none), in one query."""
    row = session.execute(select(Call, PublicStage)
                          .outerjoin(PublicStage, PublicStage.call_id == Call.id)
                          .where(Call.slug == slug)).first()
    return None if row is None else (row[0], row[1])


def state(stage: PublicStage | None, now: datetime) -> str:
    """``none``, ``upcoming``, ``open``, ``ended`` (past its close time, not yet closed) or
    ``closed``."""
    if stage is None:
        return "none"
    if stage.closed_at is not None:
        return "closed"
    if now < stage.opens_at:
        return "upcoming"
    if now < stage.closes_at:
        return "open"
    return "ended"


def public_name(nomination: Nomination) -> str:
    return nomination.nominee_name or nomination.organisation_name or nomination.reference or ""


def entries_by_category(session: Session,
                        stage: PublicStage) -> list[tuple[Category, list[StageEntry]]]:
    entries = session.scalars(
        select(StageEntry).where(StageEntry.stage_id == stage.id)
        .options(selectinload(StageEntry.nomination)).order_by(StageEntry.id)
    ).all()
    grouped: dict[int, list[StageEntry]] = {}
    for entry in entries:
        grouped.setdefault(entry.category_id, []).append(entry)
    for group in grouped.values():
        group.sort(key=lambda e: (e.nomination.reference or "", e.id))
    return [(c, grouped[c.id]) for c in stage.call.categories if c.id in grouped]


@dataclass
class CandidatePage:
    """What a candidate's page shows, read in one query."""

    call: Call
    stage: PublicStage | None
    entry: StageEntry | None
    photo_id: int | None = None  # the public photo, if there is one
    voter: Voter | None = None  # the verified voter of this browser
    choice: int | None = None  # the nomination the voter chose in the entry's category


def _candidate_page_query(with_voter: bool):
    photo = (
        select(Attachment.id).join(FormField, FormField.id == Attachment.field_id)
        .where(Attachment.nomination_id == Nomination.id, FormField.is_public.is_(True),
               Attachment.content_type.in_(IMAGE_TYPES))
        .order_by(Attachment.uploaded_at, Attachment.id).limit(1)
        .correlate(Nomination).scalar_subquery()
    )
    query = (
        select(Call, PublicStage, StageEntry, photo)
        .outerjoin(PublicStage, PublicStage.call_id == Call.id)
        .outerjoin(Nomination, and_(Nomination.call_id == Call.id,
                                    Nomination.reference == bindparam("reference")))
        .outerjoin(StageEntry, and_(StageEntry.stage_id == PublicStage.id,
                                    StageEntry.nomination_id == Nomination.id))
        .where(Call.slug == bindparam("slug"))
        .options(contains_eager(StageEntry.nomination), joinedload(StageEntry.category))
    )
    if with_voter:
        # At most one standing vote per voter and category (the unique constraint).
        query = (query.add_columns(Voter, PublicVote.nomination_id)
                 .outerjoin(Voter, and_(Voter.id == bindparam("voter_id"),
                                        Voter.verified_at.is_not(None)))
                 .outerjoin(PublicVote, and_(PublicVote.stage_id == PublicStage.id,
                                             PublicVote.category_id == StageEntry.category_id,
                                             PublicVote.voter_id == Voter.id,
                                             PublicVote.annulled_at.is_(None))))
    return query


# Built once: the candidate's page is the busiest page of a campaign, and building the
# statement cost as much as running it.
_CANDIDATE_PAGE_QUERIES: dict[bool, Any] = {}


def _first_row(runner: Session | Connection, queries: dict[bool, Any], build, *, slug: str,
               reference: str, voter_id: object) -> tuple[Any, bool]:
    """The first row of the statement for a call's entry, and for the browser's voter if the
    session names one (an integer id); each shape of statement is built once, into
    ``queries``. Returns (row or None, whether the voter was asked for)."""
    with_voter = isinstance(voter_id, int) and not isinstance(voter_id, bool)
    query = queries.get(with_voter)
    if query is None:
        query = queries[with_voter] = build(with_voter)
    params = {"slug": slug, "reference": reference}
    if with_voter:
        params["voter_id"] = voter_id
    return runner.execute(query, params).first(), with_voter


def candidate_page(session: Session, slug: str, reference: str, voter_id: object = None
                   ) -> CandidatePage | None:
    """The call, its stage, the entry with that reference in the stage (with its nomination
    and category), whether it has a public photo and, for a verified voter, their standing
    vote in the entry's category: one query. None when there is no such call."""
    row, with_voter = _first_row(session, _CANDIDATE_PAGE_QUERIES, _candidate_page_query,
                                 slug=slug, reference=reference, voter_id=voter_id)
    if row is None:
        return None
    page = CandidatePage(call=row[0], stage=row[1], entry=row[2], photo_id=row[3])
    if with_voter:
        page.voter, page.choice = row[4], row[5]
    return page


def entry_for(session: Session, stage: PublicStage, reference: str) -> StageEntry | None:
    """The entry with its nomination and category, in one query (the candidate's page)."""
    return session.scalar(
        select(StageEntry).join(Nomination, Nomination.id == StageEntry.nomination_id)
        .where(StageEntry.stage_id == stage.id, Nomination.reference == reference)
        .options(contains_eager(StageEntry.nomination), joinedload(StageEntry.category))
    )


def eligible_nominations(session: Session, call: Call) -> list[Nomination]:
    return list(session.scalars(
        select(Nomination).where(Nomination.call_id == call.id,
                                 Nomination.status == NominationStatus.ELIGIBLE)
        .order_by(Nomination.category_id, Nomination.reference, Nomination.id)
    ))


def _public_answers_query():
    return (
        select(FormField, Answer.value)
        .outerjoin(Answer, and_(Answer.field_id == FormField.id,
                                Answer.nomination_id == bindparam("nomination_id")))
        .where(FormField.call_id == bindparam("call_id"), FormField.is_public.is_(True),
               FormField.type != FieldType.FILE)
        .order_by(FormField.position, FormField.id, Answer.id)
    )


_PUBLIC_ANSWERS: list = []


def public_answers(session: Session, nomination: Nomination) -> list[tuple[str, Any, bool]]:
    """(label, value, is_long) for the answers the administrator marked public, files aside:
    the public fields and this nomination's answers to them in one query."""
    from awards.i18n import localized
    from awards.nominations.formbuilder import display_value

    if not _PUBLIC_ANSWERS:
        _PUBLIC_ANSWERS.append(_public_answers_query())
    found = session.execute(_PUBLIC_ANSWERS[0], {"nomination_id": nomination.id,
                                                 "call_id": nomination.call_id}).all()
    rows, seen = [], set()
    for definition, value in found:
        if definition.id in seen or not definition.applies_to(
                category_id=nomination.category_id, nominator_kind=nomination.nominator_kind):
            continue
        seen.add(definition.id)
        shown = display_value(definition, value)
        if shown:
            rows.append((localized(definition, "label") or definition.key, shown,
                         definition.type == FieldType.LONG_TEXT))
    return rows


def public_photo(session: Session, nomination: Nomination) -> Attachment | None:
    """The first image uploaded to a file field marked public."""
    return session.scalar(
        select(Attachment).join(FormField, FormField.id == Attachment.field_id)
        .where(Attachment.nomination_id == nomination.id, FormField.is_public.is_(True),
               Attachment.content_type.in_(IMAGE_TYPES))
        .order_by(Attachment.uploaded_at, Attachment.id).limit(1)
    )


@dataclass
class Numbers:
    votes: int = 0
    flagged: int = 0
    annulled: int = 0
    voters: int = 0


def overall_numbers(session: Session, stage: PublicStage) -> Numbers:
    """Totals over the whole stage; per-entry counts are never computed before the close."""
    row = session.execute(
        select(func.count(PublicVote.id),
               func.count(PublicVote.id).filter(PublicVote.flagged.is_(True),
                                                PublicVote.annulled_at.is_(None)),
               func.count(PublicVote.annulled_at),
               func.count(func.distinct(PublicVote.voter_id)))
        .where(PublicVote.stage_id == stage.id)
    ).one()
    return Numbers(votes=row[0] - row[2], flagged=row[1], annulled=row[2], voters=row[3])


def voter_with_choices(session: Session, stage: PublicStage, voter_id: object
                       ) -> tuple[Voter | None, dict[int, int]]:
    """The verified voter of this browser and {category id: nomination id} of their standing
    votes in the stage, in one query; (None, {}) for anyone else."""
    if not isinstance(voter_id, int) or isinstance(voter_id, bool):
        return None, {}
    rows = session.execute(
        select(Voter, PublicVote.category_id, PublicVote.nomination_id)
        .outerjoin(PublicVote, and_(PublicVote.voter_id == Voter.id,
                                    PublicVote.stage_id == stage.id,
                                    PublicVote.annulled_at.is_(None)))
        .where(Voter.id == voter_id, Voter.verified_at.is_not(None))
    ).all()
    if not rows:
        return None, {}
    return rows[0][0], {r[1]: r[2] for r in rows if r[1] is not None}


# ---- setup --------------------------------------------------------------------------------

STAGE_FIELDS = ("kind", "opens_at", "closes_at", "advance_per_category", "tie_rule",
                "votes_changeable", "show_counts_to_jury")


def _snapshot(stage: PublicStage) -> dict[str, Any]:
    return {name: (getattr(stage, name).isoformat() if isinstance(getattr(stage, name), datetime)
                   else str(getattr(stage, name)) if name in ("kind", "tie_rule")
                   else getattr(stage, name)) for name in STAGE_FIELDS}


def _check_values(stage: PublicStage | None, values: Mapping[str, Any], now: datetime) -> None:
    if values["closes_at"] <= values["opens_at"]:
        raise StageError(_l("The close must come after the opening."), field="closes_at",
                         status=400)
    if values["advance_per_category"] < 1:
        raise StageError(_l("At least one entry per category must advance."),
                         field="advance_per_category", status=400)
    if stage is None:
        return
    if stage.closed_at is not None:
        raise StageError(_l("The public stage is closed and can no longer be changed."))
    started = stage.opens_at <= now
    if started and StageKind(values["kind"]) != stage.kind:
        raise StageError(_l("The kind of stage cannot change once it has opened."), field="kind")
    if started and values["opens_at"] != stage.opens_at:
        raise StageError(_l("The opening cannot move once the stage has opened."),
                         field="opens_at")


def save_stage(*, session: Session, actor, call: Call, values: Mapping[str, Any],
               now: datetime | None = None) -> tuple[PublicStage, bool]:
    """Create the call's stage (with every eligible entry taking part) or change it.
    Returns the stage and whether anything changed."""
    now = now or utcnow()
    stage = stage_of(session, call)
    _check_values(stage, values, now)
    if stage is None:
        stage = PublicStage(call=call, **{k: values[k] for k in STAGE_FIELDS})
        session.add(stage)
        session.flush()
        ids = [n.id for n in eligible_nominations(session, call)]
        _insert_entries(session, stage, ids)
        audit.record(session, action="public_stage.create", object_type="public_stage",
                     object_id=stage.id, actor=actor, call_id=call.id,
                     after={**_snapshot(stage), "entries": len(ids)})
        return stage, True
    before = _snapshot(stage)
    for name in STAGE_FIELDS:
        setattr(stage, name, values[name])
    after = _snapshot(stage)
    if before == after:
        return stage, False
    session.flush()
    audit.record(session, action="public_stage.update", object_type="public_stage",
                 object_id=stage.id, actor=actor, call_id=call.id, before=before, after=after)
    return stage, True


def _insert_entries(session: Session, stage: PublicStage, ids: Collection[int]) -> None:
    if not ids:
        return
    by_id = dict(session.execute(
        select(Nomination.id, Nomination.category_id).where(Nomination.id.in_(list(ids)))
    ).all())
    session.execute(insert(StageEntry), [
        {"stage_id": stage.id, "nomination_id": nid, "category_id": by_id[nid],
         "tied_at_cut": False}
        for nid in sorted(ids)
    ])
    session.expire(stage, ["entries"])


def set_entries(*, session: Session, actor, stage: PublicStage, nomination_ids: Collection[int],
                now: datetime | None = None) -> bool:
    """Choose the entries taking part; only before the stage opens, and only eligible ones."""
    now = now or utcnow()
    if stage.closed_at is not None or stage.opens_at <= now:
        raise StageError(_l("The entries cannot change once the stage has opened."))
    wanted = set(nomination_ids)
    eligible = {n.id for n in eligible_nominations(session, stage.call)}
    if not wanted <= eligible:
        raise StageError(_l("Only eligible entries of this call can take part."), status=400)
    present = {e.nomination_id for e in stage.entries}
    added, removed = sorted(wanted - present), sorted(present - wanted)
    if not added and not removed:
        return False
    for entry in list(stage.entries):
        if entry.nomination_id in removed:
            session.delete(entry)
    session.flush()
    _insert_entries(session, stage, added)
    audit.record(session, action="public_stage.entries", object_type="public_stage",
                 object_id=stage.id, actor=actor, call_id=stage.call_id,
                 before={"count": len(present)},
                 after={"count": len(wanted), "added": added, "removed": removed})
    return True


# ---- votes --------------------------------------------------------------------------------


def _check_open(stage: PublicStage, now: datetime, kind: StageKind) -> None:
    if stage.kind != kind:
        raise StageError(_l("This call has no public vote.") if kind == StageKind.VOTE
                         else _l("This call has no public discussion."), status=404)
    if stage.closed_at is not None or now >= stage.closes_at:
        raise StageError(_l("The public stage is closed."))
    if now < stage.opens_at:
        raise StageError(_l("The public stage has not opened yet."))


# The vote itself is the busiest request of a campaign (tens of thousands in a few days, most
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
    row, _with_voter = _first_row(conn, _BALLOT_QUERIES, _ballot_query, slug=slug,
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
    return (insert(votes)
            .from_select(["stage_id", "category_id", "voter_id", "nomination_id", "cast_at",
                          "changed_at", "ip", "network", "flagged", "flag_reasons",
                          "annulled_at", "annulled_by_id", "annul_reason"], rows)
            .returning(votes.c.id, votes.c.stage_id, domain, others))


_FIRST_VOTE: list = []


def cast_first_vote(conn: Connection, *, slug: str, reference: str, voter_id: object, ip: str,
                    now: datetime) -> bool:
    """The busiest case of the vote in one statement: a verified voter's first vote in the
    category, for an entry of an open vote. True when it was cast (then flagged as
    :func:`cast_vote` would flag it); False when anything else holds (no such entry, a stage
    not open, an unverified voter, a vote already in the category), and nothing was written:
    :func:`ballot_for` and :func:`cast_vote` then find out which, and answer it."""
    if not isinstance(voter_id, int) or isinstance(voter_id, bool):
        return False
    if not _FIRST_VOTE:
        _FIRST_VOTE.append(_first_vote_statement())
    network = integrity.network_of(ip)
    try:
        row = conn.execute(_FIRST_VOTE[0], {
            "slug": slug, "reference": reference, "voter_id": voter_id, "now": now,
            "ip": ip[:45], "network": network, "reasons": [],
            "since": now - integrity.burst_window()}).first()
    except IntegrityError:
        return False
    if row is None:
        return False
    vote_id, stage_id, domain, others = row
    reasons = integrity.reasons_for_new_vote(voter_domain=domain or "")
    if reasons:
        conn.execute(_FLAG_VOTE, {"vote_id": vote_id, "reasons": reasons})
    integrity.flag_burst(conn, stage_id=stage_id, network=network, now=now,
                         count=(others or 0) + 1)
    return True


_FLAG_VOTE = (update(PublicVote.__table__)
              .where(PublicVote.__table__.c.id == bindparam("vote_id"))
              .values(flagged=True, flag_reasons=bindparam("reasons", type_=JSON)))


def check_ballot_open(ballot: Ballot, now: datetime) -> None:
    """:func:`_check_open` for a :class:`Ballot`: the same refusals, in the same order."""
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


# ---- close and advance --------------------------------------------------------------------


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


def first_round(session: Session, call_id: int) -> Round | None:
    return session.scalar(select(Round).where(Round.call_id == call_id)
                          .order_by(Round.position, Round.id).limit(1))


def advance_to_first_round(*, session: Session, actor, stage: PublicStage) -> int:
    """Apply the vote's outcome to the call's first round (by position), once: add the
    advanced entries and take out those that did not advance (added before the close, e.g.
    "all eligible"), with their assignments. An entry someone already reviewed there stays,
    and the audit says so. A round created after the close gets the outcome on the next run;
    once applied, the round is the administrators' again, so running it again changes
    nothing. Returns how many entries were added."""
    if stage.closed_at is None or stage.kind != StageKind.VOTE:
        return 0
    target = first_round(session, stage.call_id)
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


def jury_vote_count(session: Session, nomination_id: int) -> int | None:
    """The public vote count a juror may see as information, when the call shows it."""
    return session.scalar(
        select(StageEntry.votes).join(PublicStage, PublicStage.id == StageEntry.stage_id)
        .where(StageEntry.nomination_id == nomination_id,
               PublicStage.closed_at.is_not(None), PublicStage.show_counts_to_jury.is_(True),
               PublicStage.kind == StageKind.VOTE)
    )


# ---- comments -----------------------------------------------------------------------------


def post_comment(*, session: Session, stage: PublicStage, voter: Voter, entry: StageEntry,
                 author_name: str, body: str, ip: str, now: datetime | None = None) -> StageComment:
    now = now or utcnow()
    _check_open(stage, now, StageKind.DISCUSSION)
    author_name, body = (author_name or "").strip(), (body or "").strip()
    if not author_name:
        raise StageError(_l("Give your name."), field="author_name", status=400)
    if not body:
        raise StageError(_l("Write your comment."), field="body", status=400)
    comment = StageComment(stage_id=stage.id, nomination_id=entry.nomination_id,
                           voter_id=voter.id, author_name=author_name[:NAME_MAX],
                           body=body[:COMMENT_MAX], ip=ip[:45], created_at=now)
    session.add(comment)
    session.flush()
    return comment


def approved_comments(session: Session, stage: PublicStage,
                      nomination_id: int) -> list[StageComment]:
    return list(session.scalars(
        select(StageComment).where(StageComment.stage_id == stage.id,
                                   StageComment.nomination_id == nomination_id,
                                   StageComment.status == CommentStatus.APPROVED)
        .order_by(StageComment.created_at, StageComment.id)
    ))


def moderation_queue(session: Session, stage: PublicStage) -> list[StageComment]:
    return list(session.scalars(
        select(StageComment).where(StageComment.stage_id == stage.id,
                                   StageComment.status == CommentStatus.PENDING)
        .options(selectinload(StageComment.nomination), selectinload(StageComment.reports))
        .order_by(StageComment.created_at, StageComment.id)
    ))


def moderate_comment(*, session: Session, actor, comment: StageComment, approve: bool,
                     reason: str = "", now: datetime | None = None) -> None:
    reason = (reason or "").strip()
    if not approve and not reason:
        raise StageError(_l("Give the reason for rejecting the comment."), field="reason",
                         status=400)
    if comment.status != CommentStatus.PENDING:
        raise StageError(_l("This comment was already moderated."))
    now = now or utcnow()
    before = {"status": str(comment.status), "reports": comment.report_count}
    comment.status = CommentStatus.APPROVED if approve else CommentStatus.REJECTED
    comment.moderated_at = now
    comment.moderated_by_id = getattr(actor, "id", None)
    comment.moderation_reason = reason[:REASON_MAX]
    for report in comment.reports:
        if report.resolved_at is None:
            report.resolved_at = now
    # A comment approved again starts over; those who reported it cannot report it again.
    comment.report_count = 0
    session.flush()
    audit.record(session, action="public_stage.comment_" + ("approve" if approve else "reject"),
                 object_type="stage_comment", object_id=comment.id, actor=actor,
                 call_id=comment.stage.call_id, before=before,
                 after={"status": str(comment.status), "reason": comment.moderation_reason})


def report_comment(*, session: Session, comment: StageComment, voter: Voter, ip: str,
                   reason: str = "") -> bool:
    """One report per voter. Returns True when this report sent the comment back to the
    moderation queue."""
    if comment.status != CommentStatus.APPROVED:
        raise StageError(_l("This comment is not published."), status=404)
    exists = session.scalar(select(CommentReport.id).where(
        CommentReport.comment_id == comment.id, CommentReport.voter_id == voter.id))
    if exists:
        raise StageError(_l("You have already reported this comment."))
    session.add(CommentReport(comment_id=comment.id, voter_id=voter.id, ip=ip[:45],
                              reason=(reason or "").strip()[:REASON_MAX]))
    comment.report_count += 1
    session.flush()
    if comment.report_count < int(current_app.config["PUBLIC_COMMENT_REPORTS_TO_REQUEUE"]):
        return False
    comment.status = CommentStatus.PENDING
    session.flush()
    audit.record(session, action="public_stage.comment_requeue", object_type="stage_comment",
                 object_id=comment.id, actor=None, call_id=comment.stage.call_id,
                 after={"reports": comment.report_count})
    return True


def is_photo_visible(session: Session, nomination_id: int, now: datetime) -> bool:
    """A photo is public only while its entry takes part in a stage that has opened."""
    return bool(session.scalar(
        select(StageEntry.id).join(PublicStage, PublicStage.id == StageEntry.stage_id)
        .where(StageEntry.nomination_id == nomination_id, PublicStage.opens_at <= now)
    ))


