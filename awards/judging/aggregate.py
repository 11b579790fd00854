"""An entry's score from its jurors' review totals, by the call's aggregation method.

Which reviews count
    Only submitted reviews that have a total. Drafts are ignored (and counted in the
    explanation). An entry without any such review has score ``None`` — "no data" — never 0.
    An entry with fewer than ``required_reviews`` counted reviews is marked incomplete; it
    still gets a score from what there is, so the chair can see it, but the flag says so.

Methods (``AggregationMethod``)
    ``mean``
        Arithmetic mean of the totals.
    ``median``
        Median of the totals (mean of the two middle ones for an even count).
    ``trimmed``
        Drop the ``trim`` (k) lowest and k highest totals, average the rest. With fewer than
        2k+1 reviews nothing would be left to average, so the **median** is used instead and
        the explanation says so: the median is the limit of trimming (trim as much as possible
        from both ends), so it keeps the method's purpose — an outlier juror cannot move the
        score — whereas falling back to the mean would silently reintroduce that influence.
        Among equal totals the review of the juror with the smaller id is dropped first (only
        the explanation depends on it; the score does not).
    ``zscore``
        Each juror's totals are standardised over all the entries that juror reviewed in the
        input: ``z = (total - juror mean) / juror sd``, with the **population** sd (divide by
        n): we describe the juror's own marks rather than estimate a population, and it gives
        every juror's z-scores the same unit spread whatever their number of reviews. The
        entry's score is the mean of its z-scores. This removes a lenient or severe juror's
        offset and a wide or narrow juror's scale: adding 2 to all of a juror's totals changes
        nothing. Jurors whose scale cannot be estimated are handled as follows, and both cases
        are reported in the round's steps and the juror list:

        * fewer than two reviews: excluded (their review is shown but does not count). One
          total says nothing about where a juror's average lies; treating it as average would
          invent information. An entry whose only reviews are excluded gets ``None``.
        * two or more reviews, all with the same total ("no spread"): every such review
          counts as 0, the juror's own average. The juror did express something — "these are
          all equal" — and 0 is exactly that on the z-scale.

        Raising one total always raises that entry's score, but not necessarily its rank: the
        juror's mean and sd move too, and can lift another entry of the same juror more (a
        tested example is in ``test_aggregate_zscore_rank_can_drop_when_raising_a_total``).
        That is inherent to standardising, not a defect of this implementation.
    ``rank``
        Each juror ranks the entries they reviewed (1 = their highest total; equal totals share
        the average of their positions). The entry's score is its mean rank, so **lower is
        better** (``Aggregation.higher_is_better`` is ``False``; the ranking module honours
        it). Ranks from a juror who reviewed few entries and one who reviewed many are treated
        alike, which is the method's known weakness in incomplete designs; z-score or Borda
        are better suited there.
    ``borda``
        Each juror gives ``n - rank`` points to each of their n entries (best: n-1, worst: 0,
        ties share). The entry's score is the **mean** points per counted review, not the sum:
        with the sum, an entry that happened to get more reviewers would collect more points.
        In a complete design (everyone reviews everything) mean and sum rank identically.

    ``rank`` and ``borda`` exclude jurors with fewer than two reviews, like ``zscore``: a
    ranking of a single entry carries no information (and would hand it the best rank or no
    points).

Every method is independent of the order of the input, and per-juror values depend only on that
juror's own reviews (which the bootstrap in ``stability`` relies on).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from awards.enums import AggregationMethod

from ._common import Id, average_ranks, close, id_key, mean, median, pstdev
from .explain import Step, StepCode, step

# A juror needs this many counted reviews before their marks can be put on a common scale.
MIN_REVIEWS_FOR_SCALE = 2

RELATIVE_METHODS = frozenset(
    {AggregationMethod.ZSCORE, AggregationMethod.RANK, AggregationMethod.BORDA}
)


@dataclass(frozen=True)
class Review:
    """One juror's review of one entry, as the aggregation needs it."""

    entry_id: Id
    juror_id: Id
    total: float | None
    submitted: bool = True


