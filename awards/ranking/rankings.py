"""Ranking a loaded round (pure: the judging library scores, ranks, measures agreement and
stability) and explaining one entry's place."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from awards import policy
from awards.auth.models import User
from awards.calls.models import Call, Category
from awards.db import utcnow
from awards.enums import (
    AggregationMethod,
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
)
from awards.jury.models import Round
from awards.nominations.models import Nomination
from awards.ranking import cache as ranking_cache
from awards.ranking.errors import RankingError
from awards.ranking.loading import (
    EntryInfo,
    ReviewRow,
    RoundData,
    gc_paused,
    load_round,
    score_sheets,
)

# The bootstrap costs iterations x reviews; a large category gets fewer resamples so the page
# stays fast (the flags need only two decimals of precision).
BOOTSTRAP_BUDGET = 400_000
BOOTSTRAP_MAX_ITERATIONS = 1000
BOOTSTRAP_MIN_ITERATIONS = 50
BOOTSTRAP_SEED = 0


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

    def build() -> RoundRanking:
        data = load_round(session, round, with_scores=needs_scores, category_id=category_id,
                          viewer=viewer)
        return rank_round(data, method=method, compare=compare, top_n=top_n,
                          category_id=category_id, stability=stability)

    return ranking_cache.cached(
        session, round, ("round", method, compare, top_n, category_id, stability,
                         needs_scores, ranking_cache.scope(viewer)), build)


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

    def build() -> RoundRanking:
        # Only the entry's category: its rank is among those entries alone.
        data = load_round(session, round, with_scores=needs_means, category_id=category_id,
                          viewer=viewer)
        return rank_round(data, method=method, category_id=category_id, stability=False)

    # The same ranking for every entry of the category (and every reader in the same scope).
    ranking = ranking_cache.cached(
        session, round, ("category", method, category_id, needs_means,
                         ranking_cache.scope(viewer)), build)
    data = ranking.data
    if nomination_id not in data.entries:
        return None
    if data.scores is None:
        # Only this entry's score sheets are shown: read those alone (one query).
        data.scores = {review.review_id: sheet for review, sheet in score_sheets(
            session, [r for r in data.reviews if r.entry_id == nomination_id])}
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
