"""Rank entries from their aggregated scores: ties shown as ties, then broken by a configurable,
documented order, and whatever is still tied left to the jury.

The order, which is also the one sort key ``_sort_key`` builds:

1. **Score**, best first (``Aggregation.higher_is_better``: highest, or lowest for mean rank).
   Scores within rounding noise (1e-9 relative) are equal. Equal scores share a rank in
   competition style — 1, 2, 2, 4 — and carry the "=" flag (``score_tied``).
2. **Tie-breaks**, in the order given (``DEFAULT_TIE_BREAKS`` unless configured); each one only
   matters among entries that are still equal on everything before it:

   ``first_places``
       More jurors who gave this entry their highest total among all the entries they
       reviewed (equal highest totals all count as first). Jurors with fewer than two reviews
       are not counted: being the best of one says nothing.
   ``criterion:<key>``
       Higher mean score on that rubric criterion (needs ``criterion_means``, see
       ``totals.criterion_means``).
   ``spread``
       Lower population standard deviation of the entry's per-review values — the jurors
       agreed more. Needs two values; with fewer the entry loses this comparison.
   ``median``
       Better median of the per-review values (higher, or lower for mean rank).

   ``spread`` and ``median`` use the values the method itself combined (totals for mean,
   median and trimmed mean, z-scores, ranks or Borda points otherwise), so a tie on a
   normalised scale is not broken by the raw marks the normalisation was meant to correct.
   A missing value (``None``) always loses to a present one.
3. **Left to the jury**: entries equal on the score and on every tie-break share the rank
   after tie-breaks (``tied``) and are flagged ``left_to_jury``; the library never picks a
   winner by id, name or chance. (They are listed by id only so the page is stable.)

Entries without data (score ``None``) come last, without a rank (``unranked``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ._common import Id, close, id_key, median, pstdev, snap
from .aggregate import Aggregation, EntryResult
from .explain import Step, StepCode, step

FIRST_PLACES = "first_places"
SPREAD = "spread"
MEDIAN = "median"
CRITERION_PREFIX = "criterion:"
LEFT_TO_JURY = "left_to_jury"

DEFAULT_TIE_BREAKS: tuple[str, ...] = (FIRST_PLACES, MEDIAN, SPREAD)

# An explanation names at most this many tied entries (and gives the count): a round where
# hundreds of entries tie should not carry hundreds of names in every entry's explanation.
MAX_LISTED = 20


@dataclass(frozen=True)
class RankedEntry:
    entry_id: Id
    score: float | None
    score_rank: int | None  # competition rank by score alone; None = unranked (no data)
    score_tied: bool  # "=": another entry has the same score
    rank: int | None  # competition rank after the tie-breaks
    tied: bool  # still tied after every tie-break: left to the jury
    decided_by: str | None  # tie-break that separated it from its score tie, or "left_to_jury"
    tie_break_values: dict[str, float | None]
    complete: bool
    steps: tuple[Step, ...]

    @property
    def label(self) -> str:
        """How the rank is printed: "3", "=3" for a tie the jury must settle, "" unranked."""
        if self.rank is None:
            return ""
        return f"={self.rank}" if self.tied else str(self.rank)


@dataclass(frozen=True)
class Ranking:
    method: str
    higher_is_better: bool
    tie_breaks: tuple[str, ...]
    entries: tuple[RankedEntry, ...]  # final order: ranked entries first, then unranked
    steps: tuple[Step, ...]
    _index: dict[Id, RankedEntry] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {e.entry_id: e for e in self.entries})

    def entry(self, entry_id: Id) -> RankedEntry:
        return self._index[entry_id]

    @property
    def left_to_jury(self) -> list[list[Id]]:
        """The groups of entries the tie-breaks could not separate."""
        groups: dict[int, list[Id]] = {}
        for e in self.entries:
            if e.tied and e.rank is not None:
                groups.setdefault(e.rank, []).append(e.entry_id)
        return [groups[r] for r in sorted(groups)]


def check_tie_breaks(
    tie_breaks: Sequence[str], *, has_criterion_means: bool = True
) -> tuple[str, ...]:
    """Validate a configured tie-break order (for the call's settings form as well)."""
    result = tuple(tie_breaks)
    if len(set(result)) != len(result):
        raise ValueError("a tie-break is listed twice")
    for name in result:
        if name in (FIRST_PLACES, SPREAD, MEDIAN):
            continue
        if name.startswith(CRITERION_PREFIX) and name[len(CRITERION_PREFIX) :]:
            if not has_criterion_means:
                raise ValueError(f"tie-break {name!r} needs criterion_means")
            continue
        raise ValueError(f"unknown tie-break {name!r}")
    return result


def competition_ranks(
    scores: Mapping[Id, float | None], *, higher_is_better: bool = True
) -> dict[Id, int | None]:
    """Competition ranks (1, 2, 2, 4) by score alone; ``None`` scores get ``None``."""
    present = {e: s for e, s in scores.items() if s is not None}
    canonical = snap(present.values())
    sign = -1.0 if higher_is_better else 1.0
    ordered = sorted(present, key=lambda e: sign * canonical[present[e]])
    ranks: dict[Id, int | None] = dict.fromkeys(scores)
    previous: float | None = None
    for position, entry_id in enumerate(ordered, start=1):
        value = canonical[present[entry_id]]
        if previous is None or value != previous:
            rank = position
        ranks[entry_id] = rank
        previous = value
    return ranks


def _first_places(aggregation: Aggregation) -> dict[Id, int]:
    best: dict[Id, float] = {}
    counts: dict[Id, int] = {}
    for entry in aggregation.entries:
        for review in entry.reviews:
            counts[review.juror_id] = counts.get(review.juror_id, 0) + 1
            if review.juror_id not in best or review.total > best[review.juror_id]:
                best[review.juror_id] = review.total
    result: dict[Id, int] = {}
    for entry in aggregation.entries:
        result[entry.entry_id] = sum(
            1
            for review in entry.reviews
            if counts[review.juror_id] >= 2 and close(review.total, best[review.juror_id])
        )
    return result


def _method_values(entry: EntryResult) -> list[float]:
    # Every counted review, trimmed ones included: they are part of how much jurors disagreed.
    return [r.value for r in entry.reviews if r.value is not None]


def _tie_break_values(
    aggregation: Aggregation,
    tie_breaks: Sequence[str],
    criterion_means: Mapping[Id, Mapping[str, float | None]] | None,
) -> dict[Id, dict[str, float | None]]:
    first = _first_places(aggregation) if FIRST_PLACES in tie_breaks else {}
    values: dict[Id, dict[str, float | None]] = {}
    for entry in aggregation.entries:
        per: dict[str, float | None] = {}
        method_values = _method_values(entry)
        for name in tie_breaks:
            if name == FIRST_PLACES:
                per[name] = float(first[entry.entry_id])
            elif name == SPREAD:
                per[name] = pstdev(method_values) if len(method_values) >= 2 else None
            elif name == MEDIAN:
                per[name] = median(method_values) if method_values else None
            else:
                key = name[len(CRITERION_PREFIX) :]
                means = (criterion_means or {}).get(entry.entry_id, {})
                per[name] = means.get(key)
        values[entry.entry_id] = per
    return values


def rank_entries(
    aggregation: Aggregation,
    *,
    tie_breaks: Sequence[str] = DEFAULT_TIE_BREAKS,
    criterion_means: Mapping[Id, Mapping[str, float | None]] | None = None,
) -> Ranking:
    """Rank the aggregated entries; see the module docstring for the full order."""
    order = check_tie_breaks(tie_breaks, has_criterion_means=criterion_means is not None)
    better_high = aggregation.higher_is_better
    # Direction of each key dimension: True = higher is better.
    directions = [better_high] + [
        (better_high if name == MEDIAN else name != SPREAD) for name in order
    ]
    tb_values = _tie_break_values(aggregation, order, criterion_means)

    ranked = [e for e in aggregation.entries if e.score is not None]
    unranked = sorted(
        (e for e in aggregation.entries if e.score is None), key=lambda e: id_key(e.entry_id)
    )

    raw: dict[Id, list[float | None]] = {
        e.entry_id: [e.score] + [tb_values[e.entry_id][name] for name in order] for e in ranked
    }
    # Snap each dimension separately so near-equal floats form ties.
    canonical = [
        snap(v[i] for v in raw.values() if v[i] is not None) for i in range(len(directions))
    ]

    def _sort_key(entry_id: Id) -> tuple[tuple[int, float], ...]:
        """Score, then each tie-break in order; better sorts first, missing values last."""
        parts = []
        for i, value in enumerate(raw[entry_id]):
            if value is None:
                parts.append((1, 0.0))
            else:
                v = canonical[i][value]
                parts.append((0, -v if directions[i] else v))
        return tuple(parts)

    keys = {e.entry_id: _sort_key(e.entry_id) for e in ranked}
    ranked.sort(key=lambda e: (keys[e.entry_id], id_key(e.entry_id)))

    score_rank = _competition(ranked, lambda e: keys[e.entry_id][:1])
    final_rank = _competition(ranked, lambda e: keys[e.entry_id])
    score_groups: dict[Hashable, list[Id]] = {}
    for e in ranked:
        score_groups.setdefault(keys[e.entry_id][:1], []).append(e.entry_id)
    # Within each tie on the score, how many entries share each key prefix: an entry is
    # separated at the first tie-break after which its prefix is unique (linear per group,
    # so a round where everything ties does not turn quadratic).
    prefix_counts: dict[Hashable, list[Counter]] = {}
    for score_key, group in score_groups.items():
        if len(group) > 1:
            prefix_counts[score_key] = [
                Counter(keys[g][:depth] for g in group) for depth in range(len(directions) + 1)
            ]

    results: list[RankedEntry] = []
    for e in ranked:
        key = keys[e.entry_id]
        group = score_groups[key[:1]]
        steps: list[Step] = []
        decided_by: str | None = None
        tied = False
        if len(group) > 1:
            counts = prefix_counts[key[:1]]
            steps.append(
                step(
                    StepCode.TIED_ON_SCORE,
                    rank=score_rank[e.entry_id],
                    count=len(group) - 1,
                    entries=_some(g for g in group if g != e.entry_id),
                )
            )
            for depth, name in enumerate(order, start=2):
                if counts[depth][key[:depth]] == 1:
                    decided_by = name
                    steps.append(
                        step(
                            StepCode.TIE_BROKEN,
                            by=name,
                            value=tb_values[e.entry_id][name],
                            rank=final_rank[e.entry_id],
                        )
                    )
                    break
            else:
                decided_by = LEFT_TO_JURY
                tied = True
                steps.append(
                    step(
                        StepCode.LEFT_TO_JURY,
                        rank=final_rank[e.entry_id],
                        count=counts[len(directions)][key] - 1,
                        entries=_some(
                            g for g in group if g != e.entry_id and keys[g] == key
                        ),
                    )
                )
        results.append(
            RankedEntry(
                entry_id=e.entry_id,
                score=e.score,
                score_rank=score_rank[e.entry_id],
                score_tied=len(group) > 1,
                rank=final_rank[e.entry_id],
                tied=tied,
                decided_by=decided_by,
                tie_break_values=tb_values[e.entry_id],
                complete=e.complete,
                steps=tuple(steps),
            )
        )
    for e in unranked:
        results.append(
            RankedEntry(
                entry_id=e.entry_id,
                score=None,
                score_rank=None,
                score_tied=False,
                rank=None,
                tied=False,
                decided_by=None,
                tie_break_values=tb_values[e.entry_id],
                complete=e.complete,
                steps=(step(StepCode.UNRANKED),),
            )
        )
    return Ranking(
        method=aggregation.method.value,
        higher_is_better=better_high,
        tie_breaks=order,
        entries=tuple(results),
        steps=(step(StepCode.TIE_BREAK_ORDER, order=list(order)),),
    )


def _some(ids: Iterable[Id]) -> list[Id]:
    result = []
    for entry_id in ids:
        if len(result) == MAX_LISTED:
            break
        result.append(entry_id)
    return result


def _competition(
    ordered: Sequence[EntryResult], key: Callable[[EntryResult], Hashable]
) -> dict[Id, int]:
    """Competition ranks over an already sorted list: equal keys share the first position."""
    ranks: dict[Id, int] = {}
    previous = None
    rank = 0
    for position, e in enumerate(ordered, start=1):
        k = key(e)
        if position == 1 or k != previous:
            rank = position
        ranks[e.entry_id] = rank
        previous = k
    return ranks
