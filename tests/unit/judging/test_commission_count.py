"""Counting the commission's anonymous ballots: quorum, yes/no/abstain, Schulze and STV."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from awards.enums import VoteChoice
from awards.judging import Vote, tally_votes
from awards.judging.commission import (
    ThresholdBase,
    VoteOutcome,
    check_quorum,
    count_approval,
    count_ranked,
)
from awards.judging.stv import stv

YES, NO, ABSTAIN = VoteChoice.YES, VoteChoice.NO, VoteChoice.ABSTAIN


def ballots_of(*choices):
    """One ballot per member, all on entry "a"."""
    return [{"a": c} for c in choices]


# ---- quorum --------------------------------------------------------------------------------


@pytest.mark.parametrize(("ballots", "inclusive", "met"), [
    (6, True, True),    # two thirds of 9, "at least": 6 is enough
    (6, False, False),  # "more than two thirds": 6 is not
    (7, False, True),
    (5, True, False),
])
def test_quorum_two_thirds_of_nine(ballots, inclusive, met):
    assert check_quorum(members=9, ballots=ballots, quorum=2 / 3, inclusive=inclusive).met is met


def test_quorum_not_reached_nothing_passes():
    count = count_approval(ballots_of(YES, YES, YES, YES, YES), members=9, entries=["a"],
                           quorum=2 / 3)
    (entry,) = count.entries
    assert (count.quorum.met, entry.yes, entry.passed, entry.outcome) == (
        False, 5, False, VoteOutcome.QUORUM_NOT_MET)


def test_quorum_refuses_more_ballots_than_members():
    with pytest.raises(ValueError, match="more ballots"):
        check_quorum(members=2, ballots=3, quorum=0.5)


# ---- yes / no / abstain --------------------------------------------------------------------


def test_approval_simple_majority_of_votes_cast():
    count = count_approval(ballots_of(YES, YES, YES, YES, NO, NO, ABSTAIN, ABSTAIN, ABSTAIN),
                           members=9, entries=["a"], quorum=2 / 3)
    (entry,) = count.entries
    assert (entry.yes, entry.no, entry.abstain, entry.share, entry.passed) == (
        4, 2, 3, pytest.approx(2 / 3), True)


def test_approval_abstention_weighs_as_no_over_members_voting():
    count = count_approval(ballots_of(YES, YES, YES, YES, NO, NO, ABSTAIN, ABSTAIN, ABSTAIN),
                           members=9, entries=["a"], quorum=2 / 3, base=ThresholdBase.VOTING)
    (entry,) = count.entries
    assert (entry.share, entry.passed, entry.outcome) == (
        pytest.approx(4 / 9), False, VoteOutcome.THRESHOLD_NOT_REACHED)


@pytest.mark.parametrize(("inclusive", "passed"), [(True, True), (False, False)])
def test_approval_two_thirds_threshold_inclusive_or_not(inclusive, passed):
    # 6 yes, 3 no: exactly two thirds.
    count = count_approval(ballots_of(*[YES] * 6, *[NO] * 3), members=9, entries=["a"],
                           quorum=2 / 3, threshold=2 / 3, inclusive=inclusive)
    assert count.entries[0].passed is passed


def test_approval_tie_does_not_pass():
    count = count_approval(ballots_of(YES, YES, NO, NO), members=4, entries=["a"], quorum=0.5)
    assert count.entries[0].outcome == VoteOutcome.THRESHOLD_NOT_REACHED


def test_approval_everyone_abstains():
    count = count_approval(ballots_of(*[ABSTAIN] * 9), members=9, entries=["a"], quorum=2 / 3)
    (entry,) = count.entries
    assert (count.quorum.met, entry.abstain, entry.share, entry.outcome) == (
        True, 9, None, VoteOutcome.NO_DECISIVE_VOTES)


def test_approval_conflicted_member_has_no_choice_on_the_entry():
    # Three members; the third is in conflict with "b" and votes on "a" only.
    ballots = [{"a": YES, "b": YES}, {"a": NO, "b": YES}, {"a": YES}]
    count = count_approval(ballots, members=3, entries=["a", "b"], quorum=1.0)
    assert [(e.entry_id, e.yes, e.no, e.passed) for e in count.entries] == [
        ("a", 2, 1, True), ("b", 2, 0, True)]


def test_approval_unknown_entry_refused():
    with pytest.raises(ValueError, match="unknown entry"):
        count_approval([{"z": YES}], members=1, entries=["a"], quorum=0.5)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([YES, NO, ABSTAIN]), min_size=1, max_size=9),
       st.sampled_from([0.5, 2 / 3]), st.booleans())
def test_approval_agrees_with_tally_votes(choices, threshold, inclusive):
    # With every member voting, the per-ballot count and the older per-voter tally agree.
    members = len(choices)
    ours = count_approval(ballots_of(*choices), members=members, entries=["a"], quorum=0.5,
                          threshold=threshold, inclusive=inclusive).entries[0]
    theirs = tally_votes([Vote("a", i, c) for i, c in enumerate(choices)],
                         members=range(members), quorum=0.5, threshold=threshold,
                         inclusive=inclusive)[0]
    assert (ours.yes, ours.no, ours.abstain, ours.passed, ours.outcome) == (
        theirs.yes, theirs.no, theirs.abstain, theirs.passed, theirs.outcome)


# ---- ranked ballots: Schulze for one laureate ----------------------------------------------

WIKIPEDIA_SCHULZE = [
    (5, "ACBED"), (5, "ADECB"), (8, "BEDAC"), (3, "CABED"),
    (7, "CAEBD"), (2, "CBADE"), (7, "DCEBA"), (8, "EBADC"),
]  # fmt: skip


def expand(groups):
    return [list(order) for count, order in groups for _ in range(count)]


def test_ranked_one_laureate_is_the_schulze_winner():
    ballots = [{"lit": order} for order in expand(WIKIPEDIA_SCHULZE)]
    count = count_ranked(ballots, members=45, categories={"lit": "ABCDE"}, seats={"lit": 1},
                         quorum=2 / 3)
    (category,) = count.categories
    assert (category.method, category.elected, category.tied) == ("schulze", ("E",), ())


def test_ranked_schulze_tie_left_to_the_commission():
    ballots = [{"lit": ["A", "B"]}, {"lit": ["B", "A"]}]
    (category,) = count_ranked(ballots, members=2, categories={"lit": "AB"}, seats={"lit": 1},
                               quorum=0.5).categories
    assert (category.elected, category.tied) == ((), ("A", "B"))


def test_ranked_nobody_elected_without_quorum():
    ballots = [{"lit": ["A", "B"]}]
    count = count_ranked(ballots, members=9, categories={"lit": "AB"}, seats={"lit": 1},
                         quorum=2 / 3)
    assert (count.quorum.met, count.categories[0].elected) == (False, ())


def test_ranked_all_ballots_empty_elect_nobody():
    ballots = [{"lit": []}] * 3
    (category,) = count_ranked(ballots, members=3, categories={"lit": "AB"}, seats={"lit": 1},
                               quorum=0.5).categories
    assert (category.elected, category.tied) == ((), ())


# ---- ranked ballots: STV for several laureates ---------------------------------------------

# Wikipedia, "Single transferable vote", the food example: 20 voters, 3 seats.
FOOD = [(4, "O"), (2, "PO"), (8, "CS"), (4, "CH"), (1, "S"), (1, "H")]


def test_stv_wikipedia_food_example():
    result = stv(expand(FOOD), "OPCSH", 3)
    assert (set(result.elected), result.tied, result.quota) == ({"C", "O", "S"}, (), 5.0)
    assert result.elected[0] == "C"  # chocolate reaches the quota on first preferences


def test_ranked_several_laureates_use_stv():
    ballots = [{"music": list(order)} for order in expand(FOOD)]
    (category,) = count_ranked(ballots, members=20, categories={"music": "OPCSH"},
                               seats={"music": 3}, quorum=0.5).categories
    assert (category.method, set(category.elected)) == ("stv", {"C", "O", "S"})


@pytest.mark.parametrize("ballots", [
    [["A", "B", "C"], ["B", "C", "A"], ["C", "A", "B"]],
    [["A"], ["B"], ["C"]],
])
def test_stv_unbreakable_tie_is_reported_not_drawn(ballots):
    # Two seats, three candidates with identical support in every preference.
    result = stv(ballots, "ABC", 2)
    assert len(result.elected) + len(result.tied) >= 2
    assert result.tied
    assert set(result.elected).isdisjoint(result.tied)


@pytest.mark.parametrize("ballots", [
    [["A"], ["B"], ["C"]],
    [["A", "B", "C"], ["B", "C", "A"], ["C", "A", "B"]],
])
def test_stv_fully_symmetric_tie_reports_all_three(ballots):
    # Any one of the three may be the one a draw excludes: none of them is settled.
    result = stv(ballots, "ABC", 2)
    assert (result.elected, result.tied) == ((), ("A", "B", "C"))


def test_stv_tie_only_among_those_below_the_laureates():
    # A and B lead; the draws between C, D and E only decide who is excluded first.
    result = stv([["A"], ["A"], ["B"], ["B"], ["C"], ["D"], ["E"]], "ABCDE", 2)
    assert (set(result.elected), result.tied) == ({"A", "B"}, ())


def test_stv_too_many_candidates_in_draws_are_all_tied():
    result = stv([[c] for c in "ABCDEF"], "ABCDEF", 2)
    assert (result.elected, result.tied) == ((), tuple("ABCDEF"))


def test_stv_as_many_candidates_as_seats():
    assert stv([["A"]], "AB", 2).elected == ("A", "B")


def test_stv_refuses_bad_ballots():
    with pytest.raises(ValueError, match="twice"):
        stv([["A", "A"]], "AB", 1)
    with pytest.raises(ValueError, match="unknown"):
        stv([["Z"]], "AB", 1)


class _Tie(Exception):
    pass


def reference_stv(ballots, candidates, seats):
    """A plain STV written from the rule in ``awards.judging.stv``, to check the library
    against: quota valid/(seats+1), everyone above it elected, a surplus split evenly over
    the ballots the elected candidate holds, else the lowest candidates excluded (all those who
    together have no more votes than the one above them) and their votes split evenly over
    their ballots (any tie raises)."""
    hopeful = set(candidates)
    elected: list = []
    piles: dict = {c: [] for c in candidates}

    def place(ballot, weight):
        for c in ballot:
            if c in hopeful:
                piles[c].append((ballot, weight))
                return

    valid = [b for b in ballots if b]
    for b in valid:
        place(b, 1.0)
    quota = len(valid) / (seats + 1)
    while len(elected) < seats:
        if len(hopeful) <= seats - len(elected):
            elected.extend(hopeful)
            break
        totals = {c: sum(w for _, w in piles[c]) for c in hopeful}
        reaching = [c for c in hopeful if totals[c] >= quota + 1e-6]
        if len(reaching) > seats - len(elected):
            raise _Tie  # more reach the quota than seats are left: all exactly at it
        if reaching:
            for c in reaching:
                hopeful.discard(c)
                elected.append(c)
            for c in reaching:
                held = piles.pop(c)
                share = (totals[c] - quota) / len(held) if held else 0
                for ballot, _ in held:
                    place(ballot, share)
        else:
            order = sorted(hopeful, key=lambda c: -totals[c])
            values = [totals[c] for c in order]
            if any(abs(a - b) < 1e-6 for a, b in pairwise(values)):
                raise _Tie
            # Exclude at once everyone below the seats left who together have no more votes
            # than the candidate above them: they could not overtake that candidate anyway.
            seats_left = seats - len(elected)
            cut = next(i for i in range(max(seats_left, 1), len(order))
                       if sum(values[i:]) <= values[i - 1] + 1e-6)
            for c in reversed(order[cut:]):
                hopeful.discard(c)
            for c in reversed(order[cut:]):
                held = piles.pop(c)
                for ballot, _ in held:
                    place(ballot, totals[c] / len(held))
    return set(elected[:seats])


def test_reference_stv_food_example():
    assert reference_stv(expand(FOOD), "OPCSH", 3) == {"C", "O", "S"}


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.permutations("ABCDE").flatmap(
        lambda order: st.integers(1, 5).map(lambda cut: list(order[:cut]))),
        min_size=3, max_size=15),
    st.integers(2, 3),
)
def test_stv_agrees_with_the_reference(ballots, seats):
    try:
        expected = reference_stv(ballots, "ABCDE", seats)
    except _Tie:
        assume(False)
    result = stv(ballots, "ABCDE", seats)
    assume(result.decided)
    assert set(result.elected) == expected
