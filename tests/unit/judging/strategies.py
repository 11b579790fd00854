"""Hypothesis strategies shared by the judging tests: small panels of jurors scoring entries."""

from __future__ import annotations

from hypothesis import strategies as st

from awards.enums import AggregationMethod
from awards.judging import Review

METHODS = list(AggregationMethod)
# Methods whose score is "higher is better" and monotone in one review's total.
MONOTONE_METHODS = [
    AggregationMethod.MEAN,
    AggregationMethod.MEDIAN,
    AggregationMethod.TRIMMED,
    AggregationMethod.ZSCORE,
]

# Totals on a half-point grid: realistic, and ties happen often enough to be exercised.
totals = st.integers(min_value=0, max_value=40).map(lambda n: n / 2)


@st.composite
def panels(draw, *, min_jurors=1, max_jurors=6, min_entries=1, max_entries=8, drafts=True):
    """A list of reviews: each juror reviews a random subset of the entries; some reviews are
    unsubmitted drafts (which must never count)."""
    jurors = [f"j{i}" for i in range(draw(st.integers(min_jurors, max_jurors)))]
    entries = [f"e{i}" for i in range(draw(st.integers(min_entries, max_entries)))]
    reviews = []
    for juror in jurors:
        for entry in entries:
            kind = draw(st.sampled_from(["none", "submitted", "submitted", "draft"]))
            if kind == "none" or (kind == "draft" and not drafts):
                continue
            total = draw(totals)
            reviews.append(Review(entry, juror, total, submitted=kind == "submitted"))
    return reviews, entries


@st.composite
def complete_panels(draw, *, min_jurors=2, max_jurors=6, min_entries=2, max_entries=7):
    """Every juror reviews every entry (submitted)."""
    m = draw(st.integers(min_jurors, max_jurors))
    n = draw(st.integers(min_entries, max_entries))
    return [
        Review(f"e{e}", f"j{j}", draw(totals)) for j in range(m) for e in range(n)
    ]
