"""Rankings of a round, their explanations, and the decisions taken on them (advance to the next
round, award levels).

Loading is done in a fixed number of bulk queries whatever the size of the round
(``load_round``); everything after that is pure: the judging library scores, ranks, measures
agreement and stability. Services take keyword-only arguments, flush and audit; the caller
commits.

Decisions that change state carry a *state digest* of what the administrator saw (the active
decisions of the category); the service recomputes it after taking a lock on the category row,
so two administrators deciding at once cannot overwrite each other: the second one is refused
(``StaleState``, answered with 409)."""

from __future__ import annotations

import functools
import gc
import hashlib
import json
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, selectinload

from awards import audit, policy
from awards.auth.models import User
from awards.calls.models import AwardLevel, Call, Category
from awards.db import utcnow
from awards.enums import (
    AggregationMethod,
    AssignmentStatus,
    CallStatus,
    DecisionKind,
    NominationStatus,
    ReviewStatus,
    TotalMethod,
)
from awards.judging import (
    DEFAULT_TIE_BREAKS,
    Aggregation,
    AgreementReport,
    EntryResult,
    EntryStability,
    RankedEntry,
    Ranking,
    Stability,
    check_tie_breaks,
    criterion_means,
    fast,
    total_bounds,
)
from awards.judging import Criterion as JCriterion
from awards.jury.models import Assignment, Criterion, Review, Round, RoundEntry, Score
from awards.nominations.models import Nomination
from awards.policy.conflicts import Person, conflict_pairs
from awards.ranking.models import Decision

F = TypeVar("F", bound=Callable[..., Any])

# Entries that left the competition after they were added to a round are not ranked.
NOT_RANKED = (NominationStatus.WITHDRAWN, NominationStatus.INELIGIBLE)
# The bootstrap costs iterations x reviews; a large category gets fewer resamples so the page
# stays fast (the flags need only two decimals of precision).
BOOTSTRAP_BUDGET = 400_000
BOOTSTRAP_MAX_ITERATIONS = 1000
BOOTSTRAP_MIN_ITERATIONS = 50
BOOTSTRAP_SEED = 0


# ---- refusals ---------------------------------------------------------------------------------


class RankingError(Exception):
    """A request refused by a rule; nothing was changed. ``status`` is the HTTP answer."""

    status = 400

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class StaleState(RankingError):
    """Someone else changed the decisions since the page was loaded."""

    status = 409


class CallPublished(RankingError):
    status = 409


class NotInThisPhase(RankingError):
    """The call's phase (or the person) does not allow it; ``status`` comes from the policy."""

    def __init__(self, message, status: int = 409):
        super().__init__(message)
        self.status = status


class LevelFull(RankingError):
    pass


class EntryReviewed(RankingError):
    """An "advance" cannot be revoked: the entry is already reviewed in the next round."""

    status = 409


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


# ---- ranking ----------------------------------------------------------------------------------


METHODS = tuple(m.value for m in AggregationMethod)


def parse_method(value: str | None, default: AggregationMethod) -> AggregationMethod:
    try:
        return AggregationMethod(value) if value else AggregationMethod(default)
    except ValueError:
        raise RankingError(_l("Unknown ranking method.")) from None


def tie_breaks_of(call: Call) -> tuple[str, ...]:
    """The call's configured order, falling back to the library's default when it names a
    tie-break this round cannot compute."""
    configured = tuple(call.tiebreak or ())
    try:
        return check_tie_breaks(configured)
    except ValueError:
        return DEFAULT_TIE_BREAKS


@dataclass
class RankedRow:
    entry: EntryInfo
    ranked: RankedEntry
    result: EntryResult
    totals: list[float]  # submitted totals, for the distribution
    stability: EntryStability | None = None
    compare: RankedEntry | None = None

    @property
    def incomplete(self) -> bool:
        return not self.result.complete

    @property
    def no_data(self) -> bool:
        return self.ranked.score is None

    @property
    def rank_change(self) -> int | None:
        """Places gained (+) or lost (-) under the compared method; None without both ranks."""
        if self.compare is None or self.compare.rank is None or self.ranked.rank is None:
            return None
        return self.ranked.rank - self.compare.rank


@dataclass
class CategoryRanking:
    category: Category
    rows: list[RankedRow]
    ranking: Ranking
    agreement: AgreementReport
    top_n: int
    stability: Stability | None
    compare_ranking: Ranking | None = None
    excluded: int = 0  # reviews left out for a conflict of interest
    aggregation: Aggregation | None = None

    @functools.cached_property
    def left_to_jury(self) -> list[list[int]]:
        return self.ranking.left_to_jury

    @functools.cached_property
    def entry_means(self) -> list[float]:
        """The mean review total of each entry that has one (the histogram's data)."""
        return [sum(row.totals) / len(row.totals) for row in self.rows if row.totals]