class ScaleStatus(StrEnum):
    OK = "ok"
    NO_SPREAD = "no_spread"  # zscore: all totals equal, every review counts as 0
    TOO_FEW_REVIEWS = "too_few_reviews"  # relative methods: the juror's reviews are excluded


class EntryFlag(StrEnum):
    NO_DATA = "no_data"
    NO_USABLE_REVIEWS = "no_usable_reviews"
    INCOMPLETE = "incomplete"
    TRIM_FALLBACK = "trim_fallback"


@dataclass(frozen=True)
class JurorScale:
    """A juror's counted reviews in this aggregation: their number, mean and population sd of
    the totals (``None`` without reviews), and whether the method could use them."""

    juror_id: Id
    count: int
    mean: float | None
    sd: float | None
    status: ScaleStatus


@dataclass(frozen=True)
class ReviewValue:
    """One counted review in an entry's explanation: the juror's total and the value the method
    fed into the combination (the total itself, a z-score, a rank or Borda points). ``value`` is
    ``None`` when the juror was excluded; ``dropped`` marks a review trimmed away."""

    juror_id: Id
    total: float
    value: float | None
    dropped: bool = False


@dataclass(frozen=True)
class EntryResult:
    entry_id: Id
    score: float | None
    review_count: int  # submitted reviews with a total
    complete: bool
    reviews: tuple[ReviewValue, ...]  # ordered by juror id
    steps: tuple[Step, ...]
    flags: frozenset[EntryFlag]

    @property
    def values(self) -> list[float]:
        """The values that entered the score (excluded and trimmed reviews left out)."""
        return [r.value for r in self.reviews if r.value is not None and not r.dropped]


@dataclass(frozen=True)
class Aggregation:
    method: AggregationMethod
    trim: int
    required_reviews: int
    higher_is_better: bool
    entries: tuple[EntryResult, ...]  # ordered by entry id
    jurors: tuple[JurorScale, ...]  # ordered by juror id
    steps: tuple[Step, ...]
    _index: dict[Id, EntryResult] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {e.entry_id: e for e in self.entries})

    def entry(self, entry_id: Id) -> EntryResult:
        return self._index[entry_id]

    def scores(self) -> dict[Id, float | None]:
        return {e.entry_id: e.score for e in self.entries}


@dataclass(frozen=True)
class CollectedReviews:
    """Reviews sorted out once: the counted totals by juror and by entry, and what was left out."""

    totals: dict[Id, dict[Id, float]]  # juror -> entry -> total
    entries: tuple[Id, ...]  # every entry seen or requested, ordered by id
    drafts: dict[Id, int]  # entry -> number of unsubmitted reviews
    missing_totals: dict[Id, list[Id]]  # entry -> jurors who submitted without a total


def collect_reviews(
    reviews: Iterable[Review], entries: Iterable[Id] | None = None
) -> CollectedReviews:
    """Split reviews into counted totals and ignored ones; refuse two counted reviews of the
    same entry by the same juror (the database forbids it; two would double that juror's
    weight)."""
    totals: dict[Id, dict[Id, float]] = {}
    drafts: dict[Id, int] = {}
    missing: dict[Id, list[Id]] = {}
    seen: set[Id] = set(entries or ())
    for review in reviews:
        seen.add(review.entry_id)
        if not review.submitted:
            drafts[review.entry_id] = drafts.get(review.entry_id, 0) + 1
            continue
        if review.total is None:
            missing.setdefault(review.entry_id, []).append(review.juror_id)
            continue
        per_juror = totals.setdefault(review.juror_id, {})
        if review.entry_id in per_juror:
            raise ValueError(
                f"juror {review.juror_id!r} has two submitted reviews of entry {review.entry_id!r}"
            )
        per_juror[review.entry_id] = float(review.total)
    return CollectedReviews(
        totals=totals,
        entries=tuple(sorted(seen, key=id_key)),
        drafts=drafts,
        missing_totals={e: sorted(j, key=id_key) for e, j in missing.items()},
    )


