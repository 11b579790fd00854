"""How many ballots meet the commission's quorum, exactly (no rounding of the share)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from awards.judging.commission import check_quorum, quorum_needed


@pytest.mark.parametrize(("members", "quorum", "inclusive", "needed"), [
    (9, 2 / 3, True, 6),     # two thirds of 9, at least: 6
    (9, 2 / 3, False, 7),    # more than two thirds of 9: 7
    (10, 2 / 3, True, 7),    # 6.67 rounds up
    (10, 0.5, True, 5),
    (10, 0.5, False, 6),     # more than half of 10
    (9, 0.5, False, 5),
    (7, 1.0, True, 7),
    (7, 1.0, False, 8),      # more than all: never met
    (10, 0.555, True, 6),
])
def test_needed_ballots(members, quorum, inclusive, needed):
    assert quorum_needed(members=members, quorum=quorum, inclusive=inclusive) == needed


@given(members=st.integers(1, 60), ballots=st.integers(0, 60),
       share=st.fractions(min_value=0, max_value=1, max_denominator=20),
       inclusive=st.booleans())
def test_needed_agrees_with_the_quorum_check(members, ballots, share, inclusive):
    ballots = min(ballots, members)
    q = check_quorum(members=members, ballots=ballots, quorum=float(share),
                     inclusive=inclusive)
    assert q.met is (ballots >= q.needed)
