"""Timings of the pure judging library on a large round. Prints the figures; asserts nothing.

    .venv/bin/python bench/assignment_bench.py

1. Automatic assignment: 5,000 entries x 3 reviews over 60 jurors (three categories, a third of
   the jurors open to all, scattered conflicts), then one juror leaving (``reassign``).
2. Totals: 10,000 entries x 5 reviews x 8 weighted criteria (``review_total``).
3. Aggregation and ranking of those 50,000 reviews with each method (explanations included).
4. Agreement (Kendall's W is undefined here: incomplete design) and a bootstrap on a smaller
   round, because the bootstrap repeats the combination ``iterations`` times.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from awards.enums import AggregationMethod, TotalMethod
from awards.judging import (
    Criterion,
    EntryToAssign,
    JurorToAssign,
    Review,
    aggregate,
    agreement_report,
    assign,
    bootstrap_top_n,
    rank_entries,
    reassign,
    review_total,
)

T = TypeVar("T")
CATEGORIES = ["film", "book", "music"]


def timed(label: str, fn: Callable[[], T]) -> T:
    started = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - started
    print(f"  {label:<58} {elapsed * 1000:9.1f} ms")
    return result


def bench_assignment() -> None:
    print("assignment")
    entries = [EntryToAssign(i, CATEGORIES[i % 3]) for i in range(5000)]
    jurors = [
        JurorToAssign(j, None if j % 3 == 0 else frozenset({CATEGORIES[j % 3]}))
        for j in range(60)
    ]
    conflicts = {(j, e) for j in range(60) for e in range(j, 5000, 97)}
    plan = timed(
        "assign 5,000 entries x 3 over 60 jurors",
        lambda: assign(entries, jurors, reviews_per_entry=3, conflicts=conflicts, seed=1),
    )
    loads = sorted(plan.loads.values())
    print(
        f"    {len(plan.new)} assignments, {len(plan.shortfalls)} short, "
        f"loads {loads[0]}..{loads[-1]}"
    )
    current = set(plan.new)
    moved = timed(
        "reassign the work of one juror who left",
        lambda: reassign(
            0, entries=entries, jurors=jurors, assignments=current, conflicts=conflicts, seed=1
        ),
    )
    print(f"    {len(moved.removed)} moved, {len(moved.shortfalls)} short")


def bench_aggregation() -> None:
    print("totals, aggregation and ranking: 10,000 entries x 5 reviews x 8 criteria")
    rnd = random.Random(3)
    rubric = [Criterion(f"c{i}", weight=1 + i % 3, min_score=0, max_score=10, step=0.5)
              for i in range(8)]  # fmt: skip
    jurors = list(range(100))
    sheets = []
    for entry in range(10_000):
        for juror in rnd.sample(jurors, 5):
            sheets.append((entry, juror, {c.key: rnd.randint(0, 20) / 2 for c in rubric}))

    def totals() -> list[Review]:
        return [
            Review(entry, juror, review_total(scores, rubric, TotalMethod.SUM))
            for entry, juror, scores in sheets
        ]

    reviews = timed("review_total for 50,000 score sheets", totals)
    for method in AggregationMethod:
        aggregation = timed(
            f"aggregate {method.value}",
            lambda method=method: aggregate(reviews, method, required_reviews=5),
        )
        timed(f"rank_entries {method.value} (default tie-breaks)",
              lambda a=aggregation: rank_entries(a))  # fmt: skip

    timed("agreement_report (W, alpha, 100 jurors)", lambda: agreement_report(reviews))
    small = [r for r in reviews if r.entry_id < 200]
    for method in (AggregationMethod.MEAN, AggregationMethod.ZSCORE, AggregationMethod.TRIMMED):
        timed(
            f"bootstrap_top_n {method.value}: 200 entries x 5, 1,000 resamples",
            lambda method=method: bootstrap_top_n(small, method, top_n=10, seed=1),
        )


if __name__ == "__main__":
    print(f"Python {sys.version.split()[0]}")
    bench_assignment()
    bench_aggregation()
