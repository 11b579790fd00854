"""Entry scores from review totals by each aggregation method, with their explanations."""

import json
import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from awards.enums import AggregationMethod as M
from awards.judging import EntryFlag, Review, ScaleStatus, StepCode, aggregate, rank_entries

from .strategies import METHODS, MONOTONE_METHODS, panels

# The worked panel used by most examples below (totals; "-" = not assigned):
#
#            a    b    c    d
#     X      8    6    4    -
#     Y      9    9    -    3
#     Z      2    -    7    6
PANEL = [
    Review("a", "X", 8), Review("b", "X", 6), Review("c", "X", 4),
    Review("a", "Y", 9), Review("b", "Y", 9), Review("d", "Y", 3),
    Review("a", "Z", 2), Review("c", "Z", 7), Review("d", "Z", 6),
]  # fmt: skip


def scores(method, reviews=PANEL, **kwargs):
    return aggregate(reviews, method, **kwargs).scores()


def test_aggregate_mean_panel():
    # a = (8+9+2)/3 = 19/3, b = (6+9)/2 = 7.5, c = (4+7)/2 = 5.5, d = (3+6)/2 = 4.5
    assert scores(M.MEAN) == {"a": 19 / 3, "b": 7.5, "c": 5.5, "d": 4.5}


def test_aggregate_median_panel():
    # a: 2, 8, 9 -> 8; the others have two reviews: mean of the middle two
    assert scores(M.MEDIAN) == {"a": 8, "b": 7.5, "c": 5.5, "d": 4.5}


def test_aggregate_trimmed_drops_extremes_or_falls_back_to_median():
    result = aggregate(PANEL, M.TRIMMED, trim=1)
    # a: three reviews = 2k+1 -> drop 2 and 9, keep 8. b, c, d: two reviews < 3 -> median.
    assert result.scores() == {"a": 8, "b": 7.5, "c": 5.5, "d": 4.5}
    a = result.entry("a")
    assert ("trimmed_mean", {"k": 1, "dropped_low": [2.0], "dropped_high": [9.0],
                             "kept": [8.0], "result": 8.0}) in a.steps  # fmt: skip
    assert {r.juror_id for r in a.reviews if r.dropped} == {"Y", "Z"}
    assert EntryFlag.TRIM_FALLBACK not in a.flags
    b = result.entry("b")
    assert EntryFlag.TRIM_FALLBACK in b.flags
    assert (StepCode.TRIM_FALLBACK_MEDIAN, {"count": 2, "k": 1, "needed": 3}) in b.steps


def test_aggregate_trimmed_with_k_two():
    reviews = [Review("a", j, t) for j, t in zip("VWXYZ", [1, 5, 6, 7, 20], strict=True)]
    # k=2 needs 5 reviews: drop 1, 5 and 7, 20 -> 6
    assert scores(M.TRIMMED, reviews, trim=2) == {"a": 6}
    # k=0 is the plain mean: 39 / 5 = 7.8
    assert scores(M.TRIMMED, reviews, trim=0) == {"a": 7.8}


def test_aggregate_zscore_panel():
    # X: 8, 6, 4   mean 6, population sd sqrt(8/3):   z = +sqrt(3/2), 0, -sqrt(3/2)
    # Y: 9, 9, 3   mean 7, sd sqrt(24/3) = 2*sqrt(2): z = 1/sqrt(2), 1/sqrt(2), -sqrt(2)
    # Z: 2, 7, 6   mean 5, sd sqrt(14/3):             z = -3/sqrt(14/3), 2/sqrt(14/3), 1/sqrt(14/3)
    zx = math.sqrt(3 / 2)
    zy = 1 / math.sqrt(2)
    sz = math.sqrt(14 / 3)
    expected = {
        "a": (zx + zy - 3 / sz) / 3,  # 0.18104050...
        "b": (0 + zy) / 2,  # 0.35355339...
        "c": (-zx + 2 / sz) / 2,  # -0.14946238...
        "d": (-2 * zy + 1 / sz) / 2,  # -0.47565175...
    }
    result = scores(M.ZSCORE)
    assert result == pytest.approx(expected, rel=1e-12)
    assert result["a"] == pytest.approx(0.1810405010, abs=1e-10)


