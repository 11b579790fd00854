"""Reviews in columns, for the fast path (``fast``): a ``Panel`` sorts the reviews of one
group of entries out once into arrays of entry, juror and total, and computes, on first use
and once, what every method needs from them (juror scales, per-review values, scores). Also
the array helpers the fast path shares, and ``Deferred``, a tuple computed on first use."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from operator import attrgetter
from typing import Any

import numpy as np

from awards.enums import AggregationMethod

from ._common import REL_TOLERANCE, Id, average_ranks, close, id_key, mean, pstdev
from .aggregate import (
    MIN_REVIEWS_FOR_SCALE,
    RELATIVE_METHODS,
    JurorScale,
    ScaleStatus,
)
from .ranking import (
    MAX_LISTED,
)

_MEAN_COMBINED = frozenset(
    {
        AggregationMethod.MEAN,
        AggregationMethod.ZSCORE,
        AggregationMethod.RANK,
        AggregationMethod.BORDA,
    }
)


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


class Values:
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

    def __getstate__(self) -> dict[str, Any]:
        # Pickled (a ranking kept in a shared cache) without the memo: what it holds is
        # recomputed from the arrays when asked again, and is most of the pickle's size.
        state = self.__dict__.copy()
        state["_cache"] = {}
        return state

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

    def values(self, method: AggregationMethod) -> Values:
        """Each review's value under ``method`` (``aggregate.juror_values``)."""
        method = AggregationMethod(method)
        return self._memo(("values", method), lambda: self._values(method))

    def _values(self, method: AggregationMethod) -> Values:
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
        return Values(value, rank, scales)

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