@dataclass(frozen=True)
class JurorValues:
    """Per juror, the value each of their reviews contributes under a method (``None`` =
    excluded), and the juror's scale. Depends only on that juror's own totals."""

    values: dict[Id, dict[Id, float | None]]  # juror -> entry -> value
    scales: dict[Id, JurorScale]
    details: dict[tuple[Id, Id], Step]  # (juror, entry) -> how the value was obtained


def juror_values(
    totals: Mapping[Id, Mapping[Id, float]], method: AggregationMethod
) -> JurorValues:
    """Turn each juror's totals into the values the method combines (see the module docstring
    for each method's rule)."""
    method = AggregationMethod(method)
    values: dict[Id, dict[Id, float | None]] = {}
    scales: dict[Id, JurorScale] = {}
    details: dict[tuple[Id, Id], Step] = {}
    for juror_id, per_entry in totals.items():
        entry_ids = sorted(per_entry, key=id_key)
        marks = [per_entry[e] for e in entry_ids]
        count = len(marks)
        juror_mean = mean(marks) if marks else None
        juror_sd = pstdev(marks) if marks else None
        status = ScaleStatus.OK
        if method in RELATIVE_METHODS and count < MIN_REVIEWS_FOR_SCALE:
            status = ScaleStatus.TOO_FEW_REVIEWS
        elif method is AggregationMethod.ZSCORE and close(max(marks), min(marks)):
            status = ScaleStatus.NO_SPREAD
        scale = scales[juror_id] = JurorScale(juror_id, count, juror_mean, juror_sd, status)
        out: dict[Id, float | None] = {}
        if status is ScaleStatus.TOO_FEW_REVIEWS:
            for e, total in zip(entry_ids, marks, strict=True):
                out[e] = None
                details[(juror_id, e)] = value_step(method, scale, total, None)
        elif method is AggregationMethod.ZSCORE:
            for e, total in zip(entry_ids, marks, strict=True):
                if status is ScaleStatus.NO_SPREAD:
                    z = 0.0
                else:
                    assert juror_mean is not None and juror_sd
                    z = (total - juror_mean) / juror_sd
                out[e] = z
                details[(juror_id, e)] = value_step(method, scale, total, z)
        elif method in (AggregationMethod.RANK, AggregationMethod.BORDA):
            ranks = average_ranks(marks, descending=True)
            for e, total, rank in zip(entry_ids, marks, ranks, strict=True):
                value = rank if method is AggregationMethod.RANK else count - rank
                out[e] = value
                details[(juror_id, e)] = value_step(method, scale, total, value, rank)
        else:  # mean, median, trimmed work on the totals themselves
            out = dict(zip(entry_ids, marks, strict=True))
        values[juror_id] = out
    return JurorValues(values, scales, details)


def value_step(
    method: AggregationMethod,
    scale: JurorScale,
    total: float,
    value: float | None,
    rank: float | None = None,
) -> Step:
    """How one review's value under a relative method was obtained (the explanation's line for
    that review); ``rank`` is the juror's rank of the entry (``rank`` and ``borda``)."""
    juror_id = scale.juror_id
    if scale.status is ScaleStatus.TOO_FEW_REVIEWS:
        return step(
            StepCode.REVIEW_EXCLUDED,
            juror_id=juror_id,
            total=total,
            reason=ScaleStatus.TOO_FEW_REVIEWS.value,
        )
    if method is AggregationMethod.ZSCORE:
        if scale.status is ScaleStatus.NO_SPREAD:
            return step(StepCode.ZSCORE_NEUTRAL, juror_id=juror_id, total=total)
        return step(
            StepCode.ZSCORE,
            juror_id=juror_id,
            total=total,
            juror_mean=scale.mean,
            juror_sd=scale.sd,
            z=value,
        )
    if method is AggregationMethod.RANK:
        return step(
            StepCode.JUROR_RANK, juror_id=juror_id, total=total, rank=rank, of=scale.count
        )
    return step(
        StepCode.BORDA_POINTS,
        juror_id=juror_id,
        total=total,
        rank=rank,
        of=scale.count,
        points=value,
    )


