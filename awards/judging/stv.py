"""Single transferable vote for a category with several laureates.

The count is pyrankvote's ``single_transferable_vote`` (a maintained implementation on PyPI):

* Quota: ``valid ballots / (seats + 1)`` (Droop's, unrounded); a candidate whose votes
  exceed it is elected, so no more candidates than seats can be elected at once.
* A surplus (votes above the quota) passes on, split evenly over the ballots the elected
  candidate holds, to each ballot's next preference still in the race; when nobody reaches
  the quota, the candidate with the fewest votes is excluded and their votes pass on the same
  way, split evenly over the ballots they hold (pyrankvote does not keep a separate weight
  per ballot: a ballot that came with a fraction of a surplus carries the same share on as
  one that came whole; on the commission's few ballots this rarely matters, and it is the
  rule the tests check against an independent count).
  Candidates who cannot catch up even with every remaining vote are excluded together.
* Once as many candidates remain as seats, they are all elected.
* Equal votes are separated by who has more second preferences, then third, and so on.

Where even that leaves two candidates equal, pyrankvote draws lots. A commission never decides
by lot, so every such draw is settled by an order of priority among the candidates, and the
count is run once for every order of the candidates that met in a draw (a count without a
draw runs once; a candidate who meets a draw only under some order joins the orders tried).
When all of them give the same laureates the outcome stands; otherwise the candidates they
disagree on are reported as **tied** for the remaining seats and the commission decides
between them (``STVResult.tied``). Three ballots "A", "B", "C" for two seats are thus a tie of
all three: any one of them may be the one a draw excludes. Should more than
``MAX_DRAWN`` candidates meet in draws, they are all reported tied.

Ballots list candidates best first; a candidate left out is not preferred at all. An empty
ballot is counted in ``ballots`` but carries no vote."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import pyrankvote
from pyrankvote import helpers as _pyrankvote_helpers

from ._common import Id, id_key


@dataclass(frozen=True)
class STVRound:
    """Votes held by each candidate at the end of one round of the count, and who was elected
    or excluded in it (in the order pyrankvote lists them: elected first, best first)."""

    votes: tuple[tuple[Id, float], ...]
    elected: tuple[Id, ...]
    excluded: tuple[Id, ...]


@dataclass(frozen=True)
class STVResult:
    candidates: tuple[Id, ...]
    seats: int
    ballots: int
    quota: float
    elected: tuple[Id, ...]  # the laureates the count settles, in order of election
    tied: tuple[Id, ...]  # candidates only a draw would separate for the seats left
    rounds: tuple[STVRound, ...]

    @property
    def decided(self) -> bool:
        return not self.tied


MAX_DRAWN = 5  # 120 orders of priority at most, most of them skipped


class _Draws:
    """Stands in for ``random`` inside pyrankvote: a draw between two candidates equal in
    every preference goes to the one earlier in ``priority``; the candidates met in draws are
    kept in ``drawn``."""

    def __init__(self, priority: Sequence[Id]):
        self.rank = {name: i for i, name in enumerate(priority)}
        self.pair: tuple[Id, Id] | None = None
        self.drawn: set[Id] = set()
        self.settled: set[tuple[Id, Id]] = set()  # (winner, loser) of each draw

    def choice(self, options):
        options = list(options)
        if self.pair is None or options != [True, False]:
            return options[0]
        first, second = self.pair
        self.drawn.update(self.pair)
        won = self.rank[first] < self.rank[second]
        self.settled.add((first, second) if won else (second, first))
        return won

    def covers(self, rank: dict[Id, int]) -> bool:
        """Whether an order would settle every draw of this count the same way, and so give
        the same count."""
        return all(rank[winner] < rank[loser] for winner, loser in self.settled)


@contextlib.contextmanager
def _draws_settled(draws: _Draws, by_label) -> Iterator[None]:
    manager = _pyrankvote_helpers.ElectionManager
    original = manager._candidate1_has_most_second_choices

    def compare(self, candidate1_vc, candidate2_vc, x):
        draws.pair = (by_label[candidate1_vc.candidate.name],
                      by_label[candidate2_vc.candidate.name])
        return original(self, candidate1_vc, candidate2_vc, x)

    saved = _pyrankvote_helpers.random
    _pyrankvote_helpers.random = draws
    manager._candidate1_has_most_second_choices = compare
    try:
        yield
    finally:
        _pyrankvote_helpers.random = saved
        manager._candidate1_has_most_second_choices = original


def _count(names, ballots, seats, draws: _Draws):
    candidates = {n: pyrankvote.Candidate(str(i)) for i, n in enumerate(names)}
    by_label = {c.name: n for n, c in candidates.items()}
    prepared = [pyrankvote.Ballot(ranked_candidates=[candidates[c] for c in b]) for b in ballots]
    with _draws_settled(draws, by_label):
        result = pyrankvote.single_transferable_vote(
            list(candidates.values()), prepared, number_of_seats=seats)
    rounds = []
    for round_ in result.rounds:
        votes, elected, excluded = [], [], []
        for item in round_.candidate_results:
            name = by_label[item.candidate.name]
            votes.append((name, round(item.number_of_votes, 6)))
            if item.status == "Elected":
                elected.append(name)
            elif item.status == "Rejected":
                excluded.append(name)
        rounds.append(STVRound(tuple(votes), tuple(elected), tuple(excluded)))
    winners = tuple(by_label[c.name] for c in result.get_winners())
    return winners, tuple(rounds)


def stv(ballots: Iterable[Sequence[Id]], candidates: Iterable[Id], seats: int) -> STVResult:
    """Count ranked ballots for ``seats`` laureates; see the module docstring."""
    names = tuple(sorted(set(candidates), key=id_key))
    if seats < 1:
        raise ValueError("at least one seat")
    checked: list[tuple[Id, ...]] = []
    for ballot in ballots:
        if len(set(ballot)) != len(ballot):
            raise ValueError("a ballot lists a candidate twice")
        unknown = [c for c in ballot if c not in names]
        if unknown:
            raise ValueError(f"a ballot names unknown candidates: {unknown!r}")
        checked.append(tuple(ballot))
    valid = sum(1 for b in checked if b)
    quota = valid / (seats + 1)
    if seats >= len(names) or not valid:
        # Nothing to count: every candidate has a seat, or no ballot expresses a preference
        # (then nobody is elected: the seats stay for the commission to fill).
        elected = names if seats >= len(names) else ()
        return STVResult(names, seats, len(checked), quota, elected,
                         () if elected or not names else names, ())
    draws = _Draws(names)
    first, rounds = _count(names, checked, seats, draws)
    outcomes = [set(first)]
    drawn = set(draws.drawn)
    counted = [draws]
    while True:
        if len(drawn) > MAX_DRAWN:  # too many orders to try: none of them is settled
            return STVResult(names, seats, len(checked), quota, (),
                             tuple(sorted(drawn, key=id_key)), rounds)
        met = set(drawn)
        for order in itertools.permutations(sorted(drawn, key=id_key)):
            priority = [*order, *(c for c in names if c not in drawn)]
            rank = {name: i for i, name in enumerate(priority)}
            if any(done.covers(rank) for done in counted):
                continue  # the same draws would fall the same way: the same count
            draws = _Draws(priority)
            outcomes.append(set(_count(names, checked, seats, draws)[0]))
            counted.append(draws)
            met |= draws.drawn
        if met == drawn:
            break
        drawn = met  # a draw met only under another order: try the orders of all of them
    everywhere = set.intersection(*outcomes)
    if all(o == everywhere for o in outcomes):
        return STVResult(names, seats, len(checked), quota, first, (), rounds)
    settled = tuple(c for c in first if c in everywhere)
    tied = tuple(sorted(set.union(*outcomes) - everywhere, key=id_key))
    return STVResult(names, seats, len(checked), quota, settled, tied, rounds)
