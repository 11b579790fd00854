"""The judging rules for large rounds: the same results as ``aggregate``, ``rank_entries``,
``agreement_report`` and ``bootstrap_top_n``, computed on columns of numbers (numpy).

A ``Panel`` sorts the reviews of one group of entries (a category) out once, into arrays of
entry index, juror index and total; every method, the ranking, the agreement figures and the
bootstrap then work on those arrays instead of on dictionaries of dictionaries.

What stays exactly as in the reference functions (which remain the definition, and which the
tests compare this module with on random panels):

* The results are the same dataclasses (``Aggregation``, ``Ranking``, ``AgreementReport``,
  ``Stability``) with the same values. Sums that the reference takes with ``math.fsum`` are
  taken with ``math.fsum`` here too, over the same numbers, so scores, z-scores, spreads and
  agreement figures are equal to the last bit; numpy does the sorting, grouping, ranking and
  the element-wise arithmetic (which IEEE makes identical to Python's).
* Explanations are built by the reference's own code, **on first use**: an entry's
  ``reviews`` and ``steps`` (and a ranked entry's ``steps``) are ``Deferred`` sequences, so a
  page that shows a hundred rows of a category of thousands never builds the rest.
* Ties within rounding noise (``_common.close``) are grouped as the reference groups them;
  in the pathological case where a chain of near-equal values is wider than the tolerance,
  that juror's or entry's values are handed to the reference function.

The bootstrap draws the same resamples (``random.Random(seed)``) as the reference and scores
them with juror weights; its sums are plain floating-point sums, so a probability could differ
from the reference's only where two resampled scores fall within 1e-9 of the top-N bar.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from operator import attrgetter
from typing import Any

import numpy as np

from awards.enums import AggregationMethod

from ._common import REL_TOLERANCE, Id, average_ranks, close, id_key, mean, pstdev
from .aggregate import (
    MIN_REVIEWS_FOR_SCALE,
    RELATIVE_METHODS,
    Aggregation,
    EntryFlag,
    EntryResult,
    JurorScale,
    ScaleStatus,
    _entry_result,
    aggregation_steps,
    value_step,
)
from .agreement import (
    CORRELATION_THRESHOLD,
    LENIENCY_THRESHOLD,
    MIN_OVERLAP,
    AgreementReport,
    JurorAgreement,
    JurorFlag,
    KendallW,
    KrippendorffAlpha,
    Reason,
)
from .explain import Step, StepCode, step
from .ranking import (
    CRITERION_PREFIX,
    DEFAULT_TIE_BREAKS,
    FIRST_PLACES,
    LEFT_TO_JURY,
    MAX_LISTED,
    MEDIAN,
    SPREAD,
    RankedEntry,
    Ranking,
    check_tie_breaks,
)
from .stability import CLOSE_HIGH, CLOSE_LOW, ITERATIONS, EntryStability, Stability

_MEAN_COMBINED = frozenset(
    {
        AggregationMethod.MEAN,
        AggregationMethod.ZSCORE,
        AggregationMethod.RANK,
        AggregationMethod.BORDA,
    }
)
# Resamples scored at once by the bootstrap (memory: chunk x reviews floats).
_CHUNK_CELLS = 1_000_000


class Deferred(Sequence):
    """A tuple computed on first use (and then kept). Compares equal to the tuple it stands
    for, so results holding one compare equal to the reference's."""

    __slots__ = ("_args", "_items", "_make")

    def __init__(self, make: Callable[..., Iterable[Any]], *args: Any):
        self._make: Callable[..., Iterable[Any]] | None = make
        self._args = args
        self._items: tuple[Any, ...] | None = None

    def _get(self) -> tuple[Any, ...]:
        if self._items is None:
            assert self._make is not None
            self._items = tuple(self._make(*self._args))
            self._make, self._args = None, ()
        return self._items

    def __getitem__(self, index):  # type: ignore[override]
        return self._get()[index]

    def __len__(self) -> int:
        return len(self._get())

    def __iter__(self) -> Iterator[Any]:
        return iter(self._get())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Deferred):
            return self._get() == other._get()
        if isinstance(other, tuple):
            return self._get() == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._get())

    def __repr__(self) -> str:
        return f"Deferred({self._get()!r})"


# ---- small array helpers ------------------------------------------------------------------------


def _offsets(counts: np.ndarray) -> np.ndarray:
    """Start of each segment (and the end of the last) for segments of the given lengths."""
    out = np.zeros(len(counts) + 1, dtype=np.intp)
    np.cumsum(counts, out=out[1:])
    return out


