"""How much the jurors agree, and which jurors stand out, so the chair knows where to discuss.

Input is the same ``Review`` list the aggregation takes; only submitted reviews with a total
count.

``kendalls_w``
    Kendall's coefficient of concordance W over the jurors' rankings of the entries, with the
    correction for tied totals::

        W = 12 S / (m^2 (n^3 - n) - m T),   S = sum_i (R_i - m (n + 1) / 2)^2,
        T = sum over jurors, over groups of t equal totals, of (t^3 - t)

    (m jurors, n entries, R_i = sum of entry i's ranks). W is only defined when every juror
    ranked every entry; otherwise the result is ``None`` with the reason ``incomplete_design``
    (use Krippendorff's alpha then). Also ``None`` with fewer than two jurors or entries, or
    when every juror gave all entries the same total (``no_variation``). 1 = identical
    rankings, 0 = no common tendency. ``chi_square = m (n - 1) W`` with ``n - 1`` degrees of
    freedom, for a significance test where m is large enough.

``krippendorff_alpha``
    Krippendorff's alpha with the interval metric (squared difference), which works with any
    number of jurors per entry and missing reviews (Krippendorff 2011, "Computing
    Krippendorff's alpha-reliability")::

        alpha = 1 - D_o / D_e
        D_o = (1/n) sum_u 1/(m_u - 1) sum_{i != j in u} (v_i - v_j)^2
        D_e = 1/(n (n - 1)) sum_{i != j, all pairable values} (v_i - v_j)^2

    where only entries with at least two totals are pairable, m_u is the number of totals of
    entry u and n their overall number. 1 = perfect agreement, 0 = no better than chance,
    negative = systematic disagreement. ``None`` when nothing is pairable or all totals are
    equal.

``juror_agreement``
    Per juror, on the entries they share with at least one other juror:

    * **leniency** = mean over those entries of (juror's total − mean of the *other* jurors'
      totals). Leaving the juror out of the comparison matters with three reviewers per entry:
      including them would pull the reference a third of the way towards them. Also expressed
      in units of the panel sd (population sd of all totals), ``leniency_sd``.
    * **correlation** = Spearman's rho between the juror's totals and the others' means on the
      same entries (tied totals get average ranks); needs ``min_overlap`` entries and variation
      on both sides, else ``None``.

    Flags (thresholds are parameters): ``lenient`` / ``severe`` when
    ``|leniency_sd| > leniency_threshold`` (default 1.0 panel sd), ``low_correlation`` when
    ``correlation < correlation_threshold`` (default 0.0, i.e. the juror tends to *reverse* the
    panel's order; a higher bar flags honest jurors too often, because rho over the dozen
    entries a juror typically shares is noisy — about ±0.3).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from ._common import Id, average_ranks, id_key, mean, pstdev, spearman, tie_group_sizes
from .aggregate import Review, collect_reviews

LENIENCY_THRESHOLD = 1.0
CORRELATION_THRESHOLD = 0.0
MIN_OVERLAP = 3


class Reason(StrEnum):
    INCOMPLETE_DESIGN = "incomplete_design"
    TOO_FEW_JURORS = "too_few_jurors"
    TOO_FEW_ENTRIES = "too_few_entries"
    NO_VARIATION = "no_variation"
    NO_PAIRABLE_VALUES = "no_pairable_values"


class JurorFlag(StrEnum):
    LENIENT = "lenient"
    SEVERE = "severe"
    LOW_CORRELATION = "low_correlation"


@dataclass(frozen=True)
class KendallW:
    w: float | None
    reason: Reason | None
    jurors: int
    entries: int
    chi_square: float | None = None
    df: int | None = None


@dataclass(frozen=True)
class KrippendorffAlpha:
    alpha: float | None
    reason: Reason | None
    units: int  # entries with at least two totals
    values: int  # pairable totals (n)
    observed_disagreement: float | None = None
    expected_disagreement: float | None = None


@dataclass(frozen=True)
class JurorAgreement:
    juror_id: Id
    reviews: int
    compared_entries: int
    leniency: float | None
    leniency_sd: float | None
    correlation: float | None
    flags: frozenset[JurorFlag]


@dataclass(frozen=True)
class AgreementReport:
    kendall: KendallW
    alpha: KrippendorffAlpha
    panel_sd: float | None
    jurors: tuple[JurorAgreement, ...]  # ordered by juror id
    leniency_threshold: float
    correlation_threshold: float

    @property
    def outliers(self) -> list[Id]:
        return [j.juror_id for j in self.jurors if j.flags]


def _matrix(reviews: Iterable[Review]) -> dict[Id, dict[Id, float]]:
    return collect_reviews(reviews).totals


def kendalls_w(reviews: Iterable[Review]) -> KendallW:
    """Kendall's W with tie correction; see the module docstring."""
    totals = _matrix(reviews)
    jurors = sorted(totals, key=id_key)
    entries = sorted({e for per in totals.values() for e in per}, key=id_key)
    m, n = len(jurors), len(entries)
    if any(len(totals[j]) != n for j in jurors):
        return KendallW(None, Reason.INCOMPLETE_DESIGN, m, n)
    if m < 2:
        return KendallW(None, Reason.TOO_FEW_JURORS, m, n)
    if n < 2:
        return KendallW(None, Reason.TOO_FEW_ENTRIES, m, n)
    rank_sums = [0.0] * n
    ties = 0
    for j in jurors:
        marks = [totals[j][e] for e in entries]
        for i, rank in enumerate(average_ranks(marks)):
            rank_sums[i] += rank
        ties += sum(t**3 - t for t in tie_group_sizes(marks))
    expected = m * (n + 1) / 2
    s = math.fsum((r - expected) ** 2 for r in rank_sums)
    denominator = m * m * (n**3 - n) - m * ties
    if denominator <= 0:
        return KendallW(None, Reason.NO_VARIATION, m, n)
    w = 12 * s / denominator
    return KendallW(w, None, m, n, chi_square=m * (n - 1) * w, df=n - 1)


