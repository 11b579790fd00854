"""The one rule of what a confirmed voter may do for an entry of an open vote."""

from types import SimpleNamespace

from awards.public_stage.voting import vote_option

MOVABLE, FIXED = SimpleNamespace(votes_changeable=True), SimpleNamespace(votes_changeable=False)


def test_no_vote_yet_offers_a_vote_wherever():
    assert vote_option(MOVABLE, None, 7) == vote_option(FIXED, None, 7) == "vote"


def test_the_chosen_entry_offers_nothing():
    assert vote_option(MOVABLE, 7, 7) is None
    assert vote_option(FIXED, 7, 7) is None


def test_another_entry_offers_a_move_only_when_votes_may_change():
    assert vote_option(MOVABLE, 7, 8) == "move"
    assert vote_option(FIXED, 7, 8) is None
    assert vote_option(MOVABLE, 7, None) == "move"  # any entry but the choice
