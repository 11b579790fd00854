"""Rankings of a round, their explanations, and the decisions taken on them (advance to the next
round, award levels).

Loading is done in a fixed number of bulk queries whatever the size of the round
(``load_round``); everything after that is pure: the judging library scores, ranks, measures
agreement and stability. Services take keyword-only arguments, flush and audit; the caller
commits.

Decisions that change state carry a *state digest* of what the administrator saw (the active
decisions of the category); the service recomputes it after taking a lock on the category row,
so two administrators deciding at once cannot overwrite each other: the second one is refused
(``StaleState``, answered with 409).

The feature lives in four modules, all re-exported here so callers keep importing
``awards.ranking.services``: ``errors`` (the refusals), ``loading`` (bulk loading of a round),
``rankings`` (ranking and explaining, pure after loading) and ``decisions`` (advance, award,
revoke)."""

from __future__ import annotations

from awards.ranking.decisions import (
    FROZEN_MESSAGES,
    AdvancePreview,
    AdvanceResult,
    active_decisions,
    advance,
    advanced_into,
    category_digests,
    decide_award,
    decisions_by_entry,
    first_round,
    next_round,
    preview_advance,
    revoke_decision,
    state_digest,
    top_entries,
)
from awards.ranking.errors import (
    CallPublished,
    EntryReviewed,
    LevelFull,
    NoNextRound,
    NotInThisPhase,
    RankingError,
    StaleState,
)
from awards.ranking.loading import (
    NOT_RANKED,
    SHEETS_PER_QUERY,
    EntryInfo,
    ReviewRow,
    RoundData,
    gc_paused,
    judging_criteria,
    juror_conflicts,
    load_round,
    score_sheets,
)
from awards.ranking.rankings import (
    BOOTSTRAP_BUDGET,
    BOOTSTRAP_MAX_ITERATIONS,
    BOOTSTRAP_MIN_ITERATIONS,
    BOOTSTRAP_SEED,
    METHODS,
    CategoryRanking,
    EntryExplanation,
    RankedRow,
    ReviewDetail,
    RoundRanking,
    bootstrap_iterations,
    explain_entry,
    parse_method,
    rank_round,
    round_ranking,
    tie_breaks_of,
)

__all__ = [
    "BOOTSTRAP_BUDGET",
    "BOOTSTRAP_MAX_ITERATIONS",
    "BOOTSTRAP_MIN_ITERATIONS",
    "BOOTSTRAP_SEED",
    "FROZEN_MESSAGES",
    "METHODS",
    "NOT_RANKED",
    "SHEETS_PER_QUERY",
    "AdvancePreview",
    "AdvanceResult",
    "CallPublished",
    "CategoryRanking",
    "EntryExplanation",
    "EntryInfo",
    "EntryReviewed",
    "LevelFull",
    "NoNextRound",
    "NotInThisPhase",
    "RankedRow",
    "RankingError",
    "ReviewDetail",
    "ReviewRow",
    "RoundData",
    "RoundRanking",
    "StaleState",
    "active_decisions",
    "advance",
    "advanced_into",
    "bootstrap_iterations",
    "category_digests",
    "decide_award",
    "decisions_by_entry",
    "explain_entry",
    "first_round",
    "gc_paused",
    "judging_criteria",
    "juror_conflicts",
    "load_round",
    "next_round",
    "parse_method",
    "preview_advance",
    "rank_round",
    "revoke_decision",
    "round_ranking",
    "score_sheets",
    "state_digest",
    "tie_breaks_of",
    "top_entries",
]