def test_aggregate_zscore_explains_each_review():
    result = aggregate(PANEL, M.ZSCORE)
    b = result.entry("b")
    code, params = b.steps[0]
    assert code == StepCode.ZSCORE
    assert params["juror_id"] == "X"
    assert params["total"] == 6
    assert params["juror_mean"] == 6
    assert params["juror_sd"] == pytest.approx(math.sqrt(8 / 3))
    assert params["z"] == 0
    assert [r.value for r in b.reviews] == pytest.approx([0, 1 / math.sqrt(2)])
    assert ("juror_scale", {"juror_id": "Y", "count": 3, "mean": 7.0,
                            "sd": pytest.approx(2 * math.sqrt(2))}) in result.steps  # fmt: skip


def test_aggregate_zscore_juror_with_one_review_is_excluded():
    reviews = [*PANEL, Review("e", "Solo", 10)]
    result = aggregate(reviews, M.ZSCORE)
    e = result.entry("e")
    assert e.score is None  # no data on the z-scale: not 0
    assert EntryFlag.NO_USABLE_REVIEWS in e.flags
    assert e.review_count == 1
    assert [r.value for r in e.reviews] == [None]
    solo = next(s for s in result.jurors if s.juror_id == "Solo")
    assert solo.status is ScaleStatus.TOO_FEW_REVIEWS
    assert (StepCode.JUROR_EXCLUDED, {"juror_id": "Solo", "count": 1,
                                      "reason": "too_few_reviews"}) in result.steps  # fmt: skip
    # The other entries are unaffected by the excluded juror.
    assert {k: v for k, v in result.scores().items() if k != "e"} == scores(M.ZSCORE)


def test_aggregate_zscore_juror_without_spread_counts_as_zero():
    # Flat gives 7 to a and b: both count as 0, the juror's own average.
    reviews = [
        Review("a", "Flat", 7), Review("b", "Flat", 7),
        Review("a", "X", 9), Review("b", "X", 5),
    ]  # fmt: skip
    result = aggregate(reviews, M.ZSCORE)
    # X: mean 7, sd 2 -> a +1, b -1; with Flat's 0: a = 0.5, b = -0.5
    assert result.scores() == {"a": 0.5, "b": -0.5}
    flat = next(s for s in result.jurors if s.juror_id == "Flat")
    assert flat.status is ScaleStatus.NO_SPREAD
    assert (StepCode.JUROR_NO_SPREAD, {"juror_id": "Flat", "count": 2, "total": 7.0}) in (
        result.steps
    )


def test_aggregate_rank_panel_lower_is_better():
    # X: a 1, b 2, c 3.  Y: a and b tie at 9 -> 1.5 each, d 3.  Z: c 1, d 2, a 3.
    # a = (1 + 1.5 + 3)/3 = 11/6, b = (2 + 1.5)/2 = 1.75, c = (3 + 1)/2 = 2, d = (3 + 2)/2 = 2.5
    result = aggregate(PANEL, M.RANK)
    assert result.higher_is_better is False
    assert result.scores() == {"a": 11 / 6, "b": 1.75, "c": 2.0, "d": 2.5}
    ranking = rank_entries(result)
    assert [e.entry_id for e in ranking.entries] == ["b", "a", "c", "d"]


def test_aggregate_borda_panel_mean_points():
    # n = 3 for every juror: points = 3 - rank.
    # X: a 2, b 1, c 0.  Y: a 1.5, b 1.5, d 0.  Z: c 2, d 1, a 0.
    # a = 3.5/3, b = 2.5/2 = 1.25, c = 2/2 = 1, d = 1/2 = 0.5
    result = aggregate(PANEL, M.BORDA)
    assert result.higher_is_better is True
    assert result.scores() == {"a": 3.5 / 3, "b": 1.25, "c": 1.0, "d": 0.5}
    assert (StepCode.BORDA_POINTS, {"juror_id": "Y", "total": 9.0, "rank": 1.5, "of": 3,
                                    "points": 1.5}) in result.entry("a").steps  # fmt: skip


@pytest.mark.parametrize("method", [M.RANK, M.BORDA])
def test_aggregate_relative_methods_exclude_single_review_jurors(method):
    result = aggregate([*PANEL, Review("e", "Solo", 10)], method)
    assert result.entry("e").score is None
    assert {k: v for k, v in result.scores().items() if k != "e"} == scores(method)


