"""The judging rules for large rounds: the same results as ``aggregate``, ``rank_entries``,
``agreement_report`` and ``bootstrap_top_n``, computed on columns of numbers (numpy).

A ``Panel`` (``panel.py``) sorts the reviews of one group of entries (a category) out once,
into arrays of entry index, juror index and total; every method, the ranking (here), the
agreement figures and the bootstrap (``fast_stats.py``, re-exported here) then work on those
arrays instead of on dictionaries of dictionaries.

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

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from awards.enums import AggregationMethod

from ._common import Id
from .aggregate import (
    RELATIVE_METHODS,
    Aggregation,
    EntryFlag,
    EntryResult,
    _entry_result,
    aggregation_steps,
    value_step,
)
from .explain import Step, StepCode, step
from .fast_stats import (
    agreement_report,
    bootstrap_top_n,
    juror_agreement,
    kendalls_w,
    krippendorff_alpha,
)
from .panel import (
    Deferred,
    Panel,
    Values,
    _close_arrays,
    _fsum_segments,
    _snap,
    _some,
    _squares,
)
from .ranking import (
    CRITERION_PREFIX,
    DEFAULT_TIE_BREAKS,
    FIRST_PLACES,
    LEFT_TO_JURY,
    MEDIAN,
    SPREAD,
    RankedEntry,
    Ranking,
    check_tie_breaks,
)

__all__ = [
    "Deferred",
    "Panel",
    "aggregate",
    "agreement_report",
    "bootstrap_top_n",
    "juror_agreement",
    "kendalls_w",
    "krippendorff_alpha",
    "rank",
]


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

    def __init__(self, panel: Panel, method, trim, required, values: Values):
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


class _RankedSteps:
    """One ranked entry's tie steps, built when first read (a callable object rather than a
    closure, so a ranking can be pickled into the shared cache)."""

    def __init__(self, **columns: Any):
        self.__dict__.update(columns)

    def __call__(self, p: int) -> list[Step]:
        ids_sorted = self.ids_sorted
        entry_id = ids_sorted[p]
        s_run = self.score_run[p]
        a, b = self.score_starts[s_run], self.score_ends[s_run]
        if b - a < 2:
            return []
        steps = [
            step(
                StepCode.TIED_ON_SCORE,
                rank=self.score_rank[p],
                count=b - a - 1,
                entries=_some(g for g in ids_sorted[a:b] if g != entry_id),
            )
        ]
        if self.decided[p] >= 0:
            name = self.names[self.decided[p]]
            steps.append(
                step(
                    StepCode.TIE_BROKEN,
                    by=name,
                    value=self.tb_values[self.sorted_entries[p]][name],
                    rank=self.final_rank[p],
                )
            )
        else:
            f_run = self.full_run[p]
            fa, fb = self.full_starts[f_run], self.full_ends[f_run]
            steps.append(
                step(
                    StepCode.LEFT_TO_JURY,
                    rank=self.final_rank[p],
                    count=fb - fa - 1,
                    entries=_some(g for g in ids_sorted[fa:fb] if g != entry_id),
                )
            )
        return steps




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

    ranked_steps = _RankedSteps(
        ids_sorted=ids_sorted, score_rank=score_rank, final_rank=final_rank, names=names,
        score_run=score_run_l, score_starts=score_starts_l, score_ends=score_ends_l,
        full_run=full_run_l, full_starts=full_starts_l, full_ends=full_ends_l,
        decided=decided_l, tb_values=tb_values, sorted_entries=sorted_entries_l)

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
