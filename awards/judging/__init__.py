"""The judging rules as pure functions: totals, aggregation, ranking, agreement, stability,
commission votes and juror assignment.

Standard library (plus ``awards.enums``, and numpy in ``fast``): no Flask, no database.
``fast`` gives the same results as ``aggregate``, ``rank_entries``, ``agreement_report`` and
``bootstrap_top_n`` on columns of numbers, for rounds of thousands of entries; the functions
here stay the reference it is tested against. The services load rows,
turn them into the small frozen dataclasses below, call these functions and store or show the
results, including their explanations (``Step`` = ``(code, params)``). See docs/judging.md."""

from .aggregate import (
    Aggregation,
    EntryFlag,
    EntryResult,
    JurorScale,
    Review,
    ReviewValue,
    ScaleStatus,
    aggregate,
)
from .agreement import (
    AgreementReport,
    JurorAgreement,
    JurorFlag,
    KendallW,
    KrippendorffAlpha,
    Reason,
    agreement_report,
    juror_agreement,
    kendalls_w,
    krippendorff_alpha,
)
from .assignment import (
    AssignmentPlan,
    EntryToAssign,
    JurorToAssign,
    ReassignmentPlan,
    Shortfall,
    assign,
    reassign,
)
from .explain import Step, StepCode
from .ranking import (
    DEFAULT_TIE_BREAKS,
    RankedEntry,
    Ranking,
    check_tie_breaks,
    competition_ranks,
    rank_entries,
)
from .stability import EntryStability, Stability, bootstrap_top_n
from .totals import (
    Criterion,
    ScoreError,
    check_score,
    criterion_means,
    review_total,
    total_bounds,
    validate_scores,
)
from .votes import SchulzeResult, Vote, VoteOutcome, VoteTally, schulze, tally_votes

__all__ = [
    "DEFAULT_TIE_BREAKS",
    "Aggregation",
    "AgreementReport",
    "AssignmentPlan",
    "Criterion",
    "EntryFlag",
    "EntryResult",
    "EntryStability",
    "EntryToAssign",
    "JurorAgreement",
    "JurorFlag",
    "JurorScale",
    "JurorToAssign",
    "KendallW",
    "KrippendorffAlpha",
    "RankedEntry",
    "Ranking",
    "Reason",
    "ReassignmentPlan",
    "Review",
    "ReviewValue",
    "ScaleStatus",
    "SchulzeResult",
    "ScoreError",
    "Shortfall",
    "Stability",
    "Step",
    "StepCode",
    "Vote",
    "VoteOutcome",
    "VoteTally",
    "aggregate",
    "agreement_report",
    "assign",
    "bootstrap_top_n",
    "check_score",
    "check_tie_breaks",
    "competition_ranks",
    "criterion_means",
    "juror_agreement",
    "kendalls_w",
    "krippendorff_alpha",
    "rank_entries",
    "reassign",
    "review_total",
    "schulze",
    "tally_votes",
    "total_bounds",
    "validate_scores",
]