def krippendorff_alpha(reviews: Iterable[Review]) -> KrippendorffAlpha:
    """Krippendorff's alpha, interval metric, missing reviews allowed; see the module docstring."""
    totals = _matrix(reviews)
    units: dict[Id, list[float]] = {}
    for per in totals.values():
        for entry_id, total in per.items():
            units.setdefault(entry_id, []).append(total)
    pairable = [values for values in units.values() if len(values) >= 2]
    n = sum(len(values) for values in pairable)
    if n < 2:
        return KrippendorffAlpha(None, Reason.NO_PAIRABLE_VALUES, len(pairable), n)
    # sum_{i != j} (v_i - v_j)^2 = 2 m sum_i (v_i - mean)^2; the centred form avoids the
    # cancellation of the raw-moment formula on large totals.
    observed = (
        math.fsum(
            2 * len(values) * _sum_squares(values) / (len(values) - 1) for values in pairable
        )
        / n
    )
    everything = [v for values in pairable for v in values]
    expected = 2 * _sum_squares(everything) / (n - 1)
    if expected <= 0:
        return KrippendorffAlpha(None, Reason.NO_VARIATION, len(pairable), n, observed, expected)
    return KrippendorffAlpha(1 - observed / expected, None, len(pairable), n, observed, expected)


def _sum_squares(values: list[float]) -> float:
    mu = mean(values)
    return math.fsum((v - mu) ** 2 for v in values)


def juror_agreement(
    reviews: Iterable[Review],
    *,
    leniency_threshold: float = LENIENCY_THRESHOLD,
    correlation_threshold: float = CORRELATION_THRESHOLD,
    min_overlap: int = MIN_OVERLAP,
) -> tuple[tuple[JurorAgreement, ...], float | None]:
    """Leniency and correlation of each juror with the rest of the panel, and the panel sd."""
    totals = _matrix(reviews)
    by_entry: dict[Id, dict[Id, float]] = {}
    for juror_id, per in totals.items():
        for entry_id, total in per.items():
            by_entry.setdefault(entry_id, {})[juror_id] = total
    all_totals = [t for per in totals.values() for t in per.values()]
    panel_sd = pstdev(all_totals) if all_totals else None
    if panel_sd is not None and panel_sd <= 0:
        panel_sd = None

    results = []
    for juror_id in sorted(totals, key=id_key):
        own: list[float] = []
        others_mean: list[float] = []
        for entry_id in sorted(totals[juror_id], key=id_key):
            others = [t for j, t in by_entry[entry_id].items() if j != juror_id]
            if others:
                own.append(totals[juror_id][entry_id])
                others_mean.append(mean(others))
        leniency = mean([a - b for a, b in zip(own, others_mean, strict=True)]) if own else None
        leniency_sd = (
            leniency / panel_sd if leniency is not None and panel_sd is not None else None
        )
        correlation = spearman(own, others_mean) if len(own) >= max(min_overlap, 2) else None
        flags: set[JurorFlag] = set()
        if leniency_sd is not None and abs(leniency_sd) > leniency_threshold:
            flags.add(JurorFlag.LENIENT if leniency_sd > 0 else JurorFlag.SEVERE)
        if correlation is not None and correlation < correlation_threshold:
            flags.add(JurorFlag.LOW_CORRELATION)
        results.append(
            JurorAgreement(
                juror_id=juror_id,
                reviews=len(totals[juror_id]),
                compared_entries=len(own),
                leniency=leniency,
                leniency_sd=leniency_sd,
                correlation=correlation,
                flags=frozenset(flags),
            )
        )
    return tuple(results), panel_sd


def agreement_report(
    reviews: Iterable[Review],
    *,
    leniency_threshold: float = LENIENCY_THRESHOLD,
    correlation_threshold: float = CORRELATION_THRESHOLD,
    min_overlap: int = MIN_OVERLAP,
) -> AgreementReport:
    """Everything above in one call, for the chair's agreement page."""
    reviews = list(reviews)
    jurors, panel_sd = juror_agreement(
        reviews,
        leniency_threshold=leniency_threshold,
        correlation_threshold=correlation_threshold,
        min_overlap=min_overlap,
    )
    return AgreementReport(
        kendall=kendalls_w(reviews),
        alpha=krippendorff_alpha(reviews),
        panel_sd=panel_sd,
        jurors=jurors,
        leniency_threshold=leniency_threshold,
        correlation_threshold=correlation_threshold,
    )
