"""Agreement between jurors: Kendall's W, Krippendorff's alpha, leniency and correlation."""

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from awards.judging import (
    JurorFlag,
    Reason,
    Review,
    agreement_report,
    juror_agreement,
    kendalls_w,
    krippendorff_alpha,
)

from .strategies import complete_panels, panels


def grid(rows):
    """{juror: [total per entry, None = missing]} -> reviews of entries 1..n."""
    return [
        Review(entry, juror, total)
        for juror, totals in rows.items()
        for entry, total in enumerate(totals, start=1)
        if total is not None
    ]


# 4 jurors x 4 entries, all complete. A, B and C order the entries alike, D reverses them.
FOUR = grid({"A": [1, 2, 3, 4], "B": [2, 3, 4, 5], "C": [1, 2, 3, 4], "D": [4, 3, 2, 1]})


def test_kendalls_w_hand_example():
    # Ranks (1 = the juror's highest total):
    #   J1: e1 1, e2 2, e3 3, e4 4    J2: e1 1, e2 3, e3 2, e4 4    J3: e1 2, e2 1, e3 3, e4 4
    # R = 4, 6, 8, 12; mean m(n+1)/2 = 7.5; S = 12.25 + 2.25 + 0.25 + 20.25 = 35
    # W = 12 * 35 / (3^2 * (4^3 - 4)) = 420 / 540 = 7/9
    reviews = grid({"J1": [4, 3, 2, 1], "J2": [4, 2, 3, 1], "J3": [3, 4, 2, 1]})
    result = kendalls_w(reviews)
    assert result.w == pytest.approx(7 / 9, rel=1e-12)
    assert (result.jurors, result.entries, result.df) == (3, 4, 3)
    assert result.chi_square == pytest.approx(3 * 3 * 7 / 9)  # m (n-1) W = 7


def test_kendalls_w_with_ties():
    # J1 gives e1 and e2 the same total: ranks 1.5, 1.5, 3, 4 (one tie group of 2: T = 8 - 2)
    # R = 3.5, 6.5, 8, 12; S = 16 + 1 + 0.25 + 20.25 = 37.5
    # W = 12 * 37.5 / (9 * 60 - 3 * 6) = 450 / 522 = 25/29
    reviews = grid({"J1": [9, 9, 5, 3], "J2": [4, 3, 2, 1], "J3": [4, 2, 3, 1]})
    assert kendalls_w(reviews).w == pytest.approx(25 / 29, rel=1e-12)


def test_kendalls_w_one_juror_reversed():
    # Ranks: A, B, C: e1 4, e2 3, e3 2, e4 1; D: e1 1, ..., e4 4
    # R = 13, 11, 9, 7; mean 10; S = 9 + 1 + 1 + 9 = 20; W = 240 / (16 * 60) = 0.25
    assert kendalls_w(FOUR).w == 0.25


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 20), min_size=2, max_size=8, unique=True), st.integers(2, 6))
def test_kendalls_w_identical_rankings_is_one(totals, jurors):
    # Identical orders, even on different scales (juror j adds 3j): perfect concordance.
    reviews = [Review(e, j, t + 3 * j) for j in range(jurors) for e, t in enumerate(totals)]
    assert kendalls_w(reviews).w == pytest.approx(1.0)


@settings(max_examples=40, deadline=None)
@given(complete_panels())
def test_kendalls_w_between_zero_and_one(reviews):
    result = kendalls_w(reviews)
    if result.w is None:
        assert result.reason is Reason.NO_VARIATION
    else:
        assert -1e-12 <= result.w <= 1 + 1e-12


@pytest.mark.parametrize(
    ("rows", "reason"),
    [
        ({"A": [1, 2, 3], "B": [1, None, 3]}, Reason.INCOMPLETE_DESIGN),
        ({"A": [1, 2, 3]}, Reason.TOO_FEW_JURORS),
        ({"A": [1], "B": [2]}, Reason.TOO_FEW_ENTRIES),
        ({"A": [5, 5], "B": [3, 3]}, Reason.NO_VARIATION),
    ],
)
def test_kendalls_w_undefined_cases(rows, reason):
    result = kendalls_w(grid(rows))
    assert (result.w, result.reason) == (None, reason)


