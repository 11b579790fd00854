"""Loading a round for its ranking, in a fixed number of bulk queries whatever the size of the
round (``load_round``), and its score sheets a chunk at a time (``score_sheets``)."""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from awards import policy
from awards.auth.models import User
from awards.calls.models import Call, Category
from awards.enums import (
    AssignmentStatus,
    NominationStatus,
    ReviewStatus,
    TotalMethod,
)
from awards.judging import Criterion as JCriterion
from awards.judging import (
    total_bounds,
)
from awards.jury.models import Assignment, Criterion, Review, Round, RoundEntry, Score
from awards.nominations.models import Nomination
from awards.policy.conflicts import Person, conflict_pairs

F = TypeVar("F", bound=Callable[..., Any])

# Entries that left the competition after they were added to a round are not ranked.
NOT_RANKED = (NominationStatus.WITHDRAWN, NominationStatus.INELIGIBLE)


def gc_paused(function: F) -> F:
    """Run without the cyclic garbage collector's pauses. Loading and ranking a large round
    create hundreds of thousands of short-lived rows and results, none of them in a cycle;
    every collection meanwhile would walk all the live objects again (measured: three to five
    times the work itself). Reference counting frees them just the same; collection resumes
    when the function returns."""

    @functools.wraps(function)
    def paused(*args, **kwargs):
        if not gc.isenabled():
            return function(*args, **kwargs)
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            gc.enable()

    return paused  # type: ignore[return-value]


# ---- loading ----------------------------------------------------------------------------------


class EntryInfo(NamedTuple):
    """One ranked entry (a named tuple: a large round loads tens of thousands of rows)."""

    id: int
    reference: str
    nominee_name: str
    organisation_name: str
    category_id: int
    status: NominationStatus

    @property
    def label(self) -> str:
        return self.reference or f"#{self.id}"


class ReviewRow(NamedTuple):
    review_id: int
    assignment_id: int
    entry_id: int
    juror_id: int
    submitted: bool
    total: float | None
    imported: bool


@dataclass
class RoundData:
    """Everything a ranking of one round needs, loaded once."""

    round: Round
    call: Call
    categories: list[Category]
    criteria: list[Criterion]
    total_method: TotalMethod
    entries: dict[int, EntryInfo]  # ordered by id
    reviews: list[ReviewRow]  # of active assignments, drafts included (they are reported),
    # in no particular order
    scores: dict[int, dict[str, float | None]] | None  # review id -> criterion key -> value
    jurors: dict[int, User]
    # Reviews left out because their juror is in conflict with the entry (declared or found).
    excluded: list[ReviewRow] = field(default_factory=list)

    def entries_of(self, category_id: int) -> list[EntryInfo]:
        return [e for e in self.entries.values() if e.category_id == category_id]

    @property
    def bounds(self) -> tuple[float, float] | None:
        if not self.criteria:
            return None
        return total_bounds(judging_criteria(self.criteria), self.total_method)


def judging_criteria(criteria: Iterable[Criterion]) -> tuple[JCriterion, ...]:
    return tuple(JCriterion(c.key, c.weight, c.min_score, c.max_score, c.step) for c in criteria)


