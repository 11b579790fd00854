"""Small numeric helpers shared by the judging modules (standard library only).

Everything here is deterministic and independent of input order, because a ranking must not
change when the database happens to return rows in a different order."""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from typing import TypeAlias

# Entries, jurors, voters and candidates are identified by database ids (ints) in the service
# and by short strings in tests and documents; any hashable value works.
Id: TypeAlias = Hashable

# Totals come from scores on a grid (steps like 0.5 or 0.1) combined with float weights, so
# two totals that are "the same" can differ in the last bits (0.1 + 0.2 != 0.3). Values this
# close are treated as equal wherever equality matters: ties in ranks, juror spread, step grid.
REL_TOLERANCE = 1e-9


def id_key(value: Id) -> tuple[int, object]:
    """A sort key that orders ids deterministically even when ints and strings are mixed
    (numbers first, by value; anything else by its text)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return (1, str(value))
    return (0, value)


def close(a: float, b: float) -> bool:
    """Equal up to rounding noise (relative to the magnitude, absolute near zero)."""
    return abs(a - b) <= REL_TOLERANCE * max(1.0, abs(a), abs(b))


def snap(values: Iterable[float]) -> dict[float, float]:
    """Map every value to a canonical representative so that values within rounding noise of
    each other compare equal. Consecutive close values (after sorting) share the smallest one as
    representative; a chain of near-equal values therefore forms one group, which is what we
    want for ties (they are indistinguishable at the scale of the scores)."""
    canonical: dict[float, float] = {}
    previous: float | None = None
    representative = 0.0
    for value in sorted(set(values)):
        if previous is None or not close(previous, value):
            representative = value
        canonical[value] = representative
        previous = value
    return canonical


def mean(values: Sequence[float]) -> float:
    # fsum is exactly rounded, so the result does not depend on the order of the values.
    return math.fsum(values) / len(values)


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    middle = n // 2
    if n % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def pstdev(values: Sequence[float]) -> float:
    """Population standard deviation (divide by n)."""
    mu = mean(values)
    return math.sqrt(math.fsum((v - mu) ** 2 for v in values) / len(values))


def average_ranks(values: Sequence[float], *, descending: bool = True) -> list[float]:
    """Rank positions 1..n (1 = highest value when ``descending``); tied values (within rounding
    noise) share the average of the positions they occupy, so ranks always sum to n(n+1)/2."""
    order = sorted(range(len(values)), key=lambda i: values[i], reverse=descending)
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start + 1
        while end < len(order) and close(values[order[start]], values[order[end]]):
            end += 1
        shared = (start + 1 + end) / 2  # average of positions start+1 .. end
        for position in range(start, end):
            ranks[order[position]] = shared
        start = end
    return ranks


def tie_group_sizes(values: Sequence[float]) -> list[int]:
    """Sizes of the groups of equal (within noise) values, for tie corrections."""
    sizes: list[int] = []
    ordered = sorted(values)
    start = 0
    while start < len(ordered):
        end = start + 1
        while end < len(ordered) and close(ordered[start], ordered[end]):
            end += 1
        sizes.append(end - start)
        start = end
    return sizes


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Pearson correlation, or None when either side has no variation."""
    mx, my = mean(xs), mean(ys)
    sxy = math.fsum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    sxx = math.fsum((x - mx) ** 2 for x in xs)
    syy = math.fsum((y - my) ** 2 for y in ys)
    if sxx <= 0 or syy <= 0:
        return None
    value = sxy / math.sqrt(sxx * syy)
    return max(-1.0, min(1.0, value))


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Spearman's rho with ties: Pearson correlation of the average ranks."""
    rx = average_ranks(xs)
    ry = average_ranks(ys)
    if len(set(rx)) < 2 or len(set(ry)) < 2:
        return None
    return pearson(rx, ry)
