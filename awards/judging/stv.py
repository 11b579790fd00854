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
by lot, so the count is run four times: with the candidates in one order and in the reverse
order, each time with every such draw settled for the first one named and for the last. When
all four give the same laureates the outcome stands; otherwise the candidates they disagree on
are reported as **tied** for the remaining seats and the commission decides between them
(``STVResult.tied``).

Ballots list candidates best first; a candidate left out is not preferred at all. An empty
ballot is counted in ``ballots`` but carries no vote."""

from __future__ import annotations

import contextlib
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


class _Pick:
    """Stands in for ``random`` inside pyrankvote: always the first (or the last) choice."""

    def __init__(self, last: bool):
        self.last = last

    def choice(self, options):
        options = list(options)
        return options[-1] if self.last else options[0]


@contextlib.contextmanager
def _draws_settled(last: bool) -> Iterator[None]:
    saved = _pyrankvote_helpers.random
    _pyrankvote_helpers.random = _Pick(last)
    try:
        yield
    finally:
        _pyrankvote_helpers.random = saved


def _count(names, ballots, seats, *, reverse: bool, last: bool):
    candidates = {n: pyrankvote.Candidate(str(i)) for i, n in enumerate(names)}
    if reverse:
        candidates = dict(reversed(candidates.items()))
    by_label = {c.name: n for n, c in candidates.items()}
    prepared = [pyrankvote.Ballot(ranked_candidates=[candidates[c] for c in b]) for b in ballots]
    with _draws_settled(last):
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
    first, rounds = _count(names, checked, seats, reverse=False, last=False)
    outcomes = [set(first)] + [
        set(_count(names, checked, seats, reverse=reverse, last=last)[0])
        for reverse, last in ((False, True), (True, False), (True, True))]
    everywhere = set.intersection(*outcomes)
    if all(o == everywhere for o in outcomes):
        return STVResult(names, seats, len(checked), quota, first, (), rounds)
    settled = tuple(c for c in first if c in everywhere)
    tied = tuple(sorted(set.union(*outcomes) - everywhere, key=id_key))
    return STVResult(names, seats, len(checked), quota, settled, tied, rounds)
