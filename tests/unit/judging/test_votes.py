"""The commission's votes: yes/no/abstain with quorum and threshold, and Schulze ballots."""

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from awards.enums import VoteChoice
from awards.judging import Vote, VoteOutcome, VoteTally, schulze, tally_votes

YES, NO, ABSTAIN = VoteChoice.YES, VoteChoice.NO, VoteChoice.ABSTAIN
MEMBERS = ["m1", "m2", "m3", "m4", "m5", "m6"]


def votes_on(entry, choices):
    return [Vote(entry, voter, choice) for voter, choice in zip(MEMBERS, choices, strict=False)]


def tally(choices, **kwargs):
    kwargs.setdefault("quorum", 0.5)
    (result,) = tally_votes(votes_on("a", choices), members=MEMBERS, **kwargs)
    return result


def test_tally_votes_simple_majority_passes():
    # 3 yes, 1 no, 1 abstain of 6 members: turnout 5/6 >= 1/2; share 3/4 > 1/2
    result = tally([YES, YES, YES, NO, ABSTAIN])
    assert (result.yes, result.no, result.abstain, result.voted, result.members) == (3, 1, 1, 5, 6)
    assert result.quorum_met
    assert result.yes_share == 0.75
    assert result.passed
    assert result.outcome is VoteOutcome.PASSED


def test_tally_votes_tie_fails_under_strict_threshold():
    result = tally([YES, YES, NO, NO])
    assert result.yes_share == 0.5
    assert not result.passed
    assert result.outcome is VoteOutcome.THRESHOLD_NOT_REACHED


def test_tally_votes_inclusive_threshold_two_thirds():
    # 2 of 3 against 2/3: exactly on the threshold
    assert not tally([YES, YES, NO], threshold=2 / 3).passed
    assert tally([YES, YES, NO], threshold=2 / 3, inclusive=True).passed


def test_tally_votes_abstentions_count_for_quorum_only():
    # 1 yes + 2 abstain = 3 of 6 voted: quorum 1/2 met; share 1/1
    result = tally([YES, ABSTAIN, ABSTAIN])
    assert result.quorum_met and result.passed
    assert result.yes_share == 1.0


def test_tally_votes_quorum_not_met():
    result = tally([YES, YES], quorum=0.5)  # 2 of 6 < 1/2
    assert not result.quorum_met
    assert not result.passed
    assert result.outcome is VoteOutcome.QUORUM_NOT_MET


def test_tally_votes_quorum_met_exactly():
    assert tally([YES, YES, YES], quorum=0.5).quorum_met  # 3 of 6 = 1/2


def test_tally_votes_only_abstentions_never_pass():
    result = tally([ABSTAIN] * 6, threshold=0)
    assert result.yes_share is None
    assert result.outcome is VoteOutcome.NO_DECISIVE_VOTES
    assert not result.passed


def test_tally_votes_listed_entry_without_votes():
    (result,) = tally_votes([], members=MEMBERS, quorum=0.5, entries=["a"])
    assert (result.voted, result.quorum_met, result.passed) == (0, False, False)


def test_tally_votes_results_are_secret():
    # The result carries counts only: no field can hold a voter or a single ballot.
    fields = {f.name for f in dataclasses.fields(VoteTally)}
    assert fields == {
        "entry_id", "yes", "no", "abstain", "members", "voted", "quorum_met", "yes_share",
        "passed", "outcome",
    }  # fmt: skip
    result = tally([YES, NO, ABSTAIN])
    assert not any(str(v) in repr(result) for v in MEMBERS)


def test_tally_votes_several_entries_ordered_by_id():
    votes = votes_on("b", [YES] * 4) + votes_on("a", [NO] * 4)
    assert [(t.entry_id, t.passed) for t in tally_votes(votes, members=MEMBERS, quorum=0.5)] == [
        ("a", False), ("b", True),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("votes", "message"),
    [
        ([Vote("a", "stranger", YES)], "not a member"),
        ([Vote("a", "m1", YES), Vote("a", "m1", NO)], "two votes"),
    ],
)
def test_tally_votes_invalid_votes_raise(votes, message):
    with pytest.raises(ValueError, match=message):
        tally_votes(votes, members=MEMBERS, quorum=0.5)


@pytest.mark.parametrize("kwargs", [{"quorum": 1.5}, {"quorum": 0.5, "threshold": -0.1}])
def test_tally_votes_invalid_fractions_raise(kwargs):
    with pytest.raises(ValueError):
        tally_votes([], members=MEMBERS, **kwargs)


# --- Schulze ------------------------------------------------------------------------------------

