"""Bootstrap over jurors: how likely each entry is to be in the top N."""

import itertools
import random
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from awards.enums import AggregationMethod as M
from awards.judging import Review, aggregate, bootstrap_top_n, competition_ranks

from .strategies import METHODS, panels

# Every juror orders the entries a > b > c > d, on different scales.
CLEAR = [
    Review(e, j, t * scale + offset)
    for j, scale, offset in [("X", 1, 0), ("Y", 2, 1), ("Z", 0.5, 3), ("W", 3, -2)]
    for e, t in [("a", 9), ("b", 7), ("c", 4), ("d", 1)]
]

# X prefers a, Y prefers b, Z slightly prefers a.
SPLIT = [
    Review("a", "X", 9), Review("b", "X", 5),
    Review("a", "Y", 4), Review("b", "Y", 8),
    Review("a", "Z", 7), Review("b", "Z", 6),
]  # fmt: skip


@pytest.mark.parametrize("method", METHODS)
def test_bootstrap_clear_order_is_certain_for_every_method(method):
    result = bootstrap_top_n(CLEAR, method, top_n=2, iterations=200, seed=1)
    assert [(e.entry_id, e.probability, e.in_top_n) for e in result.entries] == [
        ("a", 1.0, True), ("b", 1.0, True), ("c", 0.0, False), ("d", 0.0, False),
    ]  # fmt: skip
    assert result.too_close_to_call == []


def exact_probability(reviews, method, entry_id, top_n):
    """Enumerate every ordered resample of the jurors (each equally likely)."""
    jurors = sorted({r.juror_id for r in reviews})
    hits = 0
    samples = list(itertools.product(jurors, repeat=len(jurors)))
    for sample in samples:
        resampled = [
            Review(r.entry_id, (r.juror_id, copy), r.total)
            for copy, juror in enumerate(sample)
            for r in reviews
            if r.juror_id == juror
        ]
        scores = aggregate(resampled, method).scores()
        ranks = competition_ranks(scores, higher_is_better=method is not M.RANK)
        hits += ranks.get(entry_id) is not None and ranks[entry_id] <= top_n
    return Fraction(hits, len(samples))


@pytest.mark.parametrize("method", [M.MEAN, M.MEDIAN])
def test_bootstrap_converges_to_exact_resampling_probability(method):
    # 27 equally likely resamples of 3 jurors; for the mean, a is top when
    # 4 n_X - 4 n_Y + n_Z >= 0 (ties count as in the top). The bootstrap estimate with 20,000
    # draws is within 0.02 of the exact share (its standard error is about 0.0035).
    exact = exact_probability(SPLIT, method, "a", 1)
    assert 0 < exact < 1
    estimate = bootstrap_top_n(SPLIT, method, top_n=1, iterations=20_000, seed=7)
    assert estimate.probability("a") == pytest.approx(float(exact), abs=0.02)


def test_bootstrap_split_panel_is_too_close_to_call():
    exact = exact_probability(SPLIT, M.MEAN, "a", 1)
    # counted by hand: samples with 4 n_X - 4 n_Y + n_Z >= 0 are
    #   n_X > n_Y (with n_Z = 3 - n_X - n_Y): (1,0,2) 3, (2,0,1) 3, (3,0,0) 1, (2,1,0) 3 -> 10
    #   n_X = n_Y: (0,0,3) 1, (1,1,1) 6 -> 7;  total 17 of 27
    assert exact == Fraction(17, 27)
    result = bootstrap_top_n(SPLIT, M.MEAN, top_n=1, iterations=2000, seed=3)
    assert result.too_close_to_call == ["a", "b"]


def test_bootstrap_reproducible_with_seed():
    rnd = random.Random(5)
    reviews = [Review(e, j, rnd.randint(0, 20)) for e in range(12) for j in rnd.sample(range(6), 3)]
    first = bootstrap_top_n(reviews, M.ZSCORE, top_n=3, iterations=300, seed=42)
    second = bootstrap_top_n(list(reversed(reviews)), M.ZSCORE, top_n=3, iterations=300, seed=42)
    assert first == second
    other = bootstrap_top_n(reviews, M.ZSCORE, top_n=3, iterations=300, seed=43)
    assert [e.probability for e in other.entries] != [e.probability for e in first.entries]


def test_bootstrap_entries_without_reviews_are_never_in_top():
    result = bootstrap_top_n(CLEAR, M.MEAN, top_n=10, iterations=50, entries=["nobody"])
    nobody = next(e for e in result.entries if e.entry_id == "nobody")
    assert (nobody.probability, nobody.no_data_share, nobody.in_top_n) == (0.0, 1.0, False)


def test_bootstrap_ties_at_the_boundary_are_in():
    reviews = [Review("a", "X", 5), Review("b", "X", 5), Review("c", "X", 1)]
    result = bootstrap_top_n(reviews, M.MEAN, top_n=1, iterations=20)
    assert [e.probability for e in result.entries] == [1.0, 1.0, 0.0]


@pytest.mark.parametrize(
    "kwargs",
    [{"top_n": 0}, {"top_n": 1, "iterations": 0}, {"top_n": 1, "close_low": 0.9}],
)
def test_bootstrap_invalid_parameters_raise(kwargs):
    with pytest.raises(ValueError):
        bootstrap_top_n(CLEAR, M.MEAN, **kwargs)


@settings(max_examples=30, deadline=None)
@given(panels(), st.sampled_from(METHODS), st.integers(1, 3))
def test_bootstrap_probabilities_are_shares(panel, method, top_n):
    reviews, entries = panel
    result = bootstrap_top_n(reviews, method, top_n=top_n, iterations=40, seed=0, entries=entries)
    for e in result.entries:
        assert 0 <= e.probability <= 1
        assert e.probability + e.no_data_share <= 1 + 1e-12
        assert e.too_close_to_call == (0.2 <= e.probability <= 0.8)
    # The full-data top N matches the ranking's (ties at the boundary included).
    scores = aggregate(reviews, method, entries=entries).scores()
    ranks = competition_ranks(scores, higher_is_better=method is not M.RANK)
    assert {e.entry_id for e in result.entries if e.in_top_n} == {
        e for e, r in ranks.items() if r is not None and r <= top_n
    }
