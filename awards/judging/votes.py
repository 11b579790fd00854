"""The commission's final round: yes/no/abstain per entry, or ranked ballots per category.

Yes/no votes (``tally_votes``)
    * **Quorum**: ``voted / members >= quorum``, where ``voted`` counts yes, no *and* abstain —
      a member who abstains took part. "At least", because a quorum of one half is met by
      exactly half the commission.
    * **Threshold**: the entry passes when ``yes / (yes + no) > threshold`` — **strictly
      greater** by default, so a 2:2 tie under a simple majority (0.5) does not pass: a motion
      without a majority fails. For "at least two thirds" rules pass ``inclusive=True``
      (``>=``). The comparison is exact (fractions), so 2 of 3 against 2/3 behaves as written.
    * All abstentions (yes + no = 0) never pass; neither does anything without a quorum.
    * Secrecy: the result carries totals only. Individual ballots go in, never come out.

Ranked ballots (``schulze``)
    Schulze method (Wikipedia, "Schulze method"; Schulze 2011), chosen over instant-runoff
    because it yields a complete ranking of all candidates rather than only a winner, and is
    Condorcet-consistent.

    1. Pairwise preferences ``d[a][b]`` = ballots ranking a above b. A ballot lists candidates
       best first; candidates it leaves out rank below all listed ones, tied with each other
       (an empty ballot is counted in ``ballots`` but expresses no preference).
    2. Strongest paths ``p[a][b]`` by widest-path (Floyd–Warshall) with the *winning votes*
       link strength: ``d[a][b]`` where ``d[a][b] > d[b][a]``, else 0.
    3. a beats b when ``p[a][b] > p[b][a]``. This relation is transitive (Schulze's theorem)
       but need not rank every pair: with ``p[a][b] == p[b][a]`` neither beats the other.
    4. The ordering peels off winner sets: first every candidate no one beats (Schulze's
       winners), then every candidate no one *left* beats, and so on. So candidates in the same
       group never beat each other and are reported as **tied** (same rank, competition style:
       1, 1, 3); nobody in a later group beats anybody in an earlier one, and each candidate in
       a later group is beaten by someone in an earlier group. Ties are left to the commission.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from awards.enums import VoteChoice

from ._common import Id, id_key


class VoteOutcome(StrEnum):
    PASSED = "passed"
    QUORUM_NOT_MET = "quorum_not_met"
    NO_DECISIVE_VOTES = "no_decisive_votes"  # everyone who voted abstained
    THRESHOLD_NOT_REACHED = "threshold_not_reached"


@dataclass(frozen=True)
class Vote:
    entry_id: Id
    voter_id: Id
    choice: VoteChoice


@dataclass(frozen=True)
class VoteTally:
    entry_id: Id
    yes: int
    no: int
    abstain: int
    members: int
    voted: int
    quorum_met: bool
    yes_share: float | None  # yes / (yes + no); None when nobody voted yes or no
    passed: bool
    outcome: VoteOutcome


def _fraction(value: float, name: str) -> Fraction:
    if not 0 <= value <= 1:
        raise ValueError(f"{name} must be between 0 and 1")
    # limit_denominator turns the float 0.6666666666666666 back into exactly 2/3.
    return Fraction(value).limit_denominator(10**6)


def tally_votes(
    votes: Iterable[Vote],
    *,
    members: Collection[Id],
    quorum: float,
    threshold: float = 0.5,
    inclusive: bool = False,
    entries: Iterable[Id] | None = None,
) -> tuple[VoteTally, ...]:
    """Totals, quorum and outcome per entry (ordered by entry id); see the module docstring.

    ``members`` are the commission's voting members; a vote from anyone else, or a second vote
    by the same member on the same entry, is refused (``ValueError``). ``entries`` lists
    entries to report even if nobody voted on them."""
    member_set = set(members)
    if not member_set:
        raise ValueError("a commission needs members")
    quorum_f = _fraction(quorum, "quorum")
    threshold_f = _fraction(threshold, "threshold")
    counts: dict[Id, dict[VoteChoice, int]] = {e: {} for e in entries or ()}
    seen: set[tuple[Id, Id]] = set()
    for vote in votes:
        if vote.voter_id not in member_set:
            raise ValueError("a vote from someone who is not a member of the commission")
        if (vote.entry_id, vote.voter_id) in seen:
            raise ValueError("two votes by the same member on the same entry")
        seen.add((vote.entry_id, vote.voter_id))
        per = counts.setdefault(vote.entry_id, {})
        choice = VoteChoice(vote.choice)
        per[choice] = per.get(choice, 0) + 1

    size = len(member_set)
    tallies = []
    for entry_id in sorted(counts, key=id_key):
        per = counts[entry_id]
        yes = per.get(VoteChoice.YES, 0)
        no = per.get(VoteChoice.NO, 0)
        abstain = per.get(VoteChoice.ABSTAIN, 0)
        voted = yes + no + abstain
        quorum_met = Fraction(voted, size) >= quorum_f
        decisive = yes + no
        share = Fraction(yes, decisive) if decisive else None
        if not quorum_met:
            outcome = VoteOutcome.QUORUM_NOT_MET
        elif share is None:
            outcome = VoteOutcome.NO_DECISIVE_VOTES
        elif share > threshold_f or (inclusive and share == threshold_f):
            outcome = VoteOutcome.PASSED
        else:
            outcome = VoteOutcome.THRESHOLD_NOT_REACHED
        tallies.append(
            VoteTally(
                entry_id=entry_id,
                yes=yes,
                no=no,
                abstain=abstain,
                members=size,
                voted=voted,
                quorum_met=quorum_met,
                yes_share=float(share) if share is not None else None,
                passed=outcome is VoteOutcome.PASSED,
                outcome=outcome,
            )
        )
    return tuple(tallies)


@dataclass(frozen=True)
class SchulzeResult:
    candidates: tuple[Id, ...]  # ordered by id; the order of the matrices' rows and columns
    ballots: int
    pairwise: tuple[tuple[int, ...], ...]  # d[a][b]: ballots preferring a to b
    strongest: tuple[tuple[int, ...], ...]  # p[a][b]: strength of the strongest path a -> b
    order: tuple[tuple[Id, ...], ...]  # best first; a group of several candidates is a tie
    ranks: dict[Id, int]  # competition ranks

    @property
    def winners(self) -> tuple[Id, ...]:
        return self.order[0] if self.order else ()

    def preference(self, a: Id, b: Id) -> int:
        """Number of ballots ranking a above b."""
        index = {c: i for i, c in enumerate(self.candidates)}
        return self.pairwise[index[a]][index[b]]


def schulze(ballots: Iterable[Sequence[Id]], candidates: Iterable[Id]) -> SchulzeResult:
    """Count ranked ballots by the Schulze method; see the module docstring."""
    names = tuple(sorted(set(candidates), key=id_key))
    index = {c: i for i, c in enumerate(names)}
    size = len(names)
    d = [[0] * size for _ in range(size)]
    count = 0
    for ballot in ballots:
        if len(set(ballot)) != len(ballot):
            raise ValueError("a ballot lists a candidate twice")
        unknown = [c for c in ballot if c not in index]
        if unknown:
            raise ValueError(f"a ballot names unknown candidates: {unknown!r}")
        count += 1
        listed = [index[c] for c in ballot]
        listed_set = set(listed)
        unlisted = [i for i in range(size) if i not in listed_set]
        for position, a in enumerate(listed):
            for b in listed[position + 1 :]:
                d[a][b] += 1
            for b in unlisted:
                d[a][b] += 1

    p = [[d[a][b] if a != b and d[a][b] > d[b][a] else 0 for b in range(size)] for a in range(size)]
    for via in range(size):
        for a in range(size):
            if a == via:
                continue
            through = p[a][via]
            if not through:
                continue
            row = p[a]
            from_via = p[via]
            for b in range(size):
                if b != a and b != via:
                    width = min(through, from_via[b])
                    if width > row[b]:
                        row[b] = width

    # Peel off the unbeaten candidates round by round (Schulze's winner set, applied again to
    # those left). Never empty: "beats" is a strict partial order, so it has no cycles.
    remaining = list(range(size))
    order_groups: list[tuple[Id, ...]] = []
    while remaining:
        unbeaten = [
            a for a in remaining if not any(p[b][a] > p[a][b] for b in remaining if b != a)
        ]
        order_groups.append(tuple(names[a] for a in unbeaten))
        taken = set(unbeaten)
        remaining = [a for a in remaining if a not in taken]
    order = tuple(order_groups)
    ranks: dict[Id, int] = {}
    position = 1
    for group in order:
        for c in group:
            ranks[c] = position
        position += len(group)
    return SchulzeResult(
        candidates=names,
        ballots=count,
        pairwise=tuple(tuple(row) for row in d),
        strongest=tuple(tuple(row) for row in p),
        order=order,
        ranks=ranks,
    )