WIKIPEDIA = [
    (5, "ACBED"), (5, "ADECB"), (8, "BEDAC"), (3, "CABED"),
    (7, "CAEBD"), (2, "CBADE"), (7, "DCEBA"), (8, "EBADC"),
]  # fmt: skip


def expand(groups):
    return [list(order) for count, order in groups for _ in range(count)]


def test_schulze_wikipedia_example():
    # Wikipedia, "Schulze method", the 45-voter example: E > A > C > B > D.
    result = schulze(expand(WIKIPEDIA), "ABCDE")
    assert result.ballots == 45
    assert result.order == (("E",), ("A",), ("C",), ("B",), ("D",))
    assert result.ranks == {"E": 1, "A": 2, "C": 3, "B": 4, "D": 5}
    assert result.winners == ("E",)
    # d[a][b], rows and columns A..E (the article's table of pairwise preferences)
    assert result.pairwise == (
        (0, 20, 26, 30, 22),
        (25, 0, 16, 33, 18),
        (19, 29, 0, 17, 24),
        (15, 12, 28, 0, 14),
        (23, 27, 21, 31, 0),
    )
    # p[a][b], the strongest paths (the article's second table)
    assert result.strongest == (
        (0, 28, 28, 30, 24),
        (25, 0, 28, 33, 24),
        (25, 29, 0, 29, 24),
        (25, 28, 28, 0, 24),
        (25, 28, 28, 31, 0),
    )
    assert result.preference("E", "D") == 31


def test_schulze_tie_is_reported():
    # Two voters with opposite orders: A and B tie; C is last for both.
    result = schulze([["A", "B", "C"], ["B", "A", "C"]], "ABC")
    assert result.order == (("A", "B"), ("C",))
    assert result.ranks == {"A": 1, "B": 1, "C": 3}


def test_schulze_unlisted_candidates_rank_last():
    # One ballot lists only B: B beats A and C, who tie below it.
    result = schulze([["B"]], "ABC")
    assert result.order == (("B",), ("A", "C"))
    assert result.preference("B", "A") == 1
    assert result.preference("A", "C") == 0


def test_schulze_incomparable_candidates_peel_into_winner_sets():
    # [A, B] and [C]: A beats B 1:0; C ties A and B 1:1; A, B, C all beat D and E.
    # Nobody beats A or C -> they tie first; then B; then D and E tie.
    result = schulze([[], ["A", "B"], ["C"]], "ABCDE")
    assert result.order == (("A", "C"), ("B",), ("D", "E"))
    assert result.ranks == {"A": 1, "C": 1, "B": 3, "D": 4, "E": 4}
    assert result.ballots == 3


def test_schulze_condorcet_cycle():
    # Rock-paper-scissors: A>B>C (4), B>C>A (3), C>A>B (2).
    # d: A>B 6, B>C 7, C>A 5. Strongest: A->C via B min(6,7)=6 > C->A 5; B->A via C min(7,5)=5
    # < A->B 6; so A > B > C.
    ballots = [["A", "B", "C"]] * 4 + [["B", "C", "A"]] * 3 + [["C", "A", "B"]] * 2
    assert schulze(ballots, "ABC").order == (("A",), ("B",), ("C",))


@pytest.mark.parametrize(
    ("ballot", "message"), [(["A", "A"], "twice"), (["A", "Z"], "unknown")]
)
def test_schulze_invalid_ballot_raises(ballot, message):
    with pytest.raises(ValueError, match=message):
        schulze([ballot], "ABC")


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.permutations("ABCDE").flatmap(
            lambda order: st.integers(0, 5).map(lambda cut: list(order[:cut]))
        ),
        max_size=12,
    )
)
def test_schulze_order_is_consistent_with_strongest_paths(ballots):
    result = schulze(ballots, "ABCDE")
    index = {c: i for i, c in enumerate(result.candidates)}
    p = result.strongest
    flat = [c for group in result.order for c in group]
    assert sorted(flat) == list("ABCDE")

    def beats(a, b):
        return p[index[a]][index[b]] > p[index[b]][index[a]]

    for b in flat:
        above = [a for a in flat if result.ranks[a] < result.ranks[b]]
        level = [a for a in flat if a != b and result.ranks[a] == result.ranks[b]]
        assert not any(beats(b, a) for a in above)  # nobody beats anyone ranked above
        assert not any(beats(a, b) for a in level)  # a tie is a real tie
        if above:
            assert any(beats(a, b) for a in above)  # a lower place is earned
        else:
            assert not any(beats(a, b) for a in flat)  # the top group is unbeaten
    # pairwise totals: d[a][b] + d[b][a] never exceeds the number of ballots
    d = result.pairwise
    assert all(d[i][j] + d[j][i] <= len(ballots) for i in range(5) for j in range(5))
