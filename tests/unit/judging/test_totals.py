"""A review's total from its criterion scores, and the validation of one score."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from awards.enums import TotalMethod
from awards.judging import (
    Criterion,
    ScoreError,
    check_score,
    criterion_means,
    review_total,
    total_bounds,
    validate_scores,
)

RUBRIC = [
    Criterion("impact", weight=2, min_score=0, max_score=10, step=1),
    Criterion("originality", weight=1, min_score=0, max_score=10, step=0.5),
    Criterion("feasibility", weight=1, min_score=1, max_score=5, step=1),
]


@pytest.mark.parametrize(
    ("value", "low", "high", "step", "expected"),
    [
        (7, 0, 10, 1, None),
        (0, 0, 10, 1, None),
        (10, 0, 10, 1, None),
        (7.5, 0, 10, 0.5, None),
        (0.3, 0, 1, 0.1, None),  # 0.3 is not a multiple of 0.1 in binary; still on the grid
        (0.7000000000001, 0, 1, 0.1, None),  # rounding noise is tolerated
        (3, 1, 5, 2, None),  # grid starts at min: 1, 3, 5
        (2, 1, 5, 2, ScoreError.OFF_STEP),
        (7.5, 0, 10, 1, ScoreError.OFF_STEP),
        (0.35, 0, 1, 0.1, ScoreError.OFF_STEP),
        (11, 0, 10, 1, ScoreError.OUT_OF_RANGE),
        (-1, 0, 10, 1, ScoreError.OUT_OF_RANGE),
        (10.5, 0, 10, 0.5, ScoreError.OUT_OF_RANGE),
        (None, 0, 10, 1, ScoreError.MISSING),
        (float("nan"), 0, 10, 1, ScoreError.NOT_A_NUMBER),
        (float("inf"), 0, 10, 1, ScoreError.NOT_A_NUMBER),
        (True, 0, 10, 1, ScoreError.NOT_A_NUMBER),
        ("7", 0, 10, 1, ScoreError.NOT_A_NUMBER),
        (3.14159, 0, 10, None, None),  # no step: any value in range
        (3.14159, 0, 10, 0, None),
    ],
)
def test_check_score_cases(value, low, high, step, expected):
    assert check_score(value, low, high, step) == expected


@given(st.integers(0, 100))
def test_check_score_every_grid_point_valid(i):
    # Every point of a 0.1 grid from 0 to 10, computed the way a form would send it.
    assert check_score(round(i * 0.1, 10), 0, 10, 0.1) is None


def test_review_total_weighted_sum():
    # 2*8 + 1*6.5 + 1*4 = 16 + 6.5 + 4 = 26.5
    scores = {"impact": 8, "originality": 6.5, "feasibility": 4}
    assert review_total(scores, RUBRIC, TotalMethod.SUM) == 26.5


def test_review_total_weighted_mean():
    # 26.5 / (2 + 1 + 1) = 6.625
    scores = {"impact": 8, "originality": 6.5, "feasibility": 4}
    assert review_total(scores, RUBRIC, TotalMethod.MEAN) == 6.625


def test_review_total_accepts_plain_tuples():
    rubric = [("a", 1.0, 0, 10, 1), ("b", 3.0, 0, 10, 1)]
    # 1*2 + 3*4 = 14; mean 14 / 4 = 3.5
    assert review_total({"a": 2, "b": 4}, rubric, TotalMethod.SUM) == 14
    assert review_total({"a": 2, "b": 4}, rubric, TotalMethod.MEAN) == 3.5


def test_review_total_missing_criterion_is_none():
    assert review_total({"impact": 8, "originality": 6.5}, RUBRIC) is None
    assert review_total({"impact": 8, "originality": None, "feasibility": 3}, RUBRIC) is None


@pytest.mark.parametrize(
    "scores",
    [
        {"impact": 11, "originality": 6.5, "feasibility": 4},
        {"impact": 8, "originality": 6.25, "feasibility": 4},
        {"impact": 8, "originality": 6.5, "feasibility": 4, "charm": 3},
    ],
)
def test_review_total_invalid_raises(scores):
    with pytest.raises(ValueError, match="invalid scores"):
        review_total(scores, RUBRIC)


def test_review_total_mean_with_zero_weights_raises():
    with pytest.raises(ValueError, match="positive weight"):
        review_total({"a": 1}, [Criterion("a", weight=0)], TotalMethod.MEAN)


def test_validate_scores_reports_every_problem():
    errors = validate_scores({"impact": 12, "originality": 6.25, "charm": 1}, RUBRIC)
    assert errors == {
        "impact": ScoreError.OUT_OF_RANGE,
        "originality": ScoreError.OFF_STEP,
        "feasibility": ScoreError.MISSING,
        "charm": ScoreError.UNKNOWN_CRITERION,
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"weight": -1}, "weight"),
        ({"min_score": 5, "max_score": 5}, "min_score"),
        ({"step": -0.5}, "step"),
        ({"weight": float("nan")}, "weight"),
    ],
)
def test_criterion_invalid_definition_raises(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Criterion("x", **kwargs)


def test_criterion_duplicate_keys_raise():
    with pytest.raises(ValueError, match="unique"):
        review_total({"a": 1}, [Criterion("a"), Criterion("a")])


def test_total_bounds_sum_and_mean():
    # sum: min 2*0 + 0 + 1 = 1, max 2*10 + 10 + 5 = 35; mean: divided by 4
    assert total_bounds(RUBRIC, TotalMethod.SUM) == (1, 35)
    assert total_bounds(RUBRIC, TotalMethod.MEAN) == (0.25, 8.75)


def test_criterion_means_skips_missing_scores():
    sheets = [
        ("a", {"impact": 8, "originality": 5}),
        ("a", {"impact": 6, "originality": None}),
        ("b", {"impact": None}),
    ]
    assert criterion_means(sheets) == {
        "a": {"impact": 7.0, "originality": 5.0},
        "b": {"impact": None},
    }


@given(
    st.lists(st.integers(0, 10), min_size=3, max_size=3),
    st.lists(st.integers(0, 4), min_size=3, max_size=3),
)
def test_review_total_mean_between_min_and_max_score(scores, weights):
    rubric = [Criterion(k, weight=w) for k, w in zip("abc", weights, strict=True)]
    sheet = dict(zip("abc", scores, strict=True))
    if sum(weights) == 0:
        return
    total = review_total(sheet, rubric, TotalMethod.MEAN)
    used = [s for s, w in zip(scores, weights, strict=True) if w]
    assert min(used) - 1e-9 <= total <= max(used) + 1e-9
