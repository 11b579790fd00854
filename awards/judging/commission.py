"""Counting the commission's secret ballot from its anonymous ballots.

A ballot carries no voter: one ballot is one member's whole vote in the round. This module
counts a list of such ballots, so anyone holding the published ballot list gets the same
result as the server (``flask awards commission tally``).

Quorum
    ``ballots / members`` against the round's quorum, "at least" (``quorum_inclusive``, the
    default: two thirds of 9 is met by 6) or "more than". Without a quorum nothing passes and
    nobody is elected, whatever the ballots say.

Yes / no / abstain per entry (``count_approval``)
    Per entry, the share of yes votes against the round's threshold, over the votes cast
    (``ThresholdBase.CAST``: yes / (yes + no), abstentions only show who took part) or over
    the members who voted on the entry (``ThresholdBase.VOTING``: yes / (yes + no + abstain),
    so an abstention weighs like a no). Strictly above the threshold by default, or "at least"
    (``inclusive``). A member in conflict with an entry has no choice on it in their ballot.
    Entries whose every vote is an abstention never pass (``NO_DECISIVE_VOTES``).

Ranked ballots per category (``count_ranked``)
    One laureate: the Schulze method (``awards.judging.votes.schulze``); candidates tied for
    first place are reported tied. Several laureates: single transferable vote
    (``awards.judging.stv``). A member in conflict with an entry of a category does not rank
    that category at all (leaving one entry out would rank it below all the others)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from awards.enums import VoteChoice

from ._common import Id, id_key
from .stv import STVResult, stv
from .votes import SchulzeResult, VoteOutcome, _fraction, schulze


class ThresholdBase(StrEnum):
    CAST = "cast"  # yes / (yes + no)
    VOTING = "voting"  # yes / (yes + no + abstain)


@dataclass(frozen=True)
class Quorum:
    members: int
    ballots: int
    required: float
    inclusive: bool
    met: bool
    needed: int = 0  # the fewest ballots that meet it (``quorum_needed``)


@dataclass(frozen=True)
class EntryCount:
    entry_id: Id
    yes: int
    no: int
    abstain: int
    share: float | None  # yes over the threshold's base; None when the base is empty
    passed: bool
    outcome: VoteOutcome


@dataclass(frozen=True)
class ApprovalCount:
    quorum: Quorum
    entries: tuple[EntryCount, ...]

    @property
    def passed(self) -> tuple[Id, ...]:
        return tuple(e.entry_id for e in self.entries if e.passed)


@dataclass(frozen=True)
class CategoryCount:
    category_id: Id
    seats: int
    ballots: int  # ballots that rank this category (members in conflict leave it out)
    method: str  # "schulze" or "stv"
    elected: tuple[Id, ...]
    tied: tuple[Id, ...]  # only the commission can separate these for the seats left
    schulze: SchulzeResult | None
    stv: STVResult | None


@dataclass(frozen=True)
class RankedCount:
    quorum: Quorum
    categories: tuple[CategoryCount, ...]


def quorum_share(quorum: float) -> Fraction:
    """The quorum as the exact fraction it was typed as (0.666… is 2/3)."""
    return _fraction(quorum, "quorum")


def quorum_needed(*, members: int, quorum: float, inclusive: bool = True) -> int:
    """The fewest ballots of ``members`` that meet the quorum: two thirds of 9, "at least",
    is 6; "more than" two thirds of 9 is 7. More than ``members`` when none can."""
    exact = quorum_share(quorum) * members
    if inclusive:
        return exact.numerator // exact.denominator + (exact.denominator != 1)
    return exact.numerator // exact.denominator + 1


def check_quorum(*, members: int, ballots: int, quorum: float,
                 inclusive: bool = True) -> Quorum:
    if members < 1:
        raise ValueError("a commission needs members")
    if ballots > members:
        raise ValueError("more ballots than members")
    required = quorum_share(quorum)
    share = Fraction(ballots, members)
    met = share >= required if inclusive else share > required
    needed = quorum_needed(members=members, quorum=quorum, inclusive=inclusive)
    return Quorum(members, ballots, float(required), inclusive, met, needed)


def count_approval(
    ballots: Iterable[Mapping[Id, VoteChoice | str]],
    *,
    members: int,
    entries: Iterable[Id],
    quorum: float,
    threshold: float = 0.5,
    quorum_inclusive: bool = True,
    inclusive: bool = False,
    base: ThresholdBase = ThresholdBase.CAST,
) -> ApprovalCount:
    """Totals and outcome per entry (ordered by entry id); see the module docstring."""
    entry_ids = sorted(set(entries), key=id_key)
    known = set(entry_ids)
    counts = {e: {VoteChoice.YES: 0, VoteChoice.NO: 0, VoteChoice.ABSTAIN: 0} for e in entry_ids}
    n = 0
    for ballot in ballots:
        n += 1
        for entry_id, choice in ballot.items():
            if entry_id not in known:
                raise ValueError(f"a ballot names an unknown entry: {entry_id!r}")
            counts[entry_id][VoteChoice(choice)] += 1
    q = check_quorum(members=members, ballots=n, quorum=quorum, inclusive=quorum_inclusive)
    needed = _fraction(threshold, "threshold")
    result = []
    for entry_id in entry_ids:
        c = counts[entry_id]
        yes, no, abstain = c[VoteChoice.YES], c[VoteChoice.NO], c[VoteChoice.ABSTAIN]
        denominator = yes + no if base == ThresholdBase.CAST else yes + no + abstain
        share = Fraction(yes, denominator) if denominator else None
        if not q.met:
            outcome = VoteOutcome.QUORUM_NOT_MET
        elif share is None or yes + no == 0:
            outcome = VoteOutcome.NO_DECISIVE_VOTES
        elif share > needed or (inclusive and share == needed):
            outcome = VoteOutcome.PASSED
        else:
            outcome = VoteOutcome.THRESHOLD_NOT_REACHED
        result.append(EntryCount(entry_id, yes, no, abstain,
                                 float(share) if share is not None else None,
                                 outcome is VoteOutcome.PASSED, outcome))
    return ApprovalCount(q, tuple(result))


def count_ranked(
    ballots: Iterable[Mapping[Id, Sequence[Id]]],
    *,
    members: int,
    categories: Mapping[Id, Iterable[Id]],
    seats: Mapping[Id, int],
    quorum: float,
    quorum_inclusive: bool = True,
) -> RankedCount:
    """Per category, the laureates by Schulze (one seat) or STV (several); see the module
    docstring. ``categories`` maps each category to its entries, ``seats`` to its number of
    laureates; a ballot maps categories to the entries ranked, best first."""
    per_category: dict[Id, list[Sequence[Id]]] = {c: [] for c in categories}
    n = 0
    for ballot in ballots:
        n += 1
        for category_id, order in ballot.items():
            if category_id not in per_category:
                raise ValueError(f"a ballot names an unknown category: {category_id!r}")
            per_category[category_id].append(list(order))
    q = check_quorum(members=members, ballots=n, quorum=quorum, inclusive=quorum_inclusive)
    result = []
    for category_id in sorted(categories, key=id_key):
        candidates = list(categories[category_id])
        ranked = per_category[category_id]
        count = seats.get(category_id, 1)
        if count <= 1:
            s = schulze(ranked, candidates)
            winners = s.winners if q.met and any(ranked) else ()
            elected, tied = (winners, ()) if len(winners) <= 1 else ((), winners)
            result.append(CategoryCount(category_id, 1, len(ranked), "schulze", elected, tied,
                                        s, None))
        else:
            t = stv(ranked, candidates, count)
            elected, tied = (t.elected, t.tied) if q.met else ((), ())
            result.append(CategoryCount(category_id, count, len(ranked), "stv", elected, tied,
                                        None, t))
    return RankedCount(q, tuple(result))
