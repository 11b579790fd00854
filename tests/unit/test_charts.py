"""The ranking page's SVG charts: bins, spreads and accessible markup, without an app."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from awards.ranking.charts import (
    Bin,
    Spread,
    histogram_bins,
    histogram_svg,
    mean,
    scale,
    spread_svg,
    spreads,
)

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup) -> ET.Element:
    return ET.fromstring(str(markup))


def test_histogram_bins_counts_values_into_equal_bins():
    bins = histogram_bins([0, 3.9, 4, 10, 19.5, 20], low=0, high=20, bins=5)
    assert [(b.low, b.high, b.count) for b in bins] == [
        (0, 4, 2), (4, 8, 1), (8, 12, 1), (12, 16, 0), (16, 20, 2)]


def test_histogram_bins_puts_out_of_range_values_in_end_bins():
    bins = histogram_bins([-3, 25], low=0, high=10, bins=2)
    assert [b.count for b in bins] == [1, 1]


def test_histogram_bins_empty_input_gives_empty_bins():
    assert [b.count for b in histogram_bins([], low=0, high=1, bins=3)] == [0, 0, 0]


@pytest.mark.parametrize("kwargs", [{"low": 0, "high": 10, "bins": 0},
                                    {"low": 5, "high": 5, "bins": 2}])
def test_histogram_bins_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        histogram_bins([1], **kwargs)


def test_mean_of_nothing_is_none_not_zero():
    assert mean([]) is None
    assert mean([2, 4]) == 3


@pytest.mark.parametrize(("values", "bounds", "expected"), [
    ([3, 7], (0, 40), (0.0, 40.0)),
    ([3, 7], None, (3.0, 7.0)),
    ([5, 5], None, (5.0, 6.0)),
    ([], None, (0.0, 1.0)),
])
def test_scale_prefers_rubric_bounds_and_never_is_empty(values, bounds, expected):
    assert scale(values, bounds) == expected


def test_spreads_skip_entries_without_reviews_and_keep_order():
    result = spreads([("B", [10, 30, 20]), ("A", []), ("C", [7])])
    assert result == [Spread("B", 10, 20, 30, 3), Spread("C", 7, 7, 7, 1)]


def test_histogram_svg_is_labelled_image_with_a_bar_per_non_empty_bin():
    bins = [Bin(0, 10, 2), Bin(10, 20, 0), Bin(20, 30, 5)]
    svg = parse(histogram_svg(bins, svg_id="h1", title="Totals <all>", desc="Three bins"))
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "h1-title h1-desc"
    assert svg.find(f"{SVG}title").text == "Totals <all>"  # escaped in the markup, read back
    assert svg.find(f"{SVG}desc").text == "Three bins"
    rects = svg.findall(f"{SVG}rect")
    assert len(rects) == 2
    heights = sorted(float(r.get("height")) for r in rects)
    assert heights[1] == pytest.approx(heights[0] * 5 / 2, rel=0.02)  # bars scale with counts
    texts = [t.text for t in svg.findall(f"{SVG}text")]
    assert "5" in texts and "2" in texts and "30" in texts


def test_spread_svg_draws_bar_from_lowest_to_highest_and_mean_marker():
    svg = parse(spread_svg([Spread("VOY-1", 10, 25, 40, 3)], low=0, high=40, svg_id="s",
                           title="Spread", desc="d"))
    bar = [ln for ln in svg.findall(f"{SVG}line") if ln.get("stroke-width") == "4"]
    assert len(bar) == 1
    x1, x2 = float(bar[0].get("x1")), float(bar[0].get("x2"))
    dot = float(svg.find(f"{SVG}circle").get("cx"))
    assert x1 < dot < x2
    assert (dot - x1) / (x2 - x1) == pytest.approx(0.5, abs=0.01)  # mean 25 is midway 10..40
    assert "VOY-1" in [t.text for t in svg.findall(f"{SVG}text")]


def test_spread_svg_uses_formatter_for_ticks():
    svg = parse(spread_svg([Spread("A", 1, 2, 3, 2)], low=0, high=4, svg_id="s", title="t",
                           desc="d", fmt=lambda v: f"<{v:.1f}>"))
    assert {"<0.0>", "<2.0>", "<4.0>"} <= {t.text for t in svg.findall(f"{SVG}text")}