def combine(values: Sequence[float], method: AggregationMethod, trim: int = 1) -> float:
    """Combine an entry's (non-empty) values into its score. Everything but median and trimmed
    is a plain mean of the per-review values."""
    if not values:
        raise ValueError("nothing to combine")
    if method is AggregationMethod.MEDIAN:
        return median(values)
    if method is AggregationMethod.TRIMMED:
        if len(values) < 2 * trim + 1:
            return median(values)
        ordered = sorted(values)
        return mean(ordered[trim : len(ordered) - trim])
    return mean(values)


def aggregation_steps(
    method: AggregationMethod, trim: int, required_reviews: int, jurors: Iterable[JurorScale]
) -> tuple[Step, ...]:
    """The round's part of an explanation: the method, then each juror's scale or exclusion."""
    round_steps: list[Step] = [
        step(
            StepCode.METHOD,
            method=method.value,
            trim=trim,
            required_reviews=required_reviews,
            higher_is_better=method is not AggregationMethod.RANK,
        )
    ]
    for scale in jurors:
        if method is AggregationMethod.ZSCORE and scale.status is ScaleStatus.OK:
            round_steps.append(
                step(
                    StepCode.JUROR_SCALE,
                    juror_id=scale.juror_id,
                    count=scale.count,
                    mean=scale.mean,
                    sd=scale.sd,
                )
            )
        elif scale.status is ScaleStatus.NO_SPREAD:
            round_steps.append(
                step(
                    StepCode.JUROR_NO_SPREAD,
                    juror_id=scale.juror_id,
                    count=scale.count,
                    total=scale.mean,
                )
            )
        elif scale.status is ScaleStatus.TOO_FEW_REVIEWS:
            round_steps.append(
                step(
                    StepCode.JUROR_EXCLUDED,
                    juror_id=scale.juror_id,
                    count=scale.count,
                    reason=scale.status.value,
                )
            )
    return tuple(round_steps)


def aggregate(
    reviews: Iterable[Review],
    method: AggregationMethod | str,
    *,
    entries: Iterable[Id] | None = None,
    required_reviews: int = 0,
    trim: int = 1,
) -> Aggregation:
    """Score every entry by ``method`` and explain how.

    ``entries`` lists entries to report even if nobody reviewed them (they get ``None``).
    ``required_reviews`` is the round's reviews per entry; fewer counted reviews mark the entry
    incomplete. ``trim`` is k for the trimmed mean (ignored by the other methods)."""
    method = AggregationMethod(method)
    if trim < 0:
        raise ValueError("trim must not be negative")
    if required_reviews < 0:
        raise ValueError("required_reviews must not be negative")
    collected = collect_reviews(reviews, entries)
    per_juror = juror_values(collected.totals, method)
    higher_is_better = method is not AggregationMethod.RANK

    jurors = tuple(sorted(per_juror.scales.values(), key=lambda s: id_key(s.juror_id)))
    round_steps = aggregation_steps(method, trim, required_reviews, jurors)

    # entry -> [(juror, total, value)] from the per-juror tables
    by_entry: dict[Id, list[tuple[Id, float, float | None]]] = {}
    for juror_id, per_entry in collected.totals.items():
        juror_table = per_juror.values[juror_id]
        for entry_id, total in per_entry.items():
            by_entry.setdefault(entry_id, []).append((juror_id, total, juror_table[entry_id]))

    results = []
    for entry_id in collected.entries:
        rows = sorted(by_entry.get(entry_id, ()), key=lambda r: id_key(r[0]))
        results.append(
            _entry_result(
                entry_id,
                rows,
                method=method,
                trim=trim,
                required=required_reviews,
                drafts=collected.drafts.get(entry_id, 0),
                missing_totals=collected.missing_totals.get(entry_id, []),
                details=per_juror.details,
            )
        )
    return Aggregation(
        method=method,
        trim=trim,
        required_reviews=required_reviews,
        higher_is_better=higher_is_better,
        entries=tuple(results),
        jurors=jurors,
        steps=round_steps,
    )


