"""Reading the public stage for its pages: the stage and its state, the entries by category, a
candidate's page and public answers, the totals and the voter's standing votes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    and_,
    bindparam,
    func,
    select,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, contains_eager, joinedload, selectinload

from awards.calls.models import Call, Category, FormField
from awards.enums import (
    FieldType,
    NominationStatus,
    StageKind,
)
from awards.nominations.models import Answer, Attachment, Nomination
from awards.public_stage.common import IMAGE_TYPES
from awards.public_stage.models import (
    PublicStage,
    PublicVote,
    StageEntry,
    Voter,
)


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


def first_row(runner: Session | Connection, queries: dict[bool, Any], build, *, slug: str,
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
    row, with_voter = first_row(session, _CANDIDATE_PAGE_QUERIES, _candidate_page_query,
                                 slug=slug, reference=reference, voter_id=voter_id)
    if row is None:
        return None
    page = CandidatePage(call=row[0], stage=row[1], entry=row[2], photo_id=row[3])
    if with_voter:
        page.voter, page.choice = row[4], row[5]
    return page


def chosen_entry(session: Session, page: CandidatePage) -> Nomination | None:
    """The nomination the page's voter chose in the entry's category (this one or another)."""
    if page.choice is None:
        return None
    if page.entry is not None and page.entry.nomination_id == page.choice:
        return page.entry.nomination
    return session.get(Nomination, page.choice)


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



def is_photo_visible(session: Session, nomination_id: int, now: datetime) -> bool:
    """A photo is public only while its entry takes part in a stage that has opened."""
    return bool(session.scalar(
        select(StageEntry.id).join(PublicStage, PublicStage.id == StageEntry.stage_id)
        .where(StageEntry.nomination_id == nomination_id, PublicStage.opens_at <= now)
    ))




def jury_vote_count(session: Session, nomination_id: int) -> int | None:
    """The public vote count a juror may see as information, when the call shows it."""
    return session.scalar(
        select(StageEntry.votes).join(PublicStage, PublicStage.id == StageEntry.stage_id)
        .where(StageEntry.nomination_id == nomination_id,
               PublicStage.closed_at.is_not(None), PublicStage.show_counts_to_jury.is_(True),
               PublicStage.kind == StageKind.VOTE)
    )