def test_krippendorff_alpha_published_interval_example():
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability", section C: 4 observers,
    # 12 units, missing values; published: nominal .743, interval .849. Unit 12 has a single
    # value and is not pairable, leaving n = 40 values in 11 units.
    # By hand with the coincidence matrix: D_o = 13/30, D_e = 112/39,
    # alpha = 1 - (13/30) / (112/39) = 1 - 507/3360 = 951/1120 = 0.849107...
    reviews = grid({
        "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
        "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
        "C": [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
        "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
    })  # fmt: skip
    result = krippendorff_alpha(reviews)
    assert result.alpha == pytest.approx(float(Fraction(951, 1120)), rel=1e-12)
    assert round(result.alpha, 3) == 0.849
    assert (result.units, result.values) == (11, 40)
    assert result.observed_disagreement == pytest.approx(13 / 30)
    assert result.expected_disagreement == pytest.approx(112 / 39)


def test_krippendorff_alpha_tiny_hand_case():
    # Two jurors, two entries: (1, 2) and (3, 4).
    # D_o = (1/4) * [2 * 1^2 / 1 + 2 * 1^2 / 1] = 1
    # D_e = sum over ordered pairs of 1,2,3,4 of squared differences / (4 * 3)
    #     = 2 * (1 + 4 + 9 + 1 + 4 + 1) / 12 = 40/12 = 10/3;  alpha = 1 - 3/10 = 0.7
    result = krippendorff_alpha(grid({"A": [1, 3], "B": [2, 4]}))
    assert result.alpha == pytest.approx(0.7, rel=1e-12)


def test_krippendorff_alpha_perfect_agreement_is_one():
    assert krippendorff_alpha(grid({"A": [1, 5, 3], "B": [1, 5, 3], "C": [1, None, 3]})).alpha == 1


@pytest.mark.parametrize(
    ("rows", "reason"),
    [
        ({"A": [1, 2, 3]}, Reason.NO_PAIRABLE_VALUES),
        ({"A": [1, None], "B": [None, 2]}, Reason.NO_PAIRABLE_VALUES),
        ({"A": [4, 4], "B": [4, 4]}, Reason.NO_VARIATION),
    ],
)
def test_krippendorff_alpha_undefined_cases(rows, reason):
    result = krippendorff_alpha(grid(rows))
    assert (result.alpha, result.reason) == (None, reason)


@settings(max_examples=40, deadline=None)
@given(panels(drafts=False))
def test_krippendorff_alpha_matches_coincidence_matrix_definition(panel):
    reviews, _ = panel
    result = krippendorff_alpha(reviews)
    # The textbook computation over the coincidence matrix, in exact fractions.
    units = {}
    for r in reviews:
        units.setdefault(r.entry_id, []).append(Fraction(r.total).limit_denominator())
    pairable = [u for u in units.values() if len(u) >= 2]
    n = sum(len(u) for u in pairable)
    if n < 2:
        assert result.alpha is None
        return
    d_o = sum(
        sum((a - b) ** 2 for i, a in enumerate(u) for j, b in enumerate(u) if i != j)
        / (len(u) - 1)
        for u in pairable
    ) / n
    flat = [v for u in pairable for v in u]
    d_e = sum((a - b) ** 2 for i, a in enumerate(flat) for j, b in enumerate(flat) if i != j) / (
        n * (n - 1)
    )
    if d_e == 0:
        assert result.alpha is None
    else:
        assert result.alpha == pytest.approx(float(1 - d_o / d_e), abs=1e-9)


def test_juror_agreement_leniency_and_correlation():
    # Panel sd: 16 totals, sum 44 (mean 2.75), sum of squares 144: var = 9 - 7.5625 = 1.4375
    # B vs the others' means (A, C, D): e1 2, e2 7/3, e3 8/3, e4 3
    #   differences 0, 2/3, 4/3, 2 -> leniency 1;  rho = +1
    # D vs the others' means (A, B, C): e1 4/3, e2 7/3, e3 10/3, e4 13/3
    #   differences 8/3, 2/3, -4/3, -10/3 -> leniency -1/3;  rho = -1
    jurors, panel_sd = juror_agreement(FOUR)
    assert panel_sd == pytest.approx(1.4375**0.5)
    by_id = {j.juror_id: j for j in jurors}
    b, d = by_id["B"], by_id["D"]
    assert (b.reviews, b.compared_entries) == (4, 4)
    assert b.leniency == pytest.approx(1.0)
    assert b.leniency_sd == pytest.approx(1 / 1.4375**0.5)  # 0.834
    assert b.correlation == pytest.approx(1.0)
    assert b.flags == frozenset()  # 0.834 sd is within the default 1.0
    assert d.leniency == pytest.approx(-1 / 3)
    assert d.correlation == pytest.approx(-1.0)
    assert d.flags == {JurorFlag.LOW_CORRELATION}


def test_juror_agreement_thresholds_are_parameters():
    jurors, _ = juror_agreement(FOUR, leniency_threshold=0.8, correlation_threshold=-1.5)
    flags = {j.juror_id: j.flags for j in jurors}
    assert flags["B"] == {JurorFlag.LENIENT}
    assert flags["D"] == frozenset()


def test_juror_agreement_severe_juror():
    reviews = grid({"A": [6, 7, 8, 9], "B": [6, 7, 8, 9], "S": [1, 2, 3, 4]})
    by_id = {j.juror_id: j for j in juror_agreement(reviews)[0]}
    # S is 5 below the others on every entry; panel sd of 6..9,6..9,1..4 is about 2.6
    assert by_id["S"].leniency == -5
    assert by_id["S"].flags == {JurorFlag.SEVERE}
    assert by_id["S"].correlation == pytest.approx(1.0)


def test_juror_agreement_too_little_overlap_gives_none():
    reviews = grid({"A": [1, 2, None, None], "B": [2, 3, 5, None], "C": [None, None, 4, 9]})
    by_id = {j.juror_id: j for j in juror_agreement(reviews)[0]}
    assert by_id["A"].correlation is None  # two shared entries < min_overlap 3
    assert by_id["C"].compared_entries == 1  # entry 4 has nobody else
    assert by_id["C"].leniency == -1  # 4 vs B's 5


def test_agreement_report_collects_everything():
    report = agreement_report(FOUR)
    assert report.kendall.w == 0.25
    assert report.alpha.alpha is not None
    assert report.outliers == ["D"]
    assert report.leniency_threshold == 1.0
    assert report.correlation_threshold == 0.0