def _entry_result(
    entry_id: Id,
    rows: list[tuple[Id, float, float | None]],
    *,
    method: AggregationMethod,
    trim: int,
    required: int,
    drafts: int,
    missing_totals: list[Id],
    details: Mapping[tuple[Id, Id], Step],
) -> EntryResult:
    steps: list[Step] = []
    flags: set[EntryFlag] = set()
    if drafts:
        steps.append(step(StepCode.DRAFTS_IGNORED, count=drafts))
    for juror_id in missing_totals:
        steps.append(step(StepCode.MISSING_TOTAL, juror_id=juror_id))
    if method in RELATIVE_METHODS:
        steps.extend(details[(juror_id, entry_id)] for juror_id, _, _ in rows)

    count = len(rows)
    steps.append(step(StepCode.REVIEWS_USED, count=count, required=required))
    complete = count >= required
    if not complete:
        flags.add(EntryFlag.INCOMPLETE)
        steps.append(step(StepCode.INCOMPLETE, count=count, required=required))

    counted = [(juror_id, value) for juror_id, _, value in rows if value is not None]
    dropped: set[Id] = set()
    score: float | None = None
    if not rows:
        flags.add(EntryFlag.NO_DATA)
        steps.append(step(StepCode.NO_DATA))
    elif not counted:
        flags.add(EntryFlag.NO_USABLE_REVIEWS)
        steps.append(step(StepCode.NO_USABLE_REVIEWS, count=count))
    else:
        values = [value for _, value in counted]
        score = combine(values, method, trim)
        if method is AggregationMethod.MEDIAN:
            steps.append(step(StepCode.MEDIAN, values=sorted(values), result=score))
        elif method is AggregationMethod.TRIMMED:
            if len(values) < 2 * trim + 1:
                flags.add(EntryFlag.TRIM_FALLBACK)
                steps.append(
                    step(
                        StepCode.TRIM_FALLBACK_MEDIAN,
                        count=len(values),
                        k=trim,
                        needed=2 * trim + 1,
                    )
                )
                steps.append(step(StepCode.MEDIAN, values=sorted(values), result=score))
            else:
                # Which review is dropped among equal totals does not change the score; order
                # by juror id so the explanation is stable.
                ordered = sorted(counted, key=lambda c: (c[1], id_key(c[0])))
                low = ordered[:trim]
                high = ordered[len(ordered) - trim :] if trim else []
                kept = ordered[trim : len(ordered) - trim]
                dropped = {juror_id for juror_id, _ in low + high}
                steps.append(
                    step(
                        StepCode.TRIMMED_MEAN,
                        k=trim,
                        dropped_low=[v for _, v in low],
                        dropped_high=[v for _, v in high],
                        kept=[v for _, v in kept],
                        result=score,
                    )
                )
        elif method is AggregationMethod.RANK:
            steps.append(step(StepCode.MEAN_RANK, values=values, result=score))
        else:
            steps.append(step(StepCode.MEAN, values=values, result=score))

    reviews = tuple(
        ReviewValue(juror_id, total, value, dropped=juror_id in dropped)
        for juror_id, total, value in rows
    )
    return EntryResult(
        entry_id=entry_id,
        score=score,
        review_count=count,
        complete=complete,
        reviews=reviews,
        steps=tuple(steps),
        flags=frozenset(flags),
    )
