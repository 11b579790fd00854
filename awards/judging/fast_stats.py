"""Agreement between jurors and the stability of the top N, on a ``Panel``: the same
results as ``agreement`` and ``stability`` (see ``fast`` for how exactness is kept)."""

from __future__ import annotations

import math
import random

import numpy as np

from awards.enums import AggregationMethod

from ._common import mean, pstdev
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
from .panel import (
    _MEAN_COMBINED,
    Panel,
    _close_arrays,
    _fsum_segments,
    _offsets,
    _segment_ranks,
    _squares,
)
from .stability import CLOSE_HIGH, CLOSE_LOW, ITERATIONS, EntryStability, Stability

# Resamples scored at once by the bootstrap (memory: chunk x reviews floats).
_CHUNK_CELLS = 1_000_000


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