@pytest.mark.parametrize("method", METHODS)
def test_aggregate_no_data_is_none_not_zero(method):
    reviews = [
        *PANEL,
        Review("drafted", "X", 0, submitted=False),  # a draft with a total: still no data
        Review("blank", "Y", None, submitted=True),  # submitted without a total
    ]
    result = aggregate(reviews, method, entries=["listed"], required_reviews=2)
    for entry_id in ("drafted", "blank", "listed"):
        entry = result.entry(entry_id)
        assert entry.score is None
        assert entry.review_count == 0
        assert EntryFlag.NO_DATA in entry.flags
        assert EntryFlag.INCOMPLETE in entry.flags
    assert (StepCode.DRAFTS_IGNORED, {"count": 1}) in result.entry("drafted").steps
    assert (StepCode.MISSING_TOTAL, {"juror_id": "Y"}) in result.entry("blank").steps


def test_aggregate_drafts_do_not_count():
    reviews = [*PANEL, Review("b", "Z", 0, submitted=False)]
    assert scores(M.MEAN, reviews) == scores(M.MEAN)


def test_aggregate_incomplete_flag():
    result = aggregate(PANEL, M.MEAN, required_reviews=3)
    assert [e.entry_id for e in result.entries if not e.complete] == ["b", "c", "d"]
    assert (StepCode.INCOMPLETE, {"count": 2, "required": 3}) in result.entry("b").steps
    assert result.entry("a").complete


def test_aggregate_duplicate_review_raises():
    with pytest.raises(ValueError, match="two submitted reviews"):
        aggregate([Review("a", "X", 1), Review("a", "X", 2)], M.MEAN)


@pytest.mark.parametrize("kwargs", [{"trim": -1}, {"required_reviews": -1}])
def test_aggregate_negative_parameters_raise(kwargs):
    with pytest.raises(ValueError):
        aggregate(PANEL, M.TRIMMED, **kwargs)


def test_aggregate_accepts_method_strings():
    assert aggregate(PANEL, "median").method is M.MEDIAN


# --- properties ---------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(panels(), st.sampled_from(METHODS), st.randoms(use_true_random=False))
def test_aggregate_invariant_to_input_order(panel, method, rnd):
    reviews, entries = panel
    shuffled = list(reviews)
    rnd.shuffle(shuffled)
    first = aggregate(reviews, method, entries=entries, required_reviews=2)
    second = aggregate(shuffled, method, entries=list(reversed(entries)), required_reviews=2)
    assert first == second
    assert rank_entries(first) == rank_entries(second)


@settings(max_examples=60, deadline=None)
@given(panels(min_jurors=2), st.data())
def test_aggregate_zscore_ignores_juror_shift(panel, data):
    reviews, _ = panel
    jurors = sorted({r.juror_id for r in reviews})
    if not jurors:
        return
    lenient = data.draw(st.sampled_from(jurors))
    shifted = [
        Review(r.entry_id, r.juror_id, r.total + 2, r.submitted) if r.juror_id == lenient else r
        for r in reviews
    ]
    before = aggregate(reviews, M.ZSCORE)
    after = aggregate(shifted, M.ZSCORE)
    for b, a in zip(before.entries, after.entries, strict=True):
        assert (b.score is None) == (a.score is None)
        if b.score is not None:
            assert a.score == pytest.approx(b.score, abs=1e-9)
    assert [(e.entry_id, e.rank) for e in rank_entries(before).entries] == [
        (e.entry_id, e.rank) for e in rank_entries(after).entries
    ]


@settings(max_examples=80, deadline=None)
@given(
    panels(drafts=False),
    st.sampled_from(MONOTONE_METHODS),
    st.data(),
    st.integers(1, 10).map(lambda n: n / 2),
)
def test_aggregate_raising_a_total_never_hurts_the_entry(panel, method, data, raise_by):
    reviews, _ = panel
    if not reviews:
        return
    index = data.draw(st.integers(0, len(reviews) - 1))
    target = reviews[index]
    raised = list(reviews)
    raised[index] = Review(target.entry_id, target.juror_id, target.total + raise_by)
    before = aggregate(reviews, method)
    after = aggregate(raised, method)
    old, new = before.entry(target.entry_id).score, after.entry(target.entry_id).score
    assert (old is None) == (new is None)
    if old is not None:
        assert new >= old - 1e-9
    if method is M.ZSCORE:
        return  # the z-score's rank is not monotone: see the counterexample below
    old_rank = rank_entries(before, tie_breaks=()).entry(target.entry_id).score_rank
    new_rank = rank_entries(after, tie_breaks=()).entry(target.entry_id).score_rank
    if old_rank is not None:
        assert new_rank <= old_rank


