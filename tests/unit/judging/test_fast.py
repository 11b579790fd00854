"""The fast path (``judging.fast``) gives exactly the reference functions' results: the same
scores, ranks, tie-breaks, explanations, agreement figures and bootstrap probabilities, on
random panels with ties, drafts, reviews without a total, jurors with a single review (left out
by the relative methods), unreviewed entries and every one of the six methods."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from awards.enums import AggregationMethod as M
from awards.judging import (
    Review,
    aggregate,
    agreement_report,
    bootstrap_top_n,
    fast,
    rank_entries,
)

from .strategies import METHODS

# Totals on a half-point grid (ties are common) or weighted sums of 0.1-steps (not exact in
# binary floating point, as real rubric totals with weights such as 0.3 are not).
grid_totals = st.integers(min_value=0, max_value=30).map(lambda n: n / 2)
weighted_totals = st.lists(st.integers(0, 10), min_size=3, max_size=3).map(
    lambda s: s[0] * 0.1 * 0.3 + s[1] * 0.1 * 0.7 + s[2] * 0.1 * 1.1
)


@st.composite
def rounds(draw, max_jurors=6, max_entries=9):
    """Reviews of a random design, and the entries of the round (some never reviewed)."""
    totals = draw(st.sampled_from([grid_totals, weighted_totals]))
    ids = draw(st.sampled_from(["int", "str"]))
    jurors = [j if ids == "int" else f"j{j}" for j in range(draw(st.integers(1, max_jurors)))]
    count = draw(st.integers(1, max_entries))
    entries = [e + 100 if ids == "int" else f"e{e}" for e in range(count)]
    reviews = []
    for juror in jurors:
        for entry in entries:
            kind = draw(st.sampled_from(["none", "none", "submitted", "submitted", "submitted",
                                         "draft", "no_total"]))
            if kind == "none":  # not assigned, recused or removed: no review at all
                continue
            total = None if kind == "no_total" else draw(totals)
            reviews.append(Review(entry, juror, total, submitted=kind != "draft"))
    draw(st.randoms(use_true_random=False)).shuffle(reviews)
    return reviews, entries


def materialised(result):
    """Force every deferred explanation, so a comparison covers it."""
    for entry in result.entries:
        tuple(getattr(entry, "reviews", ()))
        tuple(entry.steps)
    return result


@settings(max_examples=100, deadline=None)
@given(rounds(), st.sampled_from(METHODS), st.integers(0, 2), st.integers(0, 4))
def test_fast_aggregation_equals_reference(data, method, trim, required):
    reviews, entries = data
    reference = aggregate(reviews, method, entries=entries, required_reviews=required, trim=trim)
    result = fast.aggregate(fast.Panel(reviews, entries), method, required_reviews=required,
                            trim=trim)
    assert materialised(result) == reference
    assert result.scores() == reference.scores()


TIE_BREAK_ORDERS = [
    ("first_places", "median", "spread"),
    ("spread", "median"),
    ("median",),
    ("criterion:k", "first_places"),
    (),
]


@settings(max_examples=100, deadline=None)
@given(rounds(), st.sampled_from(METHODS), st.sampled_from(TIE_BREAK_ORDERS), st.data())
def test_fast_ranking_equals_reference(data, method, order, draw):
    reviews, entries = data
    means = None
    if any(name.startswith("criterion:") for name in order):
        means = {e: {"k": draw.draw(st.one_of(st.none(), grid_totals))} for e in entries
                 if draw.draw(st.booleans())}
    reference = rank_entries(aggregate(reviews, method, entries=entries, required_reviews=2),
                             tie_breaks=order, criterion_means=means)
    panel = fast.Panel(reviews, entries)
    result = fast.rank(panel, fast.aggregate(panel, method, required_reviews=2),
                       tie_breaks=order, criterion_means=means)
    assert materialised(result) == reference
    assert result.left_to_jury == reference.left_to_jury


@settings(max_examples=100, deadline=None)
@given(rounds(max_jurors=7, max_entries=10), st.integers(1, 4))
def test_fast_agreement_equals_reference(data, min_overlap):
    reviews, _entries = data
    reference = agreement_report(reviews, min_overlap=min_overlap, leniency_threshold=0.5)
    result = fast.agreement_report(fast.Panel(reviews), min_overlap=min_overlap,
                                   leniency_threshold=0.5)
    assert result == reference


@st.composite
def complete_rounds(draw):
    """Every juror reviews every entry: Kendall's W is defined."""
    m, n = draw(st.integers(1, 5)), draw(st.integers(1, 7))
    return [Review(e, j, draw(grid_totals)) for j in range(m) for e in range(n)]


