"""Figures from a phase: requests, errors, throughput and latency percentiles, as Markdown
tables ready for ``bench/RESULTS.md``."""

from __future__ import annotations

import math
from dataclasses import dataclass


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest rank: the smallest value with at least ``q`` of the values at or below it."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass
class Row:
    label: str
    requests: int
    errors: int
    wall: float
    p50: float
    p99: float
    ops: int = 0

    @property
    def rate(self) -> float:
        return self.requests / self.wall if self.wall else 0.0

    @property
    def op_rate(self) -> float:
        return self.ops / self.wall if self.wall else 0.0


def row(label: str, latencies: list[float], errors: int, wall: float, ops: int = 0) -> Row:
    values = sorted(latencies)
    return Row(label, len(values), errors, wall, percentile(values, 0.50),
               percentile(values, 0.99), ops)


def ms(seconds: float) -> str:
    if math.isnan(seconds):
        return "—"
    value = seconds * 1000
    return f"{value:.1f}" if value < 100 else f"{value:,.0f}"


def scenario_table(rows: list[Row], ceiling: Row, op_names: dict[str, str]) -> str:
    lines = [
        "| scenario | requests | errors | req/s | p50 ms | p99 ms | req/s ÷ bare | operations |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        ratio = r.rate / ceiling.rate if ceiling.rate else math.nan
        ops = ""
        if r.label in op_names and r.ops:
            ops = f"{r.ops:,} {op_names[r.label]} ({r.op_rate:.1f}/s)"
        lines.append(f"| {r.label} | {r.requests:,} | {r.errors} | {r.rate:,.0f} | {ms(r.p50)} | "
                     f"{ms(r.p99)} | {ratio:.3f} | {ops} |")
    return "\n".join(lines)


def step_table(rows: list[Row]) -> str:
    lines = ["| step | requests | errors | p50 ms | p99 ms |", "|---|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r.label} | {r.requests:,} | {r.errors} | {ms(r.p50)} | {ms(r.p99)} |")
    return "\n".join(lines)