def test_aggregate_zscore_rank_can_drop_when_raising_a_total():
    # Raising a total raises the entry's z-score, but it also moves the juror's mean and sd,
    # which can lift another entry of the same juror even more. J: e 0, k 3.5, l 2.5
    #   mean 2, sd sqrt(6.5/3) = 1.47196:  z_e = -1.35873, z_k = 1.01905
    # J raises e to 0.5: mean 13/6, sd 1.24722:  z_e = -1.33631 (+0.022), z_k = 1.06904 (+0.050)
    # A scores e 10 and twelve other entries 0: z_e = sqrt(12) = 3.46410.
    # e = (-1.35873 + 3.46410)/2 = 1.05269 > k = 1.01905  ->  e first
    # e = (-1.33631 + 3.46410)/2 = 1.06390 < k = 1.06904  ->  k first
    base = [Review("k", "J", 3.5), Review("l", "J", 2.5), Review("e", "A", 10)]
    base += [Review(f"f{i}", "A", 0) for i in range(12)]
    before = aggregate([*base, Review("e", "J", 0)], M.ZSCORE)
    after = aggregate([*base, Review("e", "J", 0.5)], M.ZSCORE)
    assert after.entry("e").score > before.entry("e").score  # the score itself is monotone
    assert before.entry("e").score == pytest.approx(1.05269, abs=1e-5)
    assert after.entry("k").score == pytest.approx(1.06904, abs=1e-5)
    assert rank_entries(before).entries[0].entry_id == "e"
    assert rank_entries(after).entries[0].entry_id == "k"


@settings(max_examples=60, deadline=None)
@given(panels(), st.sampled_from(METHODS))
def test_aggregate_none_never_becomes_zero(panel, method):
    reviews, entries = panel
    result = aggregate(reviews, method, entries=entries)
    counted = {r.entry_id for r in reviews if r.submitted and r.total is not None}
    for entry in result.entries:
        if entry.entry_id not in counted:
            assert entry.score is None
            assert EntryFlag.NO_DATA in entry.flags
        # A score exists exactly when some value entered it.
        assert (entry.score is None) == (not entry.values)


@settings(max_examples=40, deadline=None)
@given(panels(drafts=False), st.sampled_from(METHODS))
def test_aggregate_score_within_value_range(panel, method):
    reviews, _ = panel
    for entry in aggregate(reviews, method).entries:
        if entry.score is not None:
            values = [r.value for r in entry.reviews if r.value is not None]
            assert min(values) - 1e-9 <= entry.score <= max(values) + 1e-9


def test_aggregate_big_round_every_method_runs():
    rnd = random.Random(1)
    reviews = [
        Review(e, j, rnd.randint(0, 40) / 2) for e in range(200) for j in rnd.sample(range(20), 3)
    ]
    for method in METHODS:
        result = aggregate(reviews, method, required_reviews=3)
        assert len(result.entries) == 200
        assert all(e.complete and e.score is not None for e in result.entries)


@pytest.mark.parametrize("method", METHODS)
def test_aggregate_explanations_serialise_to_json(method):
    # The service stores explanations with exports: every step must be plain JSON.
    aggregation = aggregate([*PANEL, Review("e", "Solo", 1)], method, entries=["none"])
    ranking = rank_entries(aggregation)
    steps = [*aggregation.steps, *ranking.steps]
    for entry in aggregation.entries:
        steps.extend(entry.steps)
    for entry in ranking.entries:
        steps.extend(entry.steps)
    decoded = json.loads(json.dumps(steps))
    assert decoded[0] == ["method", {"method": method.value, "trim": 1, "required_reviews": 0,
                                     "higher_is_better": method is not M.RANK}]  # fmt: skip
