"""Who goes on from a public vote: the top N entries of a category, with ties at the cut shown
and resolved by the call's rule.

The order, which is also the one sort key ``_order_key`` builds:

1. **Votes**, most first. Annulled votes are not counted by the caller.
2. **Earlier submission** first (``submitted_at``; a missing time sorts last). This only
   orders the list for display; it decides between tied entries only under the rule
   ``earlier_submission``.
3. **Key**, ascending, so the list is stable from one computation to the next. The key never
   decides who advances.

The cut: with ``n`` seats, let ``v`` be the votes of the n-th entry in that order. Entries with
more than ``v`` votes advance. If the entries with exactly ``v`` votes fit into the seats left,
they all advance and nobody is tied at the cut. Otherwise they are all *tied at the cut* and
the rule decides:

``include_all``
    every tied entry advances (the list grows past ``n``);
``earlier_submission``
    the tied entries submitted first take the seats left (then by key, so a result is always
    reached);
``admin_choice``
    the administrator's choice among the tied entries, exactly as many as seats are left;
    without a choice, nobody tied advances yet and ``needs_choice`` is set.

A category with ``n`` or fewer entries advances everyone. ``n`` of 0 advances nobody.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

INCLUDE_ALL = "include_all"
EARLIER_SUBMISSION = "earlier_submission"
ADMIN_CHOICE = "admin_choice"
RULES = (INCLUDE_ALL, EARLIER_SUBMISSION, ADMIN_CHOICE)


@dataclass(frozen=True)
class Candidate:
    key: Hashable
    votes: int
    submitted_at: datetime | None = None


@dataclass
class CutResult:
    # Every candidate in the documented order.
    ordered: list[Hashable] = field(default_factory=list)
    advanced: list[Hashable] = field(default_factory=list)
    tied_at_cut: list[Hashable] = field(default_factory=list)
    # Seats the tied entries compete for (0 when nobody is tied at the cut).
    seats_for_tied: int = 0
    needs_choice: bool = False


class InvalidChoice(ValueError):
    """The administrator's choice is not a set of tied entries filling exactly the seats left."""


def _order_key(candidate: Candidate) -> tuple:
    missing = candidate.submitted_at is None
    return (-candidate.votes, missing, candidate.submitted_at or datetime.min,
            str(candidate.key))


def select_advancing(candidates: Iterable[Candidate], n: int, rule: str,
                     chosen: Collection[Hashable] | None = None) -> CutResult:
    """Apply the cut described in the module docstring to one category."""
    if rule not in RULES:
        raise ValueError(f"unknown tie rule {rule!r}")
    if n < 0:
        raise ValueError("n must not be negative")
    ordered = sorted(candidates, key=_order_key)
    keys = [c.key for c in ordered]
    if len(set(keys)) != len(keys):
        raise ValueError("candidate keys must be unique")
    result = CutResult(ordered=keys)
    if n == 0 or not ordered:
        return result
    if len(ordered) <= n:
        result.advanced = list(keys)
        return result
    cut_votes = ordered[n - 1].votes
    above = [c for c in ordered if c.votes > cut_votes]
    at_cut = [c for c in ordered if c.votes == cut_votes]
    seats = n - len(above)
    result.advanced = [c.key for c in above]
    if ordered[n].votes < cut_votes:
        # The entries at the cut all fit into the seats left.
        result.advanced += [c.key for c in at_cut]
        return result
    result.tied_at_cut = [c.key for c in at_cut]
    result.seats_for_tied = seats
    if rule == INCLUDE_ALL:
        result.advanced += result.tied_at_cut
    elif rule == EARLIER_SUBMISSION:
        result.advanced += result.tied_at_cut[:seats]
    elif chosen is None:
        result.needs_choice = True
    else:
        picked = list(dict.fromkeys(chosen))
        if len(picked) != seats or not set(picked) <= set(result.tied_at_cut):
            raise InvalidChoice(f"choose exactly {seats} of the tied entries")
        result.advanced += [k for k in result.tied_at_cut if k in set(picked)]
    return result
