"""Ranks from aggregated scores: ties shown as ties, the tie-break order, left to the jury."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from awards.enums import AggregationMethod as M
from awards.judging import (
    DEFAULT_TIE_BREAKS,
    Review,
    StepCode,
    aggregate,
    check_tie_breaks,
    competition_ranks,
    rank_entries,
)

from .strategies import METHODS, panels


def reviews_from(table):
    """{juror: {entry: total}} -> reviews."""
    return [Review(e, j, t) for j, row in table.items() for e, t in row.items()]


def ranked(table, method=M.MEAN, **kwargs):
    return rank_entries(aggregate(reviews_from(table), method), **kwargs)


def summary(ranking):
    return [(e.entry_id, e.rank, e.label) for e in ranking.entries]


def test_rank_entries_competition_ranking_with_ties():
    ranking = ranked({"X": {"a": 8, "b": 7, "c": 7, "d": 6}}, tie_breaks=())
    assert [(e.entry_id, e.score_rank, e.score_tied) for e in ranking.entries] == [
        ("a", 1, False), ("b", 2, True), ("c", 2, True), ("d", 4, False),
    ]  # fmt: skip
    # Nothing to break the tie with: both stay =2 and are left to the jury.
    assert summary(ranking) == [("a", 1, "1"), ("b", 2, "=2"), ("c", 2, "=2"), ("d", 4, "4")]
    assert ranking.left_to_jury == [["b", "c"]]
    assert ranking.entry("b").decided_by == "left_to_jury"
    assert ranking.entry("b").steps == (
        (StepCode.TIED_ON_SCORE, {"rank": 2, "count": 1, "entries": ["c"]}),
        (StepCode.LEFT_TO_JURY, {"rank": 2, "count": 1, "entries": ["c"]}),
    )


def test_rank_entries_first_places_breaks_tie():
    #        a    b    c        means: a (10+4)/2 = 7, b (7+7+7)/3 = 7, c (9+8)/2 = 8.5
    #   X   10    7    -        X's best: a
    #   Y    4    7    9        Y's best: c
    #   Z    -    7    8        Z's best: c        -> first places a 1, b 0, c 2
    table = {"X": {"a": 10, "b": 7}, "Y": {"a": 4, "b": 7, "c": 9}, "Z": {"b": 7, "c": 8}}
    ranking = ranked(table, tie_breaks=("first_places",))
    assert summary(ranking) == [("c", 1, "1"), ("a", 2, "2"), ("b", 3, "3")]
    a = ranking.entry("a")
    assert (a.score_rank, a.score_tied, a.decided_by) == (2, True, "first_places")
    assert a.tie_break_values == {"first_places": 1.0}
    assert (StepCode.TIE_BROKEN, {"by": "first_places", "value": 1.0, "rank": 2}) in a.steps
    assert ranking.entry("b").score_rank == 2
    assert ranking.entry("b").decided_by == "first_places"


def test_rank_entries_median_then_spread():
    #        a    b
    #   X    4    6     a: 4, 7, 10  mean 7, median 7, sd sqrt(6)
    #   Y    7    7     b: 6, 7, 8   mean 7, median 7, sd sqrt(2/3)
    #   Z   10    8     first places: X b, Y both, Z a -> 2 each
    table = {"X": {"a": 4, "b": 6}, "Y": {"a": 7, "b": 7}, "Z": {"a": 10, "b": 8}}
    ranking = ranked(table)  # default order: first_places, median, spread
    assert ranking.tie_breaks == DEFAULT_TIE_BREAKS
    assert summary(ranking) == [("b", 1, "1"), ("a", 2, "2")]
    assert ranking.entry("b").decided_by == "spread"
    assert ranking.entry("a").tie_break_values == {
        "first_places": 2.0,
        "median": 7.0,
        "spread": pytest.approx(6**0.5),
    }


def test_rank_entries_median_breaks_tie():
    # a: 5, 6, 10 (mean 7, median 6); b: 6, 7, 8 (mean 7, median 7)
    table = {"X": {"a": 5, "b": 6}, "Y": {"a": 6, "b": 7}, "Z": {"a": 10, "b": 8}}
    ranking = ranked(table, tie_breaks=("median",))
    assert summary(ranking) == [("b", 1, "1"), ("a", 2, "2")]
    assert ranking.entry("a").decided_by == "median"


def test_rank_entries_criterion_breaks_tie():
    # a and b mirror each other: equal on the score and on every default tie-break.
    table = {"X": {"a": 5, "b": 7}, "Y": {"a": 7, "b": 5}}
    means = {"a": {"impact": 4.0}, "b": {"impact": 4.5}}
    ranking = ranked(table, tie_breaks=("criterion:impact",), criterion_means=means)
    assert summary(ranking) == [("b", 1, "1"), ("a", 2, "2")]
    assert ranking.entry("b").decided_by == "criterion:impact"


def test_rank_entries_left_to_jury_after_all_tie_breaks():
    table = {"X": {"a": 5, "b": 7}, "Y": {"a": 7, "b": 5}}
    ranking = ranked(table)
    assert summary(ranking) == [("a", 1, "=1"), ("b", 1, "=1")]
    assert all(e.tied and e.decided_by == "left_to_jury" for e in ranking.entries)


def test_rank_entries_partial_tie_break_of_three():
    # a, b, c all mean 6; first places split a from {b, c}; median cannot split b and c.
    #   X: a 8, b 6, c 4   -> best a
    #   Y: a 4, b 6, c 8   -> best c
    #   Z: a 6, b 6, c 6   -> all three best
    #   W: a 9, b 6, c 6, d 1 -> best a
    # first places: a 3, b 1, c 2 ... then c (2) above b (1)
    table = {
        "X": {"a": 8, "b": 6, "c": 4},
        "Y": {"a": 4, "b": 6, "c": 8},
        "Z": {"a": 6, "b": 6, "c": 6},
        "W": {"a": 9, "b": 6, "c": 6, "d": 1},
    }
    # means: a 27/4 = 6.75, b 6, c 6, d 1 -> only b and c tie on the score
    ranking = ranked(table, tie_breaks=("first_places",))
    assert summary(ranking) == [("a", 1, "1"), ("c", 2, "2"), ("b", 3, "3"), ("d", 4, "4")]


def test_rank_entries_everything_tied_stays_fast_and_short():
    # 3,000 entries all scored 5 by one juror: one tie group, explanations capped at 20 names.
    aggregation = aggregate([Review(i, "X", 5) for i in range(3000)], M.MEAN)
    ranking = rank_entries(aggregation)
    assert {e.rank for e in ranking.entries} == {1}
    assert all(e.tied for e in ranking.entries)
    code, params = ranking.entries[0].steps[-1]
    assert code == StepCode.LEFT_TO_JURY
    assert params["count"] == 2999
    assert len(params["entries"]) == 20


def test_rank_entries_no_data_last_and_unranked():
    aggregation = aggregate(reviews_from({"X": {"a": 3, "b": 9}}), M.MEAN, entries=["z", "y"])
    ranking = rank_entries(aggregation)
    assert summary(ranking) == [("b", 1, "1"), ("a", 2, "2"), ("y", None, ""), ("z", None, "")]
    assert ranking.entry("z").steps == ((StepCode.UNRANKED, {}),)


def test_rank_entries_rank_method_lower_is_better():
    ranking = ranked({"X": {"a": 9, "b": 5, "c": 7}}, M.RANK)
    assert ranking.higher_is_better is False
    assert [(e.entry_id, e.score, e.rank) for e in ranking.entries] == [
        ("a", 1.0, 1), ("c", 2.0, 2), ("b", 3.0, 3),
    ]  # fmt: skip


def test_rank_entries_scores_within_rounding_noise_tie():
    # 0.1 + 0.2 and 0.3 differ in binary; they are the same score.
    reviews = [Review("a", "X", 0.1 + 0.2), Review("b", "X", 0.3), Review("c", "X", 0.2)]
    ranking = rank_entries(aggregate(reviews, M.MEAN), tie_breaks=())
    assert summary(ranking) == [("a", 1, "=1"), ("b", 1, "=1"), ("c", 3, "3")]


@pytest.mark.parametrize(
    ("order", "message"),
    [
        (("luck",), "unknown"),
        (("median", "median"), "twice"),
        (("criterion:",), "unknown"),
        (("criterion:impact",), "criterion_means"),
    ],
)
def test_check_tie_breaks_invalid_raises(order, message):
    with pytest.raises(ValueError, match=message):
        check_tie_breaks(order, has_criterion_means=False)


def test_competition_ranks_simple():
    assert competition_ranks({"a": 3, "b": 5, "c": 5, "d": None}) == {
        "a": 3, "b": 1, "c": 1, "d": None,
    }  # fmt: skip
    assert competition_ranks({"a": 3, "b": 5}, higher_is_better=False) == {"a": 1, "b": 2}


# --- properties ---------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(panels(min_entries=2), st.sampled_from(METHODS), st.data())
def test_rank_entries_swapping_two_ids_swaps_nothing_else(panel, method, data):
    reviews, entries = panel
    p, q = data.draw(st.lists(st.sampled_from(entries), min_size=2, max_size=2, unique=True))
    swap = {p: q, q: p}
    swapped = [Review(swap.get(r.entry_id, r.entry_id), r.juror_id, r.total, r.submitted)
               for r in reviews]  # fmt: skip
    before = rank_entries(aggregate(reviews, method, entries=entries))
    after = rank_entries(aggregate(swapped, method, entries=entries))

    def view(ranking, entry_id):
        e = ranking.entry(entry_id)
        return (e.score, e.rank, e.score_rank, e.tied, e.decided_by, e.tie_break_values)

    for entry_id in entries:
        assert view(after, swap.get(entry_id, entry_id)) == view(before, entry_id)
    if before.entry(p).tied and before.entry(p).rank == before.entry(q).rank:
        # tied entries stay tied whatever their ids
        assert after.entry(p).rank == after.entry(q).rank


@settings(max_examples=60, deadline=None)
@given(panels(), st.sampled_from(METHODS))
def test_rank_entries_ranks_are_competition_ranks(panel, method):
    reviews, entries = panel
    ranking = rank_entries(aggregate(reviews, method, entries=entries))
    ranks = [e.rank for e in ranking.entries if e.rank is not None]
    assert ranks == sorted(ranks)
    for position, rank in enumerate(ranks, start=1):
        # competition ranking: the rank is the 1-based position of the first of its group
        assert rank == ranks.index(rank) + 1
        assert rank <= position
    # tie-breaks only refine: never move an entry across a different score
    for e in ranking.entries:
        if e.rank is not None:
            assert e.score_rank <= e.rank
    # unranked entries are exactly those without a score, all at the end
    unranked = [e for e in ranking.entries if e.rank is None]
    assert all(e.score is None for e in unranked)
    assert ranking.entries[len(ranks):] == tuple(unranked)
