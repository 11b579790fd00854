"""Is an entry's place in the top N solid, or would another panel have decided differently?

Bootstrap over jurors: draw as many jurors as the panel has, **with replacement**, from the
panel; score every entry with the sampled jurors' reviews by the same aggregation method (a
juror drawn twice counts twice); note which entries are in the top N. Repeat ``iterations``
times (default 1000). An entry's probability is the share of resamples in which it was in the
top N.

* Reproducible: the draws come from ``random.Random(seed)`` over the jurors sorted by id, so
  the same data and seed give the same probabilities, whatever the input order.
* Per-juror values (totals, z-scores, ranks, Borda points) depend only on that juror's own
  reviews (see ``aggregate``), so they are computed once; each resample only re-combines them.
* "In the top N" means competition rank <= N, i.e. at least as good as the N-th best score
  (ties at the boundary are all in). An entry none of the sampled jurors reviewed has no score
  in that resample and is not in the top N.
* Entries whose probability lies in ``[close_low, close_high]`` (default 0.2..0.8, bounds
  included) are flagged **too close to call**: the panel's verdict on them hinges on which
  jurors happened to review them.

Cost: ``iterations`` x (number of reviews) additions, e.g. 0.2-0.7 s for 200 entries x 5
reviews; for very large rounds lower ``iterations``.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterable
from dataclasses import dataclass

from awards.enums import AggregationMethod

from ._common import Id, close, id_key
from .aggregate import Review, collect_reviews, combine, juror_values

ITERATIONS = 1000
CLOSE_LOW = 0.2
CLOSE_HIGH = 0.8

# Methods whose combination is a plain mean, so a resample needs only sums and counts.
_MEAN_COMBINED = frozenset(
    {
        AggregationMethod.MEAN,
        AggregationMethod.ZSCORE,
        AggregationMethod.RANK,
        AggregationMethod.BORDA,
    }
)


@dataclass(frozen=True)
class EntryStability:
    entry_id: Id
    probability: float  # share of resamples with the entry in the top N
    in_top_n: bool  # in the top N on the full data
    no_data_share: float  # share of resamples in which no sampled juror had reviewed it
    too_close_to_call: bool


@dataclass(frozen=True)
class Stability:
    method: AggregationMethod
    top_n: int
    iterations: int
    seed: int
    close_low: float
    close_high: float
    entries: tuple[EntryStability, ...]  # ordered by entry id

    @property
    def too_close_to_call(self) -> list[Id]:
        return [e.entry_id for e in self.entries if e.too_close_to_call]

    def probability(self, entry_id: Id) -> float:
        for e in self.entries:
            if e.entry_id == entry_id:
                return e.probability
        raise KeyError(entry_id)


def bootstrap_top_n(
    reviews: Iterable[Review],
    method: AggregationMethod | str,
    *,
    top_n: int,
    iterations: int = ITERATIONS,
    seed: int = 0,
    trim: int = 1,
    entries: Iterable[Id] | None = None,
    close_low: float = CLOSE_LOW,
    close_high: float = CLOSE_HIGH,
) -> Stability:
    """Probability of each entry being in the top ``top_n``; see the module docstring."""
    method = AggregationMethod(method)
    if top_n < 1:
        raise ValueError("top_n must be at least 1")
    if iterations < 1:
        raise ValueError("iterations must be at least 1")
    if not 0 <= close_low <= close_high <= 1:
        raise ValueError("need 0 <= close_low <= close_high <= 1")

    collected = collect_reviews(reviews, entries)
    entry_ids = collected.entries
    position = {e: i for i, e in enumerate(entry_ids)}
    values = juror_values(collected.totals, method).values
    jurors = sorted(values, key=id_key)
    # Per juror: (entry position, value) for the reviews that count under the method.
    contributions = [
        [(position[e], v) for e, v in sorted(values[j].items(), key=lambda kv: id_key(kv[0]))
         if v is not None]
        for j in jurors
    ]
    higher = method is not AggregationMethod.RANK

    def top_members(sample: list[int]) -> tuple[list[bool], list[bool]]:
        size = len(entry_ids)
        scores: list[float | None] = [None] * size
        if method in _MEAN_COMBINED:
            sums = [0.0] * size
            counts = [0] * size
            for j in sample:
                for i, v in contributions[j]:
                    sums[i] += v
                    counts[i] += 1
            for i in range(size):
                if counts[i]:
                    scores[i] = sums[i] / counts[i]
        else:
            lists: list[list[float]] = [[] for _ in range(size)]
            for j in sample:
                for i, v in contributions[j]:
                    lists[i].append(v)
            for i in range(size):
                if lists[i]:
                    scores[i] = combine(lists[i], method, trim)
        present = [s for s in scores if s is not None]
        if len(present) > top_n:
            # The N-th best score; everything at least as good (ties included) is in.
            if higher:
                bar = heapq.nlargest(top_n, present)[-1]
                inside = [s is not None and (s > bar or close(s, bar)) for s in scores]
            else:
                bar = heapq.nsmallest(top_n, present)[-1]
                inside = [s is not None and (s < bar or close(s, bar)) for s in scores]
        else:
            inside = [s is not None for s in scores]
        return inside, [s is None for s in scores]

    full, _ = top_members(list(range(len(jurors))))
    hits = [0] * len(entry_ids)
    empty = [0] * len(entry_ids)
    rng = random.Random(seed)
    population = range(len(jurors))
    for _ in range(iterations):
        sample = rng.choices(population, k=len(jurors)) if jurors else []
        inside, missing = top_members(sample)
        for i in range(len(entry_ids)):
            hits[i] += inside[i]
            empty[i] += missing[i]

    results = []
    for i, entry_id in enumerate(entry_ids):
        probability = hits[i] / iterations
        results.append(
            EntryStability(
                entry_id=entry_id,
                probability=probability,
                in_top_n=full[i],
                no_data_share=empty[i] / iterations,
                too_close_to_call=close_low <= probability <= close_high,
            )
        )
    return Stability(
        method=method,
        top_n=top_n,
        iterations=iterations,
        seed=seed,
        close_low=close_low,
        close_high=close_high,
        entries=tuple(results),
    )
