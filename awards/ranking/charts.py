"""Score charts drawn on the server as SVG: no script, nothing fetched, readable by screen
readers (role="img" with <title> and <desc>) and paired with a data table in the page.

Pure functions of numbers and already translated labels, so they are tested without an app.

- ``histogram``: how an entry's mean review total is spread across the rubric's scale, per
  category; shows whether the jury used the whole scale or bunched everyone together.
- ``spread``: for each entry, the lowest and highest review total with the mean marked; a
  long bar is a disagreement worth discussing."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

BAR = "#1f5f99"
AXIS = "#5b6570"
GRID = "#d5dbe1"


@dataclass(frozen=True)
class Bin:
    low: float
    high: float
    count: int


@dataclass(frozen=True)
class Spread:
    label: str
    low: float
    mean: float
    high: float
    count: int


def mean(values: Sequence[float]) -> float | None:
    """None for no values: a missing review is no data, never zero."""
    return sum(values) / len(values) if values else None


def scale(values: Sequence[float], bounds: tuple[float, float] | None) -> tuple[float, float]:
    """The rubric's range when known, else the data's; never an empty range."""
    if bounds is not None:
        low, high = bounds
    elif values:
        low, high = min(values), max(values)
    else:
        low, high = 0.0, 1.0
    if high <= low:
        high = low + 1
    return float(low), float(high)


def histogram_bins(values: Sequence[float], *, low: float, high: float,
                   bins: int = 10) -> list[Bin]:
    """Equal-width bins over [low, high]; the last bin includes ``high``. Values outside the
    range are counted in the nearest end bin rather than dropped."""
    if bins < 1:
        raise ValueError("bins must be at least 1")
    if high <= low:
        raise ValueError("high must be greater than low")
    width = (high - low) / bins
    counts = [0] * bins
    for value in values:
        index = math.floor((value - low) / width)
        counts[min(max(index, 0), bins - 1)] += 1
    return [Bin(low + i * width, low + (i + 1) * width if i < bins - 1 else high, c)
            for i, c in enumerate(counts)]


def spreads(entries: Sequence[tuple[str, Sequence[float]]]) -> list[Spread]:
    """One spread per entry that has at least one review total, in the order given."""
    return [Spread(label, min(totals), sum(totals) / len(totals), max(totals), len(totals))
            for label, totals in entries if totals]


def _open(svg_id: str, width: int, height: int, title: str, desc: str,
          css: str) -> list[str]:
    return [
        f'<svg class="chart {css}" id="{escape(svg_id)}" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" role="img" '
        f'aria-labelledby="{escape(svg_id)}-title {escape(svg_id)}-desc" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{escape(svg_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(svg_id)}-desc">{escape(desc)}</desc>',
    ]


def _r(value: float) -> str:
    return f"{round(value, 1):g}"


def histogram_svg(bins: Sequence[Bin], *, svg_id: str, title: str, desc: str,
                  fmt: Callable[[float], str] = _r) -> Markup:
    """Vertical bars, one per bin, the count written above each non-empty bar."""
    width, height = 480, 200
    left, right, top, bottom = 32, 8, 16, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((b.count for b in bins), default=0) or 1
    bar_w = plot_w / max(len(bins), 1)
    parts = _open(svg_id, width, height, title, desc, "histogram")
    base = top + plot_h
    parts.append(f'<line x1="{left}" y1="{base}" x2="{width - right}" y2="{base}" '
                 f'stroke="{AXIS}" stroke-width="1"/>')
    for i, b in enumerate(bins):
        x = left + i * bar_w
        h = plot_h * b.count / peak
        if b.count:
            parts.append(f'<rect x="{_r(x + 2)}" y="{_r(base - h)}" width="{_r(bar_w - 4)}" '
                         f'height="{_r(h)}" fill="{BAR}"/>')
            parts.append(f'<text x="{_r(x + bar_w / 2)}" y="{_r(base - h - 4)}" '
                         f'text-anchor="middle" font-size="11" fill="#1b1f24">{b.count}</text>')
        parts.append(f'<text x="{_r(x)}" y="{base + 16}" text-anchor="middle" font-size="11" '
                     f'fill="{AXIS}">{escape(fmt(b.low))}</text>')
    if bins:
        parts.append(f'<text x="{width - right}" y="{base + 16}" text-anchor="end" '
                     f'font-size="11" fill="{AXIS}">{escape(fmt(bins[-1].high))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def spread_svg(items: Sequence[Spread], *, low: float, high: float, svg_id: str, title: str,
               desc: str, fmt: Callable[[float], str] = _r) -> Markup:
    """One row per entry: a bar from the lowest to the highest total, a dot at the mean."""
    width, row_h = 480, 22
    left, right, top, bottom = 120, 12, 8, 24
    height = top + bottom + row_h * max(len(items), 1)
    plot_w = width - left - right
    span = (high - low) or 1

    def x(value: float) -> float:
        return left + (min(max(value, low), high) - low) / span * plot_w

    parts = _open(svg_id, width, height, title, desc, "spread")
    base = height - bottom
    for tick in (low, (low + high) / 2, high):
        parts.append(f'<line x1="{_r(x(tick))}" y1="{top}" x2="{_r(x(tick))}" y2="{base}" '
                     f'stroke="{GRID}" stroke-width="1"/>')
        parts.append(f'<text x="{_r(x(tick))}" y="{base + 16}" text-anchor="middle" '
                     f'font-size="11" fill="{AXIS}">{escape(fmt(tick))}</text>')
    for i, s in enumerate(items):
        y = top + row_h * i + row_h / 2
        label = s.label if len(s.label) <= 16 else s.label[:15] + "…"
        parts.append(f'<text x="{left - 6}" y="{_r(y + 4)}" text-anchor="end" font-size="11" '
                     f'fill="#1b1f24">{escape(label)}</text>')
        parts.append(f'<line x1="{_r(x(s.low))}" y1="{_r(y)}" x2="{_r(x(s.high))}" '
                     f'y2="{_r(y)}" stroke="{BAR}" stroke-width="4" stroke-linecap="round"/>')
        parts.append(f'<circle cx="{_r(x(s.mean))}" cy="{_r(y)}" r="5" fill="#fff" '
                     f'stroke="#1b1f24" stroke-width="2"/>')
    parts.append("</svg>")
    return Markup("".join(parts))