@gc_paused
def load_round(session: Session, round_: Round, *, with_scores: bool = False,
               entry_ids: Collection[int] | None = None, category_id: int | None = None,
               viewer: policy.Viewer | None = None) -> RoundData:
    """Bulk-load a round: its categories and award levels, rubric, entries, reviews of active
    assignments, the jurors, and (``with_scores``) every criterion score. The number of queries
    does not depend on the number of entries or reviews. ``entry_ids`` or ``category_id``
    load only those entries (an entry's explanation needs its category alone).

    A review whose juror is in conflict with the entry never counts: it is moved to
    ``excluded``. With a ``viewer``, only the entries the policy lets them see are loaded
    (``policy.entry_condition``: a chair never meets an entry they are in conflict with), and in
    a blind round the nominee and organisation are blanked unless the viewer may see them. Such
    a viewer's ranking is computed over the entries they may see, so nothing of a hidden entry
    shows through, not even as a gap in the ranks."""
    call = round_.call
    categories = list(session.scalars(
        select(Category).where(Category.call_id == call.id)
        .options(selectinload(Category.award_levels))
        .order_by(Category.position, Category.id)))
    criteria = list(session.scalars(
        select(Criterion).where(Criterion.rubric_id == round_.rubric_id)
        .order_by(Criterion.position, Criterion.id))) if round_.rubric_id else []
    total_method = round_.rubric.total_method if round_.rubric is not None else call.total_method

    entry_query = (
        select(Nomination.id, Nomination.reference, Nomination.nominee_name,
               Nomination.organisation_name, Nomination.category_id, Nomination.status)
        .join(RoundEntry, RoundEntry.nomination_id == Nomination.id)
        .where(RoundEntry.round_id == round_.id, Nomination.status.not_in(NOT_RANKED))
        .order_by(Nomination.id))
    review_query = (
        select(Review.id, Assignment.id.label("assignment_id"), Assignment.nomination_id,
               Assignment.juror_id, (Review.status == ReviewStatus.SUBMITTED).label("submitted"),
               Review.total, Review.imported)
        .join(Assignment, Assignment.id == Review.assignment_id)
        .where(Assignment.round_id == round_.id, Assignment.status == AssignmentStatus.ACTIVE))
    # No ORDER BY: every use groups or sorts the rows itself, and sorting 50,000 rows in the
    # database costs as much again as reading them. No join with the round's entries either:
    # only the reviews of the entries loaded above are kept (below).
    if entry_ids is not None:
        entry_query = entry_query.where(Nomination.id.in_(list(entry_ids)))
        review_query = review_query.where(Assignment.nomination_id.in_(list(entry_ids)))
    if category_id is not None:
        entry_query = entry_query.where(Nomination.category_id == category_id)
        review_query = review_query.join(
            Nomination, Nomination.id == Assignment.nomination_id).where(
            Nomination.category_id == category_id)
    if viewer is not None:
        entry_query = entry_query.where(policy.entry_condition(viewer, round_))
    identity = viewer is None or policy.shows_identity(viewer, round_)
    entries = {
        row.id: EntryInfo(row.id, row.reference or "", row.nominee_name if identity else "",
                          row.organisation_name if identity else "", row.category_id,
                          row.status)
        for row in session.execute(entry_query)
    }
    make = ReviewRow._make
    loaded = [make(row) for row in session.execute(review_query) if row[2] in entries]
    juror_ids = sorted({r.juror_id for r in loaded})
    jurors = {u.id: u for u in session.scalars(select(User).where(User.id.in_(juror_ids)))} \
        if juror_ids else {}
    conflicted = juror_conflicts(session, call.id, jurors.values())
    reviews = [r for r in loaded if (r.juror_id, r.entry_id) not in conflicted]
    excluded = [r for r in loaded if (r.juror_id, r.entry_id) in conflicted]
    scores: dict[int, dict[str, float | None]] | None = None
    if with_scores and reviews:
        scores = {r.review_id: {} for r in reviews}
        score_query = (
            select(Score.review_id, Criterion.key, Score.value)
            .join(Criterion, Criterion.id == Score.criterion_id)
            .join(Review, Review.id == Score.review_id)
            .join(Assignment, Assignment.id == Review.assignment_id)
            .where(Assignment.round_id == round_.id,
                   Assignment.status == AssignmentStatus.ACTIVE))
        if entry_ids is not None:
            score_query = score_query.where(Assignment.nomination_id.in_(list(entry_ids)))
        for row in session.execute(score_query):
            if row.review_id in scores:
                scores[row.review_id][row.key] = row.value
    elif with_scores:
        scores = {}
    counted_jurors = {r.juror_id for r in reviews}
    jurors = {uid: user for uid, user in jurors.items() if uid in counted_jurors}
    return RoundData(round_, call, categories, criteria, total_method, entries, reviews,
                     scores, jurors, excluded)


SHEETS_PER_QUERY = 1000


def score_sheets(session: Session, reviews: Iterable[ReviewRow], *,
                 per_query: int | None = None
                 ) -> Iterator[tuple[ReviewRow, dict[str, float | None]]]:
    """The given reviews (a round's ``data.reviews``, drafts included) with their criterion
    scores, ordered by entry and juror, read ``per_query`` reviews at a time: a round's 400,000
    scores are never all in memory, and the first sheets are ready before the last are read
    (a streamed export)."""
    per_query = per_query or SHEETS_PER_QUERY
    reviews = sorted(reviews, key=lambda r: (r.entry_id, r.juror_id))
    for start in range(0, len(reviews), per_query):
        chunk = reviews[start:start + per_query]
        sheets: dict[int, dict[str, float | None]] = {r.review_id: {} for r in chunk}
        for review_id, key, value in session.execute(
                select(Score.review_id, Criterion.key, Score.value)
                .join(Criterion, Criterion.id == Score.criterion_id)
                .where(Score.review_id.in_(list(sheets)))):
            sheets[review_id][key] = value
        for review in chunk:
            yield review, sheets[review.review_id]


def juror_conflicts(session: Session, call_id: int,
                    jurors: Iterable[User]) -> set[tuple[int, int]]:
    """(juror id, nomination id) for every entry of the call each juror is in conflict with,
    by the policy's rule (declared, applicant, nominee e-mail, organisation), in a fixed
    number of queries whatever the size of the panel."""
    return conflict_pairs(session, [Person.of(user) for user in jurors], call_id)
