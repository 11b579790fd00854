"""Explanations as data: every result of the judging library carries the steps that produced it,
as ``(code, params)`` pairs. The service turns them into sentences in the reader's language
(``_("step." + code, **params)``), so no English text is baked in here.

The codes and their parameters are listed below; they are part of the public contract (stored
in exports and shown in the interface), so a code is never renamed, only added."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, NamedTuple


class StepCode(StrEnum):
    # --- aggregation: the whole round -------------------------------------------------------
    METHOD = "method"  # method, trim, required_reviews, higher_is_better
    JUROR_SCALE = "juror_scale"  # juror_id, count, mean, sd (z-score: each juror's own scale)
    JUROR_EXCLUDED = "juror_excluded"  # juror_id, count, reason ("too_few_reviews")
    JUROR_NO_SPREAD = "juror_no_spread"  # juror_id, count, total (all their totals equal)

    # --- aggregation: one entry ---------------------------------------------------------------
    REVIEWS_USED = "reviews_used"  # count, required
    DRAFTS_IGNORED = "drafts_ignored"  # count (unsubmitted reviews never count)
    MISSING_TOTAL = "missing_total"  # juror_id (submitted, but without a total: ignored)
    INCOMPLETE = "incomplete"  # count, required
    NO_DATA = "no_data"  # (no submitted review: the score is "no data", never 0)
    NO_USABLE_REVIEWS = "no_usable_reviews"  # count (reviews exist, all from excluded jurors)
    ZSCORE = "zscore"  # juror_id, total, juror_mean, juror_sd, z
    ZSCORE_NEUTRAL = "zscore_neutral"  # juror_id, total (juror without spread: counts as 0)
    REVIEW_EXCLUDED = "review_excluded"  # juror_id, total, reason
    JUROR_RANK = "juror_rank"  # juror_id, total, rank, of (1 = the juror's best)
    BORDA_POINTS = "borda_points"  # juror_id, total, rank, of, points (= of - rank)
    MEAN = "mean"  # values, result
    MEDIAN = "median"  # values, result
    TRIMMED_MEAN = "trimmed_mean"  # k, dropped_low, dropped_high, kept, result
    TRIM_FALLBACK_MEDIAN = "trim_fallback_median"  # count, k, needed (2k+1)
    MEAN_RANK = "mean_rank"  # values, result (lower is better)

    # --- ranking ------------------------------------------------------------------------------
    TIE_BREAK_ORDER = "tie_break_order"  # order (list of tie-break names)
    TIED_ON_SCORE = "tied_on_score"  # rank, count, entries (the others; at most 20 named)
    TIE_BROKEN = "tie_broken"  # by, value, rank
    LEFT_TO_JURY = "left_to_jury"  # rank, count, entries (still tied after every tie-break)
    UNRANKED = "unranked"  # (no data: listed last, without a rank)


class Step(NamedTuple):
    """One step of an explanation. A plain ``(code, params)`` pair, so it serialises to JSON as
    a two-element list and unpacks as ``code, params = step``."""

    code: StepCode
    params: dict[str, Any]


def step(code: StepCode, **params: Any) -> Step:
    return Step(code, params)
