"""A review's total from its criterion scores, and the validation of a single score.

Rules:

* A rubric is a list of criteria, each ``(key, weight, min_score, max_score, step)``.
* A score is valid when it is a finite number in ``[min_score, max_score]`` that lies on the
  grid ``min_score + i * step`` (both checked with a tolerance of ~1e-9 relative, because
  0.1-steps are not exact in binary floating point). ``step`` ``None`` or ``0`` means any value
  in the range is allowed.
* The total is the weighted sum ``sum(w_i * s_i)`` or the weighted mean
  ``sum(w_i * s_i) / sum(w_i)``, as the call's ``TotalMethod`` says.
* A review with any criterion unscored has no total (``None``): a partial total would look like
  a low score, and "no data" must never turn into a number.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from awards.enums import TotalMethod

from ._common import REL_TOLERANCE, Id


class ScoreError(StrEnum):
    MISSING = "missing"
    NOT_A_NUMBER = "not_a_number"
    OUT_OF_RANGE = "out_of_range"
    OFF_STEP = "off_step"
    UNKNOWN_CRITERION = "unknown_criterion"


@dataclass(frozen=True)
class Criterion:
    """One rubric line. Field names match the ``Criterion`` model so the service can pass
    ``Criterion(c.key, c.weight, c.min_score, c.max_score, c.step)``."""

    key: str
    weight: float = 1.0
    min_score: float = 0.0
    max_score: float = 10.0
    step: float | None = 1.0

    def __post_init__(self) -> None:
        for name in ("weight", "min_score", "max_score"):
            value = getattr(self, name)
            if not _is_number(value):
                raise ValueError(f"criterion {self.key!r}: {name} must be a finite number")
        if self.weight < 0:
            raise ValueError(f"criterion {self.key!r}: weight must not be negative")
        if self.min_score >= self.max_score:
            raise ValueError(f"criterion {self.key!r}: min_score must be below max_score")
        if self.step is not None and (not _is_number(self.step) or self.step < 0):
            raise ValueError(f"criterion {self.key!r}: step must be a positive number or None")

    def check(self, value: object) -> ScoreError | None:
        return check_score(value, self.min_score, self.max_score, self.step)


CriterionLike = Criterion | tuple[str, float, float, float, float | None]


def as_criteria(criteria: Iterable[CriterionLike]) -> tuple[Criterion, ...]:
    """Accept ``Criterion`` objects or plain ``(key, weight, min, max, step)`` tuples; keys must
    be unique (two lines with the same key would make a score sheet ambiguous)."""
    result = tuple(c if isinstance(c, Criterion) else Criterion(*c) for c in criteria)
    keys = [c.key for c in result]
    if len(set(keys)) != len(keys):
        raise ValueError("criterion keys must be unique")
    return result


def _is_number(value: object) -> bool:
    # bool is an int subclass; a checkbox value sneaking in as a score is a bug, not a 1.
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def check_score(
    value: object, min_score: float, max_score: float, step: float | None
) -> ScoreError | None:
    """The first problem with one score, or ``None`` when it is valid.

    Checked in this order: missing (``None``), not a finite number, outside
    ``[min_score, max_score]``, not on the grid ``min_score + i * step``."""
    if value is None:
        return ScoreError.MISSING
    if not _is_number(value):
        return ScoreError.NOT_A_NUMBER
    assert isinstance(value, int | float)
    tolerance = REL_TOLERANCE * max(1.0, abs(min_score), abs(max_score))
    if value < min_score - tolerance or value > max_score + tolerance:
        return ScoreError.OUT_OF_RANGE
    if step:
        # Compare with the nearest grid point instead of testing (value - min) % step == 0,
        # which fails for 0.3 on a 0.1 grid.
        nearest = min_score + round((value - min_score) / step) * step
        if abs(value - nearest) > REL_TOLERANCE * max(1.0, abs(value), abs(step)):
            return ScoreError.OFF_STEP
    return None


def validate_scores(
    scores: Mapping[str, object], criteria: Iterable[CriterionLike]
) -> dict[str, ScoreError]:
    """Every problem of a score sheet, by criterion key (empty when the sheet is valid).
    Keys that are not in the rubric are reported as ``unknown_criterion``."""
    rubric = as_criteria(criteria)
    errors: dict[str, ScoreError] = {}
    for criterion in rubric:
        error = criterion.check(scores.get(criterion.key))
        if error is not None:
            errors[criterion.key] = error
    known = {c.key for c in rubric}
    for key in scores:
        if key not in known:
            errors[key] = ScoreError.UNKNOWN_CRITERION
    return errors


def review_total(
    scores: Mapping[str, float | None],
    criteria: Iterable[CriterionLike],
    method: TotalMethod = TotalMethod.SUM,
) -> float | None:
    """The total of one score sheet: weighted sum or weighted mean of the criterion scores.

    Returns ``None`` when any criterion is unscored (a draft). Raises ``ValueError`` for any
    other invalid score, because a total over invalid scores would be silently wrong; the
    service validates with ``validate_scores`` before saving."""
    rubric = as_criteria(criteria)
    if not rubric:
        raise ValueError("a rubric needs at least one criterion")
    errors = validate_scores(scores, rubric)
    if any(error is ScoreError.MISSING for error in errors.values()):
        return None
    if errors:
        raise ValueError(f"invalid scores: {errors}")
    weighted = math.fsum(c.weight * float(scores[c.key]) for c in rubric)  # type: ignore[arg-type]
    if TotalMethod(method) is TotalMethod.SUM:
        return weighted
    weights = math.fsum(c.weight for c in rubric)
    if weights == 0:
        raise ValueError("a weighted mean needs at least one criterion with a positive weight")
    return weighted / weights


def total_bounds(
    criteria: Iterable[CriterionLike], method: TotalMethod = TotalMethod.SUM
) -> tuple[float, float]:
    """The lowest and highest possible total (for the interface's scale and for imports)."""
    rubric = as_criteria(criteria)
    low = math.fsum(c.weight * c.min_score for c in rubric)
    high = math.fsum(c.weight * c.max_score for c in rubric)
    if TotalMethod(method) is TotalMethod.MEAN:
        weights = math.fsum(c.weight for c in rubric)
        if weights == 0:
            raise ValueError("a weighted mean needs at least one criterion with a positive weight")
        return low / weights, high / weights
    return low, high


def criterion_means(
    sheets: Iterable[tuple[Id, Mapping[str, float | None]]],
) -> dict[Id, dict[str, float | None]]:
    """Mean score per criterion per entry over the given (submitted) score sheets, for the
    ``criterion:<key>`` tie-break. A criterion nobody scored for an entry is ``None``."""
    sums: dict[Id, dict[str, list[float]]] = {}
    for entry_id, scores in sheets:
        per_entry = sums.setdefault(entry_id, {})
        for key, value in scores.items():
            values = per_entry.setdefault(key, [])
            if value is not None:
                values.append(float(value))
    return {
        entry_id: {
            key: (math.fsum(values) / len(values) if values else None)
            for key, values in per_entry.items()
        }
        for entry_id, per_entry in sums.items()
    }


__all__ = [
    "Criterion",
    "ScoreError",
    "as_criteria",
    "check_score",
    "criterion_means",
    "review_total",
    "total_bounds",
    "validate_scores",
]