@dataclass
class RoundRanking:
    data: RoundData
    method: AggregationMethod
    compare_method: AggregationMethod | None
    trim: int
    tie_breaks: tuple[str, ...]
    categories: list[CategoryRanking] = field(default_factory=list)

    def row(self, entry_id: int) -> RankedRow | None:
        for category in self.categories:
            for row in category.rows:
                if row.entry.id == entry_id:
                    return row
        return None


def bootstrap_iterations(review_count: int) -> int:
    if review_count <= 0:
        return BOOTSTRAP_MIN_ITERATIONS
    return max(BOOTSTRAP_MIN_ITERATIONS,
               min(BOOTSTRAP_MAX_ITERATIONS, BOOTSTRAP_BUDGET // review_count))


@gc_paused
def rank_round(data: RoundData, *, method: AggregationMethod,
               compare: AggregationMethod | None = None, top_n: int | None = None,
               category_id: int | None = None, stability: bool = True) -> RoundRanking:
    """Rank every category of the round (pure: no queries).

    Each category is scored on its own: jurors' scales (z-score), ranks and Borda points are
    taken over the entries of that category, as are the agreement and the bootstrap, so the
    three always describe the same comparison."""
    call = data.call
    trim = call.trim_k
    tie_breaks = tie_breaks_of(call)
    needs_means = any(t.startswith("criterion:") for t in tie_breaks)
    if needs_means and data.scores is None:
        tie_breaks = tuple(t for t in tie_breaks if not t.startswith("criterion:"))
        needs_means = False
    result = RoundRanking(data, method, compare, trim, tie_breaks)
    required = data.round.reviews_per_entry
    # Entries and reviews by category, in one pass each.
    entries_by_category: dict[int, list[EntryInfo]] = {}
    for e in data.entries.values():
        entries_by_category.setdefault(e.category_id, []).append(e)
    category_of = {e.id: e.category_id for e in data.entries.values()}
    rows_by_category: dict[int, list[ReviewRow]] = {}
    for r in data.reviews:
        rows_by_category.setdefault(category_of[r.entry_id], []).append(r)
    excluded_by_category: dict[int, int] = {}
    for r in data.excluded:
        c = category_of.get(r.entry_id)
        excluded_by_category[c] = excluded_by_category.get(c, 0) + 1
    for category in data.categories:
        if category_id is not None and category.id != category_id:
            continue
        entries = entries_by_category.get(category.id, [])
        entry_ids = [e.id for e in entries]
        rows = rows_by_category.get(category.id, [])
        # The category's reviews in columns, shared by both methods, the agreement figures
        # and the bootstrap (``judging.fast``: the reference functions' results, faster).
        panel = fast.Panel(rows, entry_ids)
        means = None
        if needs_means:
            means = criterion_means(
                (r.entry_id, data.scores.get(r.review_id, {}))  # type: ignore[union-attr]
                for r in rows if r.submitted)
        aggregation = fast.aggregate(panel, method, required_reviews=required, trim=trim)
        ranking = fast.rank(panel, aggregation, tie_breaks=tie_breaks, criterion_means=means)
        compare_ranking = None
        if compare is not None:
            compare_ranking = fast.rank(
                panel, fast.aggregate(panel, compare, required_reviews=required, trim=trim),
                tie_breaks=tie_breaks, criterion_means=means)
        n = top_n if top_n is not None else category.winners_count
        stab = None
        counted = len(panel.t)
        if stability and n >= 1 and counted:
            stab = fast.bootstrap_top_n(panel, method, top_n=n, trim=trim,
                                        iterations=bootstrap_iterations(counted),
                                        seed=BOOTSTRAP_SEED)
        stab_index = {s.entry_id: s for s in stab.entries} if stab else {}
        info = {e.id: e for e in entries}
        totals = dict(zip(panel.entry_ids, panel.sorted_totals(), strict=True))
        results = {e.entry_id: e for e in aggregation.entries}
        compared = {e.entry_id: e for e in compare_ranking.entries} if compare_ranking else {}
        out_rows = [
            RankedRow(info[ranked.entry_id], ranked, results[ranked.entry_id],
                      totals[ranked.entry_id], stab_index.get(ranked.entry_id),
                      compared.get(ranked.entry_id))
            for ranked in ranking.entries
        ]
        result.categories.append(CategoryRanking(
            category=category, rows=out_rows, ranking=ranking,
            agreement=fast.agreement_report(panel), top_n=n, stability=stab,
            compare_ranking=compare_ranking, aggregation=aggregation,
            excluded=excluded_by_category.get(category.id, 0)))
    return result


def round_ranking(*, session: Session, round: Round, method: AggregationMethod | None = None,
                  compare: AggregationMethod | None = None, top_n: int | None = None,
                  category_id: int | None = None, stability: bool = True,
                  viewer: policy.Viewer | None = None) -> RoundRanking:
    """Load and rank a round in one go (the page, the exports, the API and the command use
    this). With a ``viewer``, the policy decides whether they may see the ranking at all
    (``policy.Forbidden``) and which entries and names they meet; without one (the command,
    advancing the top N) every entry is ranked."""
    call = round.call
    if viewer is not None:
        policy.require(viewer, policy.Action.SEE_RANKING, round, now=utcnow())
    method = AggregationMethod(method or call.aggregation_method)
    needs_scores = any(str(t).startswith("criterion:") for t in (call.tiebreak or ()))
    data = load_round(session, round, with_scores=needs_scores, category_id=category_id,
                      viewer=viewer)
    return rank_round(data, method=method, compare=compare, top_n=top_n,
                      category_id=category_id, stability=stability)


# ---- one entry's explanation ------------------------------------------------------------------


@dataclass
class ReviewDetail:
    number: int  # 1..n in juror-id order: "Juror 1" for readers who may not see names
    juror: User | None
    row: ReviewRow
    scores: dict[str, float | None]
    value: float | None  # what the method fed into the score
    dropped: bool


@dataclass
class EntryExplanation:
    ranking: RoundRanking
    row: RankedRow
    reviews: list[ReviewDetail]
    round_steps: list  # the method and the scales of this entry's jurors
    juror_numbers: dict[int, int]
    excluded: int = 0  # this entry's reviews left out for a conflict of interest


def explain_entry(*, session: Session, round: Round, nomination_id: int,
                  method: AggregationMethod | None = None,
                  viewer: policy.Viewer | None = None) -> EntryExplanation | None:
    """The reviews behind one entry and the method's steps, ranked among its category. None if
    the entry is not ranked in this round, or (``viewer``) is not one they may see: the same
    rule as the list, so the two never disagree."""
    call = round.call
    if viewer is not None:
        policy.require(viewer, policy.Action.SEE_RANKING, round, now=utcnow())
    method = AggregationMethod(method or call.aggregation_method)
    category_id = session.scalar(
        select(Nomination.category_id).where(Nomination.id == nomination_id,
                                             Nomination.call_id == call.id))
    if category_id is None:
        return None
    needs_means = any(str(t).startswith("criterion:") for t in (call.tiebreak or ()))
    # Only the entry's category: its rank is among those entries alone.
    data = load_round(session, round, with_scores=needs_means, category_id=category_id,
                      viewer=viewer)
    if nomination_id not in data.entries:
        return None
    if data.scores is None:
        # Only this entry's score sheets are shown: read those alone (one query).
        data.scores = {review.review_id: sheet for review, sheet in score_sheets(
            session, [r for r in data.reviews if r.entry_id == nomination_id])}
    ranking = rank_round(data, method=method, category_id=category_id, stability=False)
    row = ranking.row(nomination_id)
    if row is None:
        return None
    excluded = sum(1 for r in data.excluded if r.entry_id == nomination_id)
    rows = sorted((r for r in data.reviews if r.entry_id == nomination_id),
                  key=lambda r: r.juror_id)
    numbers = {r.juror_id: i for i, r in enumerate(rows, start=1)}
    values = {rv.juror_id: rv for rv in row.result.reviews}
    details = []
    for r in rows:
        rv = values.get(r.juror_id)
        details.append(ReviewDetail(
            number=numbers[r.juror_id], juror=data.jurors.get(r.juror_id), row=r,
            scores=(data.scores or {}).get(r.review_id, {}),
            value=rv.value if rv else None, dropped=bool(rv and rv.dropped)))
    category = ranking.categories[0]
    aggregation_steps = _round_steps(category, set(numbers))
    return EntryExplanation(ranking, row, details, aggregation_steps, numbers, excluded)


def _round_steps(category: CategoryRanking, jurors: set[int]):
    """The method's steps for the whole category, kept to the scales of ``jurors``."""
    steps = category.aggregation.steps if category.aggregation is not None else ()
    return [s for s in steps
            if "juror_id" not in s.params or s.params["juror_id"] in jurors] \
        + list(category.ranking.steps)


# ---- decisions --------------------------------------------------------------------------------


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


class NoNextRound(RankingError):
    status = 409


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


def first_round(session: Session, call: Call) -> Round | None:
    return session.scalar(select(Round).where(Round.call_id == call.id)
                          .order_by(Round.position, Round.id).limit(1))


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
