"""The cut of a public vote: top N per category, ties at the cut shown and resolved by rule."""

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from awards.judging.public_vote import (
    ADMIN_CHOICE,
    EARLIER_SUBMISSION,
    INCLUDE_ALL,
    RULES,
    Candidate,
    InvalidChoice,
    select_advancing,
)

T0 = datetime(2026, 1, 1)


def cands(*votes, order=None):
    """Candidates "a", "b", ... with these votes; submitted in ``order`` (default a first)."""
    keys = [chr(ord("a") + i) for i in range(len(votes))]
    order = order or keys
    return [Candidate(k, v, T0 + timedelta(hours=order.index(k)))
            for k, v in zip(keys, votes, strict=False)]


def test_top_n_advance_when_no_tie_at_cut():
    result = select_advancing(cands(10, 30, 20, 5), 2, INCLUDE_ALL)
    assert result.ordered == ["b", "c", "a", "d"]
    assert result.advanced == ["b", "c"]
    assert result.tied_at_cut == []
    assert result.needs_choice is False


def test_tie_below_the_cut_does_not_matter():
    result = select_advancing(cands(30, 20, 5, 5), 2, INCLUDE_ALL)
    assert (result.advanced, result.tied_at_cut) == (["a", "b"], [])


def test_tie_at_cut_include_all_advances_everyone_tied():
    result = select_advancing(cands(30, 20, 20, 20, 1), 2, INCLUDE_ALL)
    assert result.advanced == ["a", "b", "c", "d"]
    assert result.tied_at_cut == ["b", "c", "d"]
    assert result.seats_for_tied == 1


def test_tie_at_cut_earlier_submission_takes_the_seats_left():
    result = select_advancing(cands(30, 20, 20, 20, order=["a", "d", "c", "b"]), 3,
                              EARLIER_SUBMISSION)
    assert result.tied_at_cut == ["d", "c", "b"]
    assert result.advanced == ["a", "d", "c"]


def test_tie_at_cut_admin_choice_waits_for_a_choice():
    result = select_advancing(cands(30, 20, 20), 2, ADMIN_CHOICE)
    assert result.needs_choice is True
    assert result.advanced == ["a"]
    assert result.tied_at_cut == ["b", "c"]


def test_tie_at_cut_admin_choice_applies_the_choice():
    result = select_advancing(cands(30, 20, 20), 2, ADMIN_CHOICE, chosen=["c"])
    assert (result.advanced, result.needs_choice) == (["a", "c"], False)


@pytest.mark.parametrize("chosen", [[], ["a"], ["b", "c"], ["z"]])
def test_admin_choice_of_wrong_size_or_outside_the_tie_is_refused(chosen):
    with pytest.raises(InvalidChoice):
        select_advancing(cands(30, 20, 20), 2, ADMIN_CHOICE, chosen=chosen)


def test_everyone_advances_when_no_more_entries_than_seats():
    result = select_advancing(cands(0, 0), 5, ADMIN_CHOICE)
    assert (result.advanced, result.tied_at_cut) == (["a", "b"], [])


def test_zero_seats_advance_nobody():
    assert select_advancing(cands(3, 2), 0, INCLUDE_ALL).advanced == []


def test_all_zero_votes_are_all_tied_at_the_cut():
    result = select_advancing(cands(0, 0, 0), 1, INCLUDE_ALL)
    assert result.tied_at_cut == ["a", "b", "c"]


@pytest.mark.parametrize("bad", [{"n": -1, "rule": INCLUDE_ALL}, {"n": 1, "rule": "coin"}])
def test_bad_arguments_are_refused(bad):
    with pytest.raises(ValueError):
        select_advancing(cands(1, 2), bad["n"], bad["rule"])


vote_lists = st.lists(st.integers(min_value=0, max_value=6), min_size=0, max_size=12)


@settings(max_examples=200, deadline=None)
@given(votes=vote_lists, n=st.integers(min_value=0, max_value=8), rule=st.sampled_from(RULES))
def test_properties_of_the_cut(votes, n, rule):
    candidates = cands(*votes)
    result = select_advancing(candidates, n, rule)
    by_key = {c.key: c.votes for c in candidates}
    advanced = set(result.advanced)
    # Nobody left behind has more votes than someone who advanced.
    if advanced:
        lowest_in = min(by_key[k] for k in advanced)
        assert all(by_key[k] <= lowest_in for k in by_key if k not in advanced)
    # Exactly n advance, except: fewer entries than seats, a pending choice, or include_all.
    if len(candidates) <= n:
        assert advanced == set(by_key)
    elif rule == INCLUDE_ALL:
        assert len(advanced) >= n
    elif rule == ADMIN_CHOICE and result.needs_choice:
        assert len(advanced) == n - result.seats_for_tied
    else:
        assert len(advanced) == n
    # Ties at the cut are all equal and there is one more of them than seats at least.
    if result.tied_at_cut:
        assert len({by_key[k] for k in result.tied_at_cut}) == 1
        assert len(result.tied_at_cut) > result.seats_for_tied


@settings(max_examples=100, deadline=None)
@given(votes=vote_lists, n=st.integers(min_value=0, max_value=8), rule=st.sampled_from(RULES))
def test_result_does_not_depend_on_input_order(votes, n, rule):
    candidates = cands(*votes)
    forward = select_advancing(candidates, n, rule)
    backward = select_advancing(list(reversed(candidates)), n, rule)
    assert forward == backward