@settings(max_examples=100, deadline=None)
@given(complete_rounds())
def test_fast_kendalls_w_equals_reference_on_complete_designs(reviews):
    assert fast.kendalls_w(fast.Panel(reviews)) == agreement_report(reviews).kendall


@settings(max_examples=60, deadline=None)
@given(rounds(), st.sampled_from(METHODS), st.integers(1, 3), st.integers(0, 2**16),
       st.integers(0, 2))
def test_fast_bootstrap_equals_reference(data, method, top_n, seed, trim):
    reviews, entries = data
    reference = bootstrap_top_n(reviews, method, top_n=top_n, iterations=40, seed=seed,
                                trim=trim, entries=entries)
    result = fast.bootstrap_top_n(fast.Panel(reviews, entries), method, top_n=top_n,
                                  iterations=40, seed=seed, trim=trim)
    assert result == reference


def test_fast_explanations_are_built_only_when_read():
    reviews = [Review(e, j, (e * 7 + j * 3) % 11) for e in range(50) for j in range(4)]
    panel = fast.Panel(reviews)
    aggregation = fast.aggregate(panel, M.ZSCORE, required_reviews=4)
    ranking = fast.rank(panel, aggregation)
    unread = [e.steps for e in aggregation.entries] + [e.steps for e in ranking.entries]
    assert all(s._items is None for s in unread)
    reference = aggregate(reviews, M.ZSCORE, required_reviews=4).entry(7)
    assert aggregation.entry(7).steps == reference.steps
    assert aggregation.entry(7).reviews == reference.reviews
    assert sum(s._items is not None for s in unread) == 1


@pytest.mark.parametrize("method", [M.ZSCORE, M.MEDIAN, M.BORDA])
def test_fast_results_survive_a_pickle_unread_and_equal_the_reference(method):
    """A ranking is kept in a shared cache as a pickle: its explanations, still unread, come
    back and are then built exactly as the reference builds them."""
    import pickle

    reviews = [Review(e, j, (e * 7 + j * 3) % 11) for e in range(40) for j in range(4)]
    panel = fast.Panel(reviews)
    aggregation = fast.aggregate(panel, method, required_reviews=4)
    ranking = fast.rank(panel, aggregation)
    aggregation, ranking = pickle.loads(pickle.dumps((aggregation, ranking)))
    assert all(e.steps._items is None for e in ranking.entries if e.score is not None)
    reference_aggregation = aggregate(reviews, method, required_reviews=4)
    assert materialised(aggregation) == reference_aggregation
    assert materialised(ranking) == rank_entries(reference_aggregation)


def test_fast_panel_refuses_two_counted_reviews_by_one_juror():
    with pytest.raises(ValueError, match="two submitted reviews"):
        fast.Panel([Review("a", "X", 3), Review("b", "X", 4), Review("a", "X", 5)])


def test_fast_ranking_refuses_an_aggregation_of_other_entries():
    panel = fast.Panel([Review("a", "X", 3), Review("b", "X", 4)])
    other = fast.aggregate(fast.Panel([Review("a", "X", 3)]), M.MEAN)
    with pytest.raises(ValueError, match="not one of this panel"):
        fast.rank(panel, other)


def test_fast_ties_wider_than_the_tolerance_are_grouped_as_the_reference_groups_them():
    # 1, 1 + 0.6e-9, 1 + 1.2e-9: each close to the next, the last not close to the first. The
    # reference starts a new tie group there; so does the fast path (by handing that juror's
    # marks to the reference function).
    step = 0.6e-9
    reviews = [Review(e, "X", 1 + e * step) for e in range(3)] + [
        Review(e, "Y", float(e)) for e in range(3)
    ]
    for method in (M.RANK, M.BORDA):
        reference = aggregate(reviews, method)
        assert materialised(fast.aggregate(fast.Panel(reviews), method)) == reference
    assert fast.agreement_report(fast.Panel(reviews)) == agreement_report(reviews)