def _close_arrays(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``_common.close`` element-wise."""
    scale = np.maximum(np.maximum(np.abs(a), np.abs(b)), 1.0)
    return np.abs(a - b) <= REL_TOLERANCE * scale


def _fsum_segments(values: list[float], starts: Sequence[int]) -> list[float]:
    """``math.fsum`` of each segment ``values[starts[i]:starts[i + 1]]``."""
    fsum = math.fsum
    return [fsum(values[a:b]) for a, b in itertools.pairwise(starts)]


def _squares(values: Iterable[float]) -> list[float]:
    # Python's ``x ** 2`` (as the reference writes it), which is not always numpy's x * x.
    return [v**2 for v in values]


def _segment_ranks(
    values: np.ndarray, segments: np.ndarray, count: int, *, descending: bool
) -> tuple[np.ndarray, np.ndarray]:
    """``_common.average_ranks`` within each segment (values already grouped by segment,
    ascending segment ids), and for each value the size of its tie group. A tie group is a run
    of values each close to the previous one; where such a run is wider than the tolerance
    (the reference compares with the group's first value), that segment is ranked by the
    reference function instead."""
    size = len(values)
    ranks = np.empty(size, dtype=float)
    group_sizes = np.empty(size, dtype=np.intp)
    if size == 0:
        return ranks, group_sizes
    key = -values if descending else values
    order = np.lexsort((key, segments))
    ordered = values[order]
    seg = segments[order]
    starts = _offsets(np.bincount(segments, minlength=count))
    position = np.arange(size) - starts[seg]
    new_group = np.ones(size, dtype=bool)
    if size > 1:
        new_group[1:] = (seg[1:] != seg[:-1]) | ~_close_arrays(ordered[1:], ordered[:-1])
    group = np.cumsum(new_group) - 1
    first = np.flatnonzero(new_group)
    last = np.append(first[1:], size) - 1
    shared = (position[first] + 1 + position[last] + 1) / 2
    ranks[order] = shared[group]
    group_sizes[order] = (last - first + 1)[group]
    too_wide = ~_close_arrays(ordered[first], ordered[last])
    if too_wide.any():
        for s in np.unique(seg[first[too_wide]]).tolist():
            members = np.flatnonzero(segments == s)
            marks = values[members].tolist()
            ranks[members] = average_ranks(marks, descending=descending)
            group_sizes[members] = _reference_group_sizes(marks, descending=descending)
    return ranks, group_sizes


def _reference_group_sizes(marks: list[float], *, descending: bool) -> list[int]:
    """For each mark, the size of its tie group as ``average_ranks`` forms the groups."""
    order = sorted(range(len(marks)), key=lambda i: marks[i], reverse=descending)
    sizes = [0] * len(marks)
    start = 0
    while start < len(order):
        end = start + 1
        while end < len(order) and close(marks[order[start]], marks[order[end]]):
            end += 1
        for position in range(start, end):
            sizes[order[position]] = end - start
        start = end
    return sizes


def _snap(values: np.ndarray) -> np.ndarray:
    """``_common.snap`` applied to an array (NaN stays NaN)."""
    out = np.full(len(values), np.nan)
    present = ~np.isnan(values)
    if not present.any():
        return out
    unique = np.unique(values[present])
    new_group = np.ones(len(unique), dtype=bool)
    new_group[1:] = ~_close_arrays(unique[1:], unique[:-1])
    representative = unique[np.flatnonzero(new_group)[np.cumsum(new_group) - 1]]
    out[present] = representative[np.searchsorted(unique, values[present])]
    return out


def _some(ids: Iterable[Id]) -> list[Id]:
    result = []
    for entry_id in ids:
        if len(result) == MAX_LISTED:
            break
        result.append(entry_id)
    return result


_REVIEW_FIELDS = attrgetter("entry_id", "juror_id", "total", "submitted")


def _sorted_ids(ids: Iterable[Id]) -> tuple[Id, ...]:
    """Ids in ``id_key`` order (plain ints need no key)."""
    ids = list(ids)
    if all(type(i) is int for i in ids):
        return tuple(sorted(ids))
    return tuple(sorted(ids, key=id_key))


# ---- the panel ----------------------------------------------------------------------------------


class _Values:
    """The per-review values of one method (NaN = excluded) and the jurors' scales."""

    def __init__(self, value: np.ndarray, rank: np.ndarray | None, scales: list[JurorScale]):
        self.value = value
        self.rank = rank
        self.scales = scales
        self.valid = ~np.isnan(value)


class Panel:
    """The reviews of one group of entries, sorted out once (see the module docstring).

    ``reviews`` are objects with ``entry_id``, ``juror_id``, ``total`` and ``submitted``
    (``judging.Review`` or anything shaped like it); ``entries`` adds entries nobody reviewed.
    As in ``collect_reviews``: drafts and submitted reviews without a total are only counted
    for the explanations; two counted reviews of one entry by one juror are refused."""

    def __init__(self, reviews: Iterable[Any], entries: Iterable[Id] | None = None):
        rows = list(map(_REVIEW_FIELDS, reviews))
        entry_col, juror_col, total_col, submitted_col = (
            (list(c) for c in zip(*rows, strict=True)) if rows else ([], [], [], [])
        )
        seen: set[Id] = set(entries or ())
        seen.update(entry_col)
        self.entry_ids: tuple[Id, ...] = _sorted_ids(seen)
        entry_index = {e: i for i, e in enumerate(self.entry_ids)}
        submitted = np.array(submitted_col, dtype=bool)
        totals = np.array(total_col, dtype=float)  # None -> NaN
        counted = submitted & ~np.isnan(totals)
        drafts: dict[Id, int] = {}
        for k in np.flatnonzero(~submitted).tolist():
            drafts[entry_col[k]] = drafts.get(entry_col[k], 0) + 1
        missing: dict[Id, list[Id]] = {}
        for k in np.flatnonzero(submitted & ~counted).tolist():
            missing.setdefault(entry_col[k], []).append(juror_col[k])
        self.drafts = drafts
        self.missing_totals = {e: list(_sorted_ids(j)) for e, j in missing.items()}
        all_jurors = _sorted_ids(set(juror_col))
        juror_index = {j: i for i, j in enumerate(all_jurors)}
        e = np.fromiter(map(entry_index.__getitem__, entry_col), np.intp, len(entry_col))
        j = np.fromiter(map(juror_index.__getitem__, juror_col), np.intp, len(juror_col))
        e, j, t = e[counted], j[counted], totals[counted]
        # Jurors with a counted review only, renumbered in id order.
        used, j = np.unique(j, return_inverse=True)
        self.juror_ids: tuple[Id, ...] = tuple(all_jurors[k] for k in used.tolist())
        j = j.astype(np.intp).reshape(-1)
        self.n = len(self.entry_ids)
        self.m = len(self.juror_ids)
        order = np.lexsort((j, e))  # by entry, then juror: the explanations' order
        self.e, self.j, self.t = e[order], j[order], t[order]
        if len(order) > 1:
            twice = (self.e[1:] == self.e[:-1]) & (self.j[1:] == self.j[:-1])
            if twice.any():
                k = int(np.argmax(twice))
                raise ValueError(
                    f"juror {self.juror_ids[self.j[k]]!r} has two submitted reviews of entry "
                    f"{self.entry_ids[self.e[k]]!r}"
                )
        self.entry_count = np.bincount(self.e, minlength=self.n)
        self.entry_start = _offsets(self.entry_count)
        self.juror_order = np.lexsort((self.e, self.j))  # by juror, then entry
        self.juror_count = np.bincount(self.j, minlength=self.m)
        self.juror_start = _offsets(self.juror_count)
        self._cache: dict[Any, Any] = {}

    def _memo(self, key: Any, make: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    # -- per juror ---------------------------------------------------------------------------

    def _juror_marks(self) -> list[list[float]]:
        def make() -> list[list[float]]:
            by_juror = self.t[self.juror_order].tolist()
            starts = self.juror_start.tolist()
            return [by_juror[a:b] for a, b in itertools.pairwise(starts)]

        return self._memo("marks", make)

    def _juror_stats(self) -> list[tuple[int, float, float, bool]]:
        """(count, mean, population sd, no spread) of each juror's totals."""

        def make() -> list[tuple[int, float, float, bool]]:
            return [
                (len(marks), mean(marks), pstdev(marks), close(max(marks), min(marks)))
                for marks in self._juror_marks()
            ]

        return self._memo("stats", make)

    def values(self, method: AggregationMethod) -> _Values:
        """Each review's value under ``method`` (``aggregate.juror_values``)."""
        method = AggregationMethod(method)
        return self._memo(("values", method), lambda: self._values(method))

    def _values(self, method: AggregationMethod) -> _Values:
        stats = self._juror_stats()
        scales = []
        too_few = np.zeros(self.m, dtype=bool)
        no_spread = np.zeros(self.m, dtype=bool)
        for k, (count, juror_mean, juror_sd, flat) in enumerate(stats):
            status = ScaleStatus.OK
            if method in RELATIVE_METHODS and count < MIN_REVIEWS_FOR_SCALE:
                status = ScaleStatus.TOO_FEW_REVIEWS
                too_few[k] = True
            elif method is AggregationMethod.ZSCORE and flat:
                status = ScaleStatus.NO_SPREAD
                no_spread[k] = True
            scales.append(JurorScale(self.juror_ids[k], count, juror_mean, juror_sd, status))
        rank = None
        if method is AggregationMethod.ZSCORE:
            means = np.array([s[1] for s in stats], dtype=float)
            sds = np.array([s[2] for s in stats], dtype=float)
            sds[no_spread | too_few] = 1.0  # not used: replaced below
            value = (self.t - means[self.j]) / sds[self.j]
            value[no_spread[self.j]] = 0.0
        elif method in (AggregationMethod.RANK, AggregationMethod.BORDA):
            order = self.juror_order
            rank = np.empty(len(self.t))
            rank[order], _ = _segment_ranks(
                self.t[order], self.j[order], self.m, descending=True
            )
            if method is AggregationMethod.RANK:
                value = rank.copy()
            else:
                value = self.juror_count[self.j] - rank
        else:
            value = self.t.copy()
        value[too_few[self.j]] = np.nan
        return _Values(value, rank, scales)

    # -- per entry ---------------------------------------------------------------------------

    def _valid_segments(self, method: AggregationMethod) -> tuple[list[float], list[int]]:
        """The counted values (excluded jurors left out) in entry order, and each entry's
        segment of them."""

        def make() -> tuple[list[float], list[int]]:
            values = self.values(method)
            counts = np.bincount(self.e[values.valid], minlength=self.n)
            return values.value[values.valid].tolist(), _offsets(counts).tolist()

        return self._memo(("valid", method), make)

    def _sorted_segments(self, method: AggregationMethod) -> list[list[float]]:
        """Each entry's counted values, sorted ascending."""

        def make() -> list[list[float]]:
            values, starts = self._valid_segments(method)
            return [sorted(values[a:b]) for a, b in itertools.pairwise(starts)]

        return self._memo(("sorted", method), make)

    def scores(self, method: AggregationMethod, trim: int = 1) -> list[float | None]:
        """Each entry's score (``aggregate.combine`` of its counted values), None without."""
        method = AggregationMethod(method)
        return self._memo(("scores", method, trim), lambda: self._scores(method, trim))

    def _scores(self, method: AggregationMethod, trim: int) -> list[float | None]:
        if method in _MEAN_COMBINED:
            values, starts = self._valid_segments(method)
            fsum = math.fsum
            return [
                fsum(values[a:b]) / (b - a) if b > a else None
                for a, b in itertools.pairwise(starts)
            ]
        out: list[float | None] = []
        for ordered in self._sorted_segments(method):
            size = len(ordered)
            if not size:
                out.append(None)
            elif method is AggregationMethod.TRIMMED and size >= 2 * trim + 1:
                out.append(math.fsum(ordered[trim : size - trim]) / (size - 2 * trim))
            else:
                middle = size // 2
                out.append(
                    ordered[middle]
                    if size % 2
                    else (ordered[middle - 1] + ordered[middle]) / 2
                )
        return out

    def total_means(self) -> list[float]:
        """Each entry's mean total (fsum / count; NaN without a counted review)."""

        def make() -> list[float]:
            starts = self.entry_start.tolist()
            sums = _fsum_segments(self.t.tolist(), starts)
            return [
                total / (b - a) if b > a else math.nan
                for total, a, b in zip(sums, starts[:-1], starts[1:], strict=True)
            ]

        return self._memo("total_means", make)

    def sorted_totals(self) -> list[list[float]]:
        """Each entry's counted totals, sorted ascending (for the distribution charts)."""

        def make() -> list[list[float]]:
            totals = self.t.tolist()
            return [sorted(totals[a:b]) for a, b in itertools.pairwise(self.entry_start.tolist())]

        return self._memo("sorted_totals", make)



# ---- aggregation ---------------------------------------------------------------------------------


def _flag_sets() -> list[frozenset[EntryFlag]]:
    """Every combination of flags an entry can carry, by the code ``aggregate`` computes."""
    bits = [EntryFlag.INCOMPLETE, EntryFlag.NO_DATA, EntryFlag.NO_USABLE_REVIEWS,
            EntryFlag.TRIM_FALLBACK]
    return [frozenset(f for k, f in enumerate(bits) if code >> k & 1) for code in range(16)]


_FLAG_SETS = _flag_sets()


def aggregate(
    panel: Panel,
    method: AggregationMethod | str,
    *,
    required_reviews: int = 0,
    trim: int = 1,
) -> Aggregation:
    """``aggregate.aggregate`` on a panel (same result; explanations built on first use)."""
    method = AggregationMethod(method)
    if trim < 0:
        raise ValueError("trim must not be negative")
    if required_reviews < 0:
        raise ValueError("required_reviews must not be negative")
    values = panel.values(method)
    scores = panel.scores(method, trim)
    counts = panel.entry_count
    usable = np.bincount(panel.e[values.valid], minlength=panel.n)
    complete = counts >= required_reviews
    code = (~complete) * 1 + (counts == 0) * 2 + ((counts > 0) & (usable == 0)) * 4
    if method is AggregationMethod.TRIMMED:
        code += ((usable > 0) & (usable < 2 * trim + 1)) * 8
    explain = _Explainer(panel, method, trim, required_reviews, values)
    flag_sets = _FLAG_SETS
    results = [
        EntryResult(
            entry_id,
            score,
            count,
            done,
            Deferred(explain.reviews, i),
            Deferred(explain.steps, i),
            flag_sets[c],
        )
        for i, (entry_id, score, count, done, c) in enumerate(
            zip(panel.entry_ids, scores, counts.tolist(), complete.tolist(), code.tolist(),
                strict=True)
        )
    ]
    return Aggregation(
        method=method,
        trim=trim,
        required_reviews=required_reviews,
        higher_is_better=method is not AggregationMethod.RANK,
        entries=tuple(results),
        jurors=tuple(values.scales),
        steps=aggregation_steps(method, trim, required_reviews, values.scales),
    )


class _Explainer:
    """Builds one entry's explanation with the reference's ``_entry_result``."""

    def __init__(self, panel: Panel, method, trim, required, values: _Values):
        self.panel, self.method, self.trim, self.required = panel, method, trim, required
        self.values = values
        self.done: dict[int, EntryResult] = {}

    def _result(self, index: int) -> EntryResult:
        if index not in self.done:
            panel, values = self.panel, self.values
            entry_id = panel.entry_ids[index]
            rows, details = [], {}
            for k in range(int(panel.entry_start[index]), int(panel.entry_start[index + 1])):
                juror = int(panel.j[k])
                scale = values.scales[juror]
                total = float(panel.t[k])
                value = None if not values.valid[k] else float(values.value[k])
                rows.append((scale.juror_id, total, value))
                if self.method in RELATIVE_METHODS:
                    rank = None if values.rank is None else float(values.rank[k])
                    details[(scale.juror_id, entry_id)] = value_step(
                        self.method, scale, total, value, rank
                    )
            self.done[index] = _entry_result(
                entry_id,
                rows,
                method=self.method,
                trim=self.trim,
                required=self.required,
                drafts=panel.drafts.get(entry_id, 0),
                missing_totals=panel.missing_totals.get(entry_id, []),
                details=details,
            )
        return self.done[index]

    def reviews(self, index: int) -> tuple[Any, ...]:
        return self._result(index).reviews

    def steps(self, index: int) -> tuple[Any, ...]:
        return self._result(index).steps


# ---- ranking ----------------------------------------------------------------------------------


def _tie_break_arrays(
    panel: Panel,
    aggregation: Aggregation,
    order: Sequence[str],
    criterion_means: Mapping[Id, Mapping[str, float | None]] | None,
) -> dict[str, np.ndarray]:
    method = aggregation.method
    out: dict[str, np.ndarray] = {}
    for name in order:
        if name == FIRST_PLACES:
            t, j = panel.t, panel.j
            best = np.full(panel.m, -np.inf)
            np.maximum.at(best, j, t)
            counted = (panel.juror_count[j] >= 2) & _close_arrays(t, best[j])
            out[name] = np.bincount(panel.e[counted], minlength=panel.n).astype(float)
        elif name == SPREAD:
            values, starts = panel._valid_segments(method)
            sizes = np.diff(starts)
            sums = np.array(_fsum_segments(values, starts))
            spread = np.full(panel.n, np.nan)
            if len(values):
                means = np.zeros(panel.n)
                np.divide(sums, sizes, out=means, where=sizes > 0)
                deviations = (np.array(values) - np.repeat(means, sizes)).tolist()
                squares = np.array(_fsum_segments(_squares(deviations), starts))
                two = sizes >= 2
                spread[two] = np.sqrt(squares[two] / sizes[two])
            out[name] = spread
        elif name == MEDIAN:
            medians = np.full(panel.n, np.nan)
            for i, ordered in enumerate(panel._sorted_segments(method)):
                size = len(ordered)
                if size:
                    middle = size // 2
                    medians[i] = (
                        ordered[middle]
                        if size % 2
                        else (ordered[middle - 1] + ordered[middle]) / 2
                    )
            out[name] = medians
        else:
            key = name[len(CRITERION_PREFIX) :]
            means = criterion_means or {}
            column = [means.get(e, {}).get(key) for e in panel.entry_ids]
            out[name] = np.array([np.nan if v is None else v for v in column], dtype=float)
    return out


def rank(
    panel: Panel,
    aggregation: Aggregation,
    *,
    tie_breaks: Sequence[str] = DEFAULT_TIE_BREAKS,
    criterion_means: Mapping[Id, Mapping[str, float | None]] | None = None,
) -> Ranking:
    """``ranking.rank_entries`` for an aggregation of this panel (same result; each entry's
    steps built on first use)."""
    order = check_tie_breaks(tie_breaks, has_criterion_means=criterion_means is not None)
    if tuple(e.entry_id for e in aggregation.entries) != panel.entry_ids:
        raise ValueError("the aggregation is not one of this panel")
    better_high = aggregation.higher_is_better
    directions = [better_high] + [
        (better_high if name == MEDIAN else name != SPREAD) for name in order
    ]
    tb = _tie_break_arrays(panel, aggregation, order, criterion_means)
    names = list(order)
    raw_scores = [e.score for e in aggregation.entries]
    score = np.array([np.nan if s is None else s for s in raw_scores], dtype=float)
    ranked = np.flatnonzero(~np.isnan(score))
    columns = [score] + [tb[name] for name in names]
    # Key dimensions over the ranked entries: (missing, signed canonical value) each.
    flags, signed = [], []
    for column, higher in zip(columns, directions, strict=True):
        present = column[ranked]
        missing = np.isnan(present)
        canonical = _snap(present)
        value = np.where(missing, 0.0, -canonical if higher else canonical)
        flags.append(missing.astype(np.int8))
        signed.append(value)
    keys: list[np.ndarray] = [ranked]  # the entry's position = its id order, last resort
    for missing, value in zip(reversed(flags), reversed(signed), strict=True):
        keys += [value, missing]
    sort = np.lexsort(keys)
    size = len(ranked)
    sorted_entries = ranked[sort]
    depth_count = len(columns)
    # boundary[d][p]: the key prefix of length d + 1 changes between p - 1 and p.
    boundaries = []
    changed = np.zeros(max(size - 1, 0), dtype=bool)
    for d in range(depth_count):
        f, v = flags[d][sort], signed[d][sort]
        changed = changed | (f[1:] != f[:-1]) | (v[1:] != v[:-1])
        boundary = np.ones(size, dtype=bool)
        boundary[1:] = changed
        boundaries.append(boundary)
    positions = np.arange(1, size + 1)

    def competition(boundary: np.ndarray) -> np.ndarray:
        return np.maximum.accumulate(np.where(boundary, positions, 0))

    def runs(boundary: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        run = np.cumsum(boundary) - 1
        starts = np.flatnonzero(boundary)
        ends = np.append(starts[1:], size)
        return run, starts, ends

    score_rank = competition(boundaries[0]).tolist()
    final_rank = competition(boundaries[-1]).tolist()
    score_run, score_starts, score_ends = runs(boundaries[0])
    full_run, full_starts, full_ends = runs(boundaries[-1])
    score_size = (score_ends - score_starts)[score_run]
    decided = np.full(size, -1, dtype=np.intp)  # index into names; -1 = left to the jury
    undecided = score_size > 1
    for d in range(depth_count - 1, 0, -1):
        run, starts, ends = runs(boundaries[d])
        unique = (ends - starts)[run] == 1
        decided[undecided & unique] = d - 1
    entry_ids = panel.entry_ids
    ids_sorted = [entry_ids[i] for i in sorted_entries.tolist()]
    columns_or_none = [
        [None if v != v else v for v in tb[name].tolist()] for name in names  # NaN -> None
    ]
    tb_values = [dict(zip(names, row, strict=True)) for row in zip(*columns_or_none, strict=True)]
    if not names:
        tb_values = [{} for _ in range(panel.n)]
    complete = [e.complete for e in aggregation.entries]
    score_run_l, score_starts_l, score_ends_l = (
        score_run.tolist(), score_starts.tolist(), score_ends.tolist()
    )
    full_run_l, full_starts_l, full_ends_l = (
        full_run.tolist(), full_starts.tolist(), full_ends.tolist()
    )
    decided_l = decided.tolist()
    score_size_l = score_size.tolist()
    sorted_entries_l = sorted_entries.tolist()

    def ranked_steps(p: int) -> list[Step]:
        entry_id = ids_sorted[p]
        s_run = score_run_l[p]
        a, b = score_starts_l[s_run], score_ends_l[s_run]
        if b - a < 2:
            return []
        steps = [
            step(
                StepCode.TIED_ON_SCORE,
                rank=score_rank[p],
                count=b - a - 1,
                entries=_some(g for g in ids_sorted[a:b] if g != entry_id),
            )
        ]
        if decided_l[p] >= 0:
            name = names[decided_l[p]]
            steps.append(
                step(
                    StepCode.TIE_BROKEN,
                    by=name,
                    value=tb_values[sorted_entries_l[p]][name],
                    rank=final_rank[p],
                )
            )
        else:
            f_run = full_run_l[p]
            fa, fb = full_starts_l[f_run], full_ends_l[f_run]
            steps.append(
                step(
                    StepCode.LEFT_TO_JURY,
                    rank=final_rank[p],
                    count=fb - fa - 1,
                    entries=_some(g for g in ids_sorted[fa:fb] if g != entry_id),
                )
            )
        return steps

    results: list[RankedEntry] = []
    for p, i in enumerate(sorted_entries_l):
        tied_on_score = score_size_l[p] > 1
        left = tied_on_score and decided_l[p] < 0
        results.append(
            RankedEntry(
                entry_id=entry_ids[i],
                score=raw_scores[i],
                score_rank=score_rank[p],
                score_tied=tied_on_score,
                rank=final_rank[p],
                tied=left,
                decided_by=(
                    None if not tied_on_score else LEFT_TO_JURY if left else names[decided_l[p]]
                ),
                tie_break_values=tb_values[i],
                complete=complete[i],
                steps=Deferred(ranked_steps, p),
            )
        )
    for i in np.flatnonzero(np.isnan(score)).tolist():
        results.append(
            RankedEntry(
                entry_id=entry_ids[i],
                score=None,
                score_rank=None,
                score_tied=False,
                rank=None,
                tied=False,
                decided_by=None,
                tie_break_values=tb_values[i],
                complete=complete[i],
                steps=(step(StepCode.UNRANKED),),
            )
        )
    return Ranking(
        method=aggregation.method.value,
        higher_is_better=better_high,
        tie_breaks=order,
        entries=tuple(results),
        steps=(step(StepCode.TIE_BREAK_ORDER, order=list(order)),),
    )


# ---- agreement ----------------------------------------------------------------------------------


def kendalls_w(panel: Panel) -> KendallW:
    """``agreement.kendalls_w`` on a panel."""
    reviewed = np.flatnonzero(panel.entry_count > 0)
    m, n = panel.m, len(reviewed)
    if (panel.juror_count != n).any():
        return KendallW(None, Reason.INCOMPLETE_DESIGN, m, n)
    if m < 2:
        return KendallW(None, Reason.TOO_FEW_JURORS, m, n)
    if n < 2:
        return KendallW(None, Reason.TOO_FEW_ENTRIES, m, n)
    order = panel.juror_order
    ranks_by_juror, _ = _segment_ranks(panel.t[order], panel.j[order], m, descending=True)
    _, sizes = _segment_ranks(panel.t[order], panel.j[order], m, descending=False)
    ranks = np.empty(len(order))
    ranks[order] = ranks_by_juror
    rank_sums = np.bincount(panel.e, weights=ranks, minlength=panel.n)[reviewed]
    # Each tie group of t contributes t^3 - t once: every member adds (t^3 - t) / t = t^2 - 1.
    ties = int(sum(t * t - 1 for t in sizes.tolist()))
    expected = m * (n + 1) / 2
    s = math.fsum(_squares((r - expected) for r in rank_sums.tolist()))
    denominator = m * m * (n**3 - n) - m * ties
    if denominator <= 0:
        return KendallW(None, Reason.NO_VARIATION, m, n)
    w = 12 * s / denominator
    return KendallW(w, None, m, n, chi_square=m * (n - 1) * w, df=n - 1)


def _sum_squares(values: list[float]) -> float:
    mu = mean(values)
    return math.fsum(_squares(v - mu for v in values))


def krippendorff_alpha(panel: Panel) -> KrippendorffAlpha:
    """``agreement.krippendorff_alpha`` on a panel."""
    counts = panel.entry_count
    pairable = np.flatnonzero(counts >= 2)
    n = int(counts[pairable].sum())
    if n < 2:
        return KrippendorffAlpha(None, Reason.NO_PAIRABLE_VALUES, len(pairable), n)
    fsum = math.fsum
    means = np.array(panel.total_means())
    deviations = (panel.t - means[panel.e]).tolist()
    squares = np.array(_fsum_segments(_squares(deviations), panel.entry_start.tolist()))
    c = counts[pairable]
    # 2 * c * ss / (c - 1), in the reference's order of operations.
    parts = ((2 * c) * squares[pairable] / (c - 1)).tolist()
    everything = panel.t[(counts >= 2)[panel.e]].tolist()
    observed = fsum(parts) / n
    expected = 2 * _sum_squares(everything) / (n - 1)
    if expected <= 0:
        return KrippendorffAlpha(
            None, Reason.NO_VARIATION, len(pairable), n, observed, expected
        )
    return KrippendorffAlpha(
        1 - observed / expected, None, len(pairable), n, observed, expected
    )


def _pearson(xs: list[float], ys: list[float]) -> float | None:
    """``_common.pearson``."""
    mx, my = mean(xs), mean(ys)
    dx = [x - mx for x in xs]
    dy = [y - my for y in ys]
    sxy = math.fsum(a * b for a, b in zip(dx, dy, strict=True))
    sxx = math.fsum(_squares(dx))
    syy = math.fsum(_squares(dy))
    if sxx <= 0 or syy <= 0:
        return None
    return max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy)))


def juror_agreement(
    panel: Panel,
    *,
    leniency_threshold: float = LENIENCY_THRESHOLD,
    correlation_threshold: float = CORRELATION_THRESHOLD,
    min_overlap: int = MIN_OVERLAP,
) -> tuple[tuple[JurorAgreement, ...], float | None]:
    """``agreement.juror_agreement`` on a panel."""
    totals = panel.t.tolist()
    panel_sd = pstdev(totals) if totals else None
    if panel_sd is not None and panel_sd <= 0:
        panel_sd = None
    # Each review's comparison: the mean of the other jurors' totals on the same entry,
    # fsum(others) / (count - 1) as the reference takes it. Where an entry's fsum is exact
    # (totals on a grid, the usual case), fsum(others) is exactly its sum minus the review's
    # total, one array operation; elsewhere each review's others are summed one by one.
    fsum = math.fsum
    starts = panel.entry_start.tolist()
    shared = panel.entry_count >= 2
    sums = np.zeros(panel.n)
    exact = np.zeros(panel.n, dtype=bool)
    for i in np.flatnonzero(shared).tolist():
        values = totals[starts[i] : starts[i + 1]]
        total = fsum(values)
        sums[i] = total
        values.append(-total)
        exact[i] = fsum(values) == 0.0
    e = panel.e
    others = np.full(len(totals), np.nan)
    fast_rows = exact[e]
    others[fast_rows] = (sums[e[fast_rows]] - panel.t[fast_rows]) / (
        panel.entry_count[e[fast_rows]] - 1
    )
    for i in np.flatnonzero(shared & ~exact).tolist():
        a, b = starts[i], starts[i + 1]
        values = totals[a:b]
        for k in range(b - a):
            others[a + k] = fsum(values[:k] + values[k + 1 :]) / (b - a - 1)
    compared = ~np.isnan(others)
    order = panel.juror_order[compared[panel.juror_order]]
    own = panel.t[order]
    ref = others[order]
    jurors = panel.j[order]
    compared_count = np.bincount(jurors, minlength=panel.m)
    starts_j = _offsets(compared_count).tolist()
    diffs = (own - ref).tolist()
    own_ranks, _ = _segment_ranks(own, jurors, panel.m, descending=True)
    ref_ranks, _ = _segment_ranks(ref, jurors, panel.m, descending=True)
    own_ranks_l, ref_ranks_l = own_ranks.tolist(), ref_ranks.tolist()
    results = []
    needed = max(min_overlap, 2)
    for k, juror_id in enumerate(panel.juror_ids):
        a, b = starts_j[k], starts_j[k + 1]
        leniency = fsum(diffs[a:b]) / (b - a) if b > a else None
        leniency_sd = (
            leniency / panel_sd if leniency is not None and panel_sd is not None else None
        )
        correlation = None
        if b - a >= needed:
            rx, ry = own_ranks_l[a:b], ref_ranks_l[a:b]
            if len(set(rx)) >= 2 and len(set(ry)) >= 2:
                correlation = _pearson(rx, ry)
        flags: set[JurorFlag] = set()
        if leniency_sd is not None and abs(leniency_sd) > leniency_threshold:
            flags.add(JurorFlag.LENIENT if leniency_sd > 0 else JurorFlag.SEVERE)
        if correlation is not None and correlation < correlation_threshold:
            flags.add(JurorFlag.LOW_CORRELATION)
        results.append(
            JurorAgreement(
                juror_id=juror_id,
                reviews=int(panel.juror_count[k]),
                compared_entries=b - a,
                leniency=leniency,
                leniency_sd=leniency_sd,
                correlation=correlation,
                flags=frozenset(flags),
            )
        )
    return tuple(results), panel_sd


def agreement_report(
    panel: Panel,
    *,
    leniency_threshold: float = LENIENCY_THRESHOLD,
    correlation_threshold: float = CORRELATION_THRESHOLD,
    min_overlap: int = MIN_OVERLAP,
) -> AgreementReport:
    """``agreement.agreement_report`` on a panel."""
    jurors, panel_sd = juror_agreement(
        panel,
        leniency_threshold=leniency_threshold,
        correlation_threshold=correlation_threshold,
        min_overlap=min_overlap,
    )
    return AgreementReport(
        kendall=kendalls_w(panel),
        alpha=krippendorff_alpha(panel),
        panel_sd=panel_sd,
        jurors=jurors,
        leniency_threshold=leniency_threshold,
        correlation_threshold=correlation_threshold,
    )


# ---- stability ----------------------------------------------------------------------------------


def bootstrap_top_n(
    panel: Panel,
    method: AggregationMethod | str,
    *,
    top_n: int,
    iterations: int = ITERATIONS,
    seed: int = 0,
    trim: int = 1,
    close_low: float = CLOSE_LOW,
    close_high: float = CLOSE_HIGH,
) -> Stability:
    """``stability.bootstrap_top_n`` on a panel: the same resamples, scored with weights."""
    method = AggregationMethod(method)
    if top_n < 1:
        raise ValueError("top_n must be at least 1")
    if iterations < 1:
        raise ValueError("iterations must be at least 1")
    if not 0 <= close_low <= close_high <= 1:
        raise ValueError("need 0 <= close_low <= close_high <= 1")
    values = panel.values(method)
    valid = values.valid
    # The counted reviews, by entry and, within an entry, by value (for median and trimmed).
    e, j, v = panel.e[valid], panel.j[valid], values.value[valid]
    by_value = np.lexsort((v, e))
    e, j, v = e[by_value], j[by_value], v[by_value]
    n, m = panel.n, panel.m
    higher = method is not AggregationMethod.RANK

    rng = random.Random(seed)
    population = range(m)
    weights = np.zeros((iterations + 1, m))
    weights[0] = 1.0  # the full panel, each juror once
    for it in range(1, iterations + 1):
        if m:
            np.add.at(weights[it], rng.choices(population, k=m), 1.0)

    hits = np.zeros(n)
    empty = np.zeros(n)
    full = np.zeros(n, dtype=bool)
    chunk = max(1, _CHUNK_CELLS // max(len(v), 1))
    for first in range(0, iterations + 1, chunk):
        w = weights[first : first + chunk][:, j]  # resamples x reviews
        scores = _resampled_scores(method, trim, w, e, v, n)
        inside = _top(scores, top_n, higher)
        if first == 0:
            full = inside[0]
            inside, scores = inside[1:], scores[1:]
        hits += inside.sum(axis=0)
        empty += np.isnan(scores).sum(axis=0)
    results = []
    for i, entry_id in enumerate(panel.entry_ids):
        probability = float(hits[i]) / iterations
        results.append(
            EntryStability(
                entry_id=entry_id,
                probability=probability,
                in_top_n=bool(full[i]),
                no_data_share=float(empty[i]) / iterations,
                too_close_to_call=close_low <= probability <= close_high,
            )
        )
    return Stability(
        method=method,
        top_n=top_n,
        iterations=iterations,
        seed=seed,
        close_low=close_low,
        close_high=close_high,
        entries=tuple(results),
    )


def _resampled_scores(
    method: AggregationMethod, trim: int, w: np.ndarray, e: np.ndarray, v: np.ndarray, n: int
) -> np.ndarray:
    """Scores of every entry in each resample (rows): reviews weighted by how often their
    juror was drawn; NaN where no drawn juror reviewed the entry."""
    rows = w.shape[0]
    scores = np.full((rows, n), np.nan)
    if not len(v):
        return scores
    reviewed = np.unique(e)
    starts = np.searchsorted(e, reviewed)
    count = np.add.reduceat(w, starts, axis=1)
    drawn = count > 0
    if method in _MEAN_COMBINED:
        sums = np.add.reduceat(w * v, starts, axis=1)
        block = np.full(count.shape, np.nan)
        np.divide(sums, count, out=block, where=drawn)
        scores[:, reviewed] = block
        return scores
    # Median / trimmed mean of the multiset where each value appears w times: positions in
    # the sorted multiset are read off the running count of weights within the entry.
    cum = np.cumsum(w, axis=1)
    before_entry = np.zeros_like(count)
    before_entry[:, 1:] = cum[:, starts[1:] - 1]
    before_entry[:, 0] = 0.0
    segment = np.repeat(np.arange(len(reviewed)), np.diff(np.append(starts, len(v))))
    within_end = cum - before_entry[:, segment]  # multiset positions [end - w, end)
    within_start = within_end - w

    def at(position: np.ndarray) -> np.ndarray:
        """The value at a 0-based multiset position of each entry (per row)."""
        hit = (within_start <= position[:, segment]) & (position[:, segment] < within_end)
        hit &= w > 0
        picked = np.where(hit, v, 0.0)
        return np.add.reduceat(picked, starts, axis=1)

    total = count
    low = np.floor((total - 1) / 2)
    high = np.floor(total / 2)
    median = (at(low) + at(high)) / 2
    odd = (total % 2) == 1
    median = np.where(odd, at(low), median)
    block = median
    if method is AggregationMethod.TRIMMED:
        enough = total >= 2 * trim + 1
        keep_low = np.full_like(total, float(trim))
        keep_high = total - trim
        kept = np.clip(
            np.minimum(within_end, keep_high[:, segment])
            - np.maximum(within_start, keep_low[:, segment]),
            0.0,
            None,
        )
        sums = np.add.reduceat(kept * v, starts, axis=1)
        trimmed = np.full(count.shape, np.nan)
        np.divide(sums, total - 2 * trim, out=trimmed, where=enough & drawn)
        block = np.where(enough, trimmed, median)
    scores[:, reviewed] = np.where(drawn, block, np.nan)
    return scores


def _top(scores: np.ndarray, top_n: int, higher: bool) -> np.ndarray:
    """Per row: the entries at least as good as the N-th best score (ties at the bar in)."""
    present = ~np.isnan(scores)
    signed = scores if higher else -scores
    filled = np.where(present, signed, -np.inf)
    count = present.sum(axis=1)
    inside = present.copy()
    many = count > top_n
    if many.any():
        rows = filled[many]
        bar = -np.partition(-rows, top_n - 1, axis=1)[:, top_n - 1]
        bar_value = bar if higher else -bar
        raw = scores[many]
        better = rows > bar[:, None]
        at_bar = _close_arrays(raw, bar_value[:, None])
        inside[many] = present[many] & (better | at_bar)
    return inside
