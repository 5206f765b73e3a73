"""workbench.stats: paired comparisons checked against known results, refusals, planner, A/A noise, Pareto."""
from __future__ import annotations

import dataclasses
import itertools
import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

import workbench.stats as st
from workbench.errors import StatsError, UsageError, WorkbenchError
from workbench.stats import (
    ComparisonOptions,
    PointStyle,
    aa_noise,
    bootstrap_ci,
    compare_many,
    comparison_table,
    holm,
    mcnemar_exact,
    min_detectable_difference,
    pair,
    paired_comparison,
    pareto_front,
    plot_pareto,
    power_curve,
    power_paired_binary,
    power_paired_continuous,
    sample_size_paired_binary,
    sample_size_paired_continuous,
)
from workbench.stats.inference import wilcoxon_exact, wilcoxon_test


def table(n11: int, n10: int, n01: int, n00: int) -> tuple[dict[int, bool], dict[int, bool]]:
    """Paired pass/fail dicts from a 2×2 table (first index: A passed, second: B passed)."""
    cells = [(True, True)] * n11 + [(True, False)] * n10 + [(False, True)] * n01 + [(False, False)] * n00
    return {i: x for i, (x, _) in enumerate(cells)}, {i: y for i, (_, y) in enumerate(cells)}


# --- McNemar ------------------------------------------------------------------------------------------------

def test_mcnemar_exact_matches_the_textbook_table():
    # Fagerland, Lydersen & Laake (2013), BMC Med Res Methodol 13:91, Table 1 (Bentur et al. 2009):
    # discordant pairs 1 and 7 -> exact conditional p = 0.070, mid-p = 0.039.
    a, b = table(n11=9, n10=1, n01=7, n00=4)
    exact = paired_comparison(a, b)
    assert (exact.kind, exact.test, exact.b01, exact.b10) == ("binary", "mcnemar_exact", 7, 1)
    assert exact.p_value == pytest.approx(18 / 256) and round(exact.p_value, 3) == 0.070
    assert exact.p_value == pytest.approx(sps.binomtest(1, 8, 0.5).pvalue)
    midp = paired_comparison(a, b, options=ComparisonOptions(mid_p=True))
    assert midp.test == "mcnemar_midp" and round(midp.p_value, 3) == 0.039
    assert exact.odds_ratio == 7.0 and exact.odds_ratio_low < 1 < exact.odds_ratio_high
    assert exact.difference == pytest.approx(6 / 21) and not exact.significant and midp.significant


def test_mcnemar_direction_and_degenerate_cases():
    m = mcnemar_exact(np.array([0, 0, 1, 1]), np.array([1, 1, 1, 0]))
    assert (m.b01, m.b10) == (2, 1)                                  # b01: A failed, B passed
    none = mcnemar_exact(np.ones(5), np.ones(5))
    assert none.p_value == 1.0 and math.isnan(none.odds_ratio)
    assert mcnemar_exact(np.zeros(4), np.ones(4)).odds_ratio == math.inf
    a, b = table(n11=10, n10=0, n01=0, n00=10)
    same = paired_comparison(a, b)
    assert same.p_value == 1.0 and "no discordant pairs" in same.note
    assert sps.binomtest(5, 10).pvalue == pytest.approx(mcnemar_exact(np.r_[np.ones(5), np.zeros(5)],
                                                                      np.r_[np.zeros(5), np.ones(5)]).p_value)


# --- Wilcoxon -----------------------------------------------------------------------------------------------

def test_wilcoxon_matches_scipy_directly():
    rng = np.random.default_rng(3)
    a = rng.uniform(0, 1, 80)
    b = np.clip(a + rng.normal(0.05, 0.15, 80), 0, 1)
    b[:10] = a[:10]                                                   # ties: zero differences
    c = paired_comparison(dict(enumerate(a)), dict(enumerate(b)))
    ref = sps.wilcoxon(np.round(b - a, 12), zero_method="pratt")
    assert (c.kind, c.test) == ("continuous", "wilcoxon_pratt")
    assert c.p_value == pytest.approx(ref.pvalue, rel=1e-12) and c.statistic == pytest.approx(ref.statistic)
    assert c.b01 is None and c.odds_ratio is None


def test_wilcoxon_with_few_non_zero_differences_is_exact():
    d = np.zeros(150)
    d[:4] = 0.5                                   # 4 of 150 differ, all one way: 2 / 2^4
    w = wilcoxon_test(d)
    assert (w.method, w.p_value) == ("exact", pytest.approx(0.125))
    assert sps.wilcoxon(d, zero_method="pratt").pvalue < 0.05  # what the approximation said before
    c = paired_comparison(dict(enumerate(np.zeros(150))), dict(enumerate(d)), kind="continuous")
    assert c.test == "wilcoxon_exact" and not c.significant


def test_exact_wilcoxon_matches_scipy_without_ties_and_enumeration_with_ties():
    rng = np.random.default_rng(5)
    for _ in range(20):
        x = rng.normal(0.3, 1, size=int(rng.integers(3, 16)))
        assert wilcoxon_exact(x).p_value == pytest.approx(sps.wilcoxon(x, method="exact").pvalue, rel=1e-9)
    for _ in range(20):  # ties and zeros: count all 2^k sign assignments by brute force
        x = rng.integers(-3, 4, size=int(rng.integers(3, 13))).astype(float)
        nz = x[x != 0]
        if nz.size == 0:
            continue
        ranks = sps.rankdata(np.abs(nz))
        observed, centre = ranks[nz > 0].sum(), ranks.sum() / 2
        extreme = sum(abs(sum(r for r, s in zip(ranks, signs, strict=True) if s) - centre)
                      >= abs(observed - centre) - 1e-9 for signs in itertools.product((0, 1), repeat=nz.size))
        assert wilcoxon_exact(x).p_value == pytest.approx(extreme / 2 ** nz.size, rel=1e-12)


def test_exact_wilcoxon_keeps_its_level_where_pratt_does_not():
    """A/A with 150 items of which ~6 differ (+/- equally likely): the exact test rejects at most 5% of the time;
    Pratt's approximation rejected more than that on these data (the defect the exact test fixes)."""
    rng = np.random.default_rng(11)
    exact = pratt = 0
    for _ in range(2000):
        d = np.zeros(150)
        idx = rng.choice(150, size=int(rng.integers(3, 9)), replace=False)
        d[idx] = rng.choice([-1.0, 1.0], size=idx.size)
        exact += wilcoxon_test(d).p_value <= 0.05
        pratt += sps.wilcoxon(d, zero_method="pratt").pvalue <= 0.05
    assert exact / 2000 <= 0.05 < pratt / 2000


def test_wilcoxon_all_zero_differences_give_p_one_with_a_reason():
    scores = {i: i / 20 for i in range(20)}
    c = paired_comparison(scores, dict(scores), kind="continuous")
    assert c.p_value == 1.0 and not c.significant and "every paired difference is zero" in c.note
    assert (c.difference, c.ci_low, c.ci_high) == (0.0, 0.0, 0.0)
    assert c.verdict.startswith("B scores the same as A (difference 0; 95% CI 0.0 to 0.0")


# --- bootstrap ----------------------------------------------------------------------------------------------

def test_paired_bootstrap_ci_covers_the_true_difference_about_95_percent_of_the_time():
    rng = np.random.default_rng(2024)
    true_diff, reps, covered = 0.05, 200, 0
    for r in range(reps):
        a = rng.uniform(0, 1, 100)
        d = rng.normal(true_diff, 0.2, 100)                           # per-sample effect, noisy
        lo, hi = bootstrap_ci((a + d) - a, n_boot=1_000, seed=r)
        covered += lo <= true_diff <= hi
    assert 0.90 <= covered / reps <= 0.99                             # binomial sd at 0.95, 200 reps: 0.015


def test_bootstrap_is_seeded_and_chunked_draws_agree():
    d = np.random.default_rng(0).normal(0.1, 1, 150)
    assert bootstrap_ci(d, seed=7) == bootstrap_ci(d, seed=7) != bootstrap_ci(d, seed=8)
    big = np.random.default_rng(1).normal(0.1, 1, 5_000)              # 10k × 5k draws: several chunks
    lo, hi = bootstrap_ci(big, n_boot=2_000)
    se = big.std(ddof=1) / math.sqrt(big.size)
    assert lo == pytest.approx(big.mean() - 1.96 * se, abs=0.3 * se)
    assert hi == pytest.approx(big.mean() + 1.96 * se, abs=0.3 * se)
    with pytest.raises(UsageError):
        bootstrap_ci(d, ci=1.5)


# --- refusals and missing values ----------------------------------------------------------------------------

def test_refuses_too_few_pairs_with_a_typed_error():
    a, b = table(n11=3, n10=2, n01=3, n00=1)                          # 9 pairs
    with pytest.raises(StatsError) as err:
        paired_comparison(a, b)
    assert isinstance(err.value, WorkbenchError) and err.value.code == "insufficient_data"
    assert "only 9 paired samples" in str(err.value) and err.value.hint
    assert paired_comparison(a, b, options=ComparisonOptions(min_pairs=5)).n_pairs == 9


def test_refuses_when_nothing_is_paired():
    with pytest.raises(StatsError, match="nothing to compare") as err:
        paired_comparison({str(i): 1.0 for i in range(20)}, {i: 1.0 for i in range(20)})
    assert err.value.code == "insufficient_data" and "'7' vs 7" in err.value.hint
    with pytest.raises(StatsError, match="nothing to compare"):
        paired_comparison({i: None for i in range(20)}, {i: 1.0 for i in range(20)})


def test_missing_values_are_dropped_pairwise_and_counted_never_zero():
    a = {i: 1.0 for i in range(30)} | {30: None, 31: float("nan"), 32: 1.0, "only_a": 1.0}
    b = {i: 1.0 for i in range(30)} | {30: 0.0, 31: 0.0, 32: np.nan, "only_b1": 0.0, "only_b2": None}
    c = paired_comparison(a, b)
    assert (c.n_pairs, c.n_missing_a, c.n_missing_b, c.n_dropped) == (30, 2, 1, 3)
    assert (c.n_unpaired_a, c.n_unpaired_b) == (1, 2)
    assert c.mean_a == c.mean_b == 1.0                               # a missing value was not scored 0
    assert "Not compared: 3 pairs with a missing value, 3 unpaired ids." in c.verdict


def test_pandas_series_input_with_nan_and_na():
    ids = [f"q{i}" for i in range(40)]
    a = pd.Series([i % 3 == 0 for i in range(40)], index=ids, dtype=object)
    b = pd.Series([True] * 40, index=ids, dtype=object)
    a.iloc[0], b.iloc[1], b.iloc[2] = None, pd.NA, np.nan
    c = paired_comparison(a, b, name_a="old", name_b="new")
    assert (c.n_pairs, c.n_dropped, c.kind) == (37, 3, "binary")
    p = pair(a, b)
    assert p.ids[0] == "q3" and len(p.a) == 37
    with pytest.raises(StatsError, match="duplicate sample ids") as err:
        paired_comparison(pd.Series([1.0, 0.0], index=["x", "x"]), b)
    assert err.value.code == "invalid_values"


def test_kind_is_checked_and_values_must_be_scores():
    a, b = table(n11=10, n10=3, n01=5, n00=2)
    assert paired_comparison({k: int(v) for k, v in a.items()}, b).kind == "binary"
    assert paired_comparison(a, b, kind="continuous").test == "wilcoxon_exact"  # 8 non-zero differences
    graded = {i: 0.5 for i in range(20)}
    with pytest.raises(StatsError) as err:
        paired_comparison(graded, graded, kind="binary")
    assert err.value.code == "invalid_values"
    with pytest.raises(StatsError, match="is not a score"):
        paired_comparison({i: "pass" for i in range(20)}, graded)
    with pytest.raises(StatsError, match="unknown kind"):
        paired_comparison(graded, graded, kind="ordinal")


# --- the Comparison record ----------------------------------------------------------------------------------

def test_verdict_record_dict_and_html():
    a, b = table(n11=90, n10=4, n01=16, n00=40)                       # 150 pairs, B +8 points
    c = paired_comparison(a, b, name_a="baseline", name_b="<rerank>")
    assert c.significant and c.p_value == pytest.approx(2 * sps.binom.cdf(4, 20, 0.5))
    assert c.verdict == (f"<rerank> is better than baseline by 8.0 points (95% CI {c.ci_low * 100:.1f} to "
                         f"{c.ci_high * 100:.1f}; McNemar p = {c.p_value:.3f}, 150 paired samples): "
                         "the difference is significant.")
    assert c.ci_low < 0.08 < c.ci_high and c.discordance == pytest.approx(20 / 150)
    d = c.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["significant"] is True and d["verdict"] == c.verdict and d["b01"] == 16
    html = c._repr_html_()
    assert "&lt;rerank&gt;" in html and "<rerank>" not in html and "16 / 4" in html
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.p_value = 0.5  # type: ignore[misc]


def test_not_significant_verdict_says_what_to_do():
    a, b = table(n11=90, n10=8, n01=11, n00=41)
    c = paired_comparison(a, b)
    assert not c.significant
    assert c.verdict.startswith("B scores 2.0 points higher than A (95% CI ")
    assert c.verdict.endswith("not significant does not mean equivalent.") and not c.equivalent
    assert "inconclusive: about " in c.verdict and c.more_items_needed > 0
    # 4-0 discordant on 10 items (CI 10 to 70 points) was read as "equivalent" before
    small = paired_comparison(dict(enumerate([0] * 10)), dict(enumerate([1] * 4 + [0] * 6)))
    assert not small.significant and not small.equivalent and small.more_items_needed == 4  # 6-0 of 14: p 0.031
    worse = paired_comparison(b, a, name_a="new", name_b="old")
    assert worse.verdict.startswith("old scores 2.0 points lower than new")


def test_equivalence_needs_tost_within_the_margin():
    rng = np.random.default_rng(2)
    a = {i: float(x) for i, x in enumerate(rng.random(300))}
    b = {i: v + float(rng.normal(0, 0.05)) for i, v in a.items()}
    c = paired_comparison(a, b, kind="continuous")
    assert c.equivalent and -0.05 < c.tost_low < c.tost_high < 0.05 and c.more_items_needed is None
    assert "no meaningful difference: the equivalence test (TOST, 90% interval" in c.verdict
    tight = paired_comparison(a, b, kind="continuous", options=ComparisonOptions(equivalence_margin=0.001))
    assert not tight.equivalent and "inconclusive" in tight.verdict
    same = paired_comparison(a, dict(a), kind="continuous")
    assert same.equivalent and c.to_dict()["equivalent"] is True


def test_verdict_off_the_unit_scale_uses_raw_units():
    rng = np.random.default_rng(5)
    lat = rng.uniform(100, 200, 50)
    c = paired_comparison(dict(enumerate(lat)), dict(enumerate(lat + 20 + rng.normal(0, 5, 50))))
    assert not c.points and c.verdict.startswith(f"B is better than A by {c.difference:.3g} (95% CI ")
    assert "points" not in c.verdict


# --- many variants ------------------------------------------------------------------------------------------

def test_holm_on_textbook_examples():
    # Wikipedia, "Holm–Bonferroni method", example: H4 and H1 rejected at 0.05, H2 and H3 not.
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    # R: p.adjust(c(0.01, 0.02, 0.03, 0.04, 0.05), "holm")
    assert holm([0.01, 0.02, 0.03, 0.04, 0.05]) == pytest.approx([0.05, 0.08, 0.09, 0.09, 0.09])
    assert holm([0.5, 0.9]) == [1.0, 1.0] and holm([]) == [] and holm([0.7]) == [0.7]
    with pytest.raises(UsageError):
        holm([float("nan")])


def test_compare_many_corrects_and_can_remove_significance():
    base, x = table(n11=60, n10=5, n01=16, n00=69)                    # raw p ≈ 0.027
    _, y = table(n11=60, n10=5, n01=15, n00=70)                       # raw p ≈ 0.041
    res = compare_many({"base": base, "x": x, "y": y}, "base", options=ComparisonOptions(n_boot=2_000))
    raw = [c.p_value for c in res]
    assert all(p < 0.05 for p in raw)
    assert [c.p_adjusted for c in res] == pytest.approx(holm(raw))
    assert not any(c.significant for c in res) and "Holm-adjusted p = 0.053" in res[0].verdict
    assert res[0].correction == "holm (2 comparisons)" and [c.name_b for c in res] == ["x", "y"]
    frame = comparison_table(res)
    assert list(frame.index) == ["x", "y"] and frame.loc["x", "b01"] == 16
    assert frame.loc["y", "p_adjusted"] == pytest.approx(res[1].p_adjusted)
    assert list(frame.columns) == list(st.multiple.TABLE_COLUMNS[1:])
    with pytest.raises(StatsError) as err:
        compare_many({"x": x}, "base")
    assert err.value.code == "unknown_variant"


# --- planning -----------------------------------------------------------------------------------------------

def test_mcnemar_sample_size_matches_published_values():
    # Connor (1987) formula; powerandsamplesize.com "McNemar Z-test, 2-sided" example: p01=0.45, p10=0.05,
    # alpha 0.05, power 0.8 -> 23 pairs.
    assert sample_size_paired_binary(0.5, 0.9, discordance=0.5) == 23
    # discordant proportion 0.45, difference 0.15 (discordant odds ratio 2) -> 155 pairs, power 80.1 %.
    assert sample_size_paired_binary(0.5, 0.65, discordance=0.45) == 155
    assert power_paired_binary(155, 0.5, 0.65, discordance=0.45) == pytest.approx(0.801, abs=0.001)
    # the default discordance assumes independent failures
    assert sample_size_paired_binary(0.7, 0.8) == sample_size_paired_binary(0.7, 0.8, discordance=0.38) == 296
    with pytest.raises(UsageError, match="impossible"):
        sample_size_paired_binary(0.5, 0.7, discordance=0.1)           # less discordance than the difference


def test_paired_t_sample_size_matches_gpower():
    # G*Power 3.1, "t tests - means: difference between two dependent means (matched pairs)", a priori,
    # dz = 0.5, two-tailed, alpha 0.05, power 0.80 -> total sample size 34 (actual power 0.808).
    assert sample_size_paired_continuous(0.5, 1.0) == 34
    assert power_paired_continuous(34, 0.05, 0.1) == pytest.approx(0.808, abs=0.001)
    n = sample_size_paired_continuous(0.04, 0.2)
    assert power_paired_continuous(n, 0.04, 0.2) >= 0.8 > power_paired_continuous(n - 1, 0.04, 0.2)


def test_min_detectable_difference_inverts_the_sample_size():
    for n in (100, 150, 200):
        mdd = min_detectable_difference(n, p_a=0.7)
        assert sample_size_paired_binary(0.7, 0.7 + mdd) - n in (0, 1)      # ceil at the boundary
        assert power_paired_binary(n, 0.7, 0.7 + mdd) == pytest.approx(0.8, abs=1e-6)
        t = min_detectable_difference(n, sd_diff=0.2)
        assert power_paired_continuous(n, t, 0.2) == pytest.approx(0.8, abs=1e-6)
    assert min_detectable_difference(100, p_a=0.7) > min_detectable_difference(200, p_a=0.7)
    assert min_detectable_difference(150, p_a=0.7, discordance=0.15) < min_detectable_difference(150, p_a=0.7)
    assert math.isnan(min_detectable_difference(10, p_a=0.7))         # nothing detectable with 10 pairs
    with pytest.raises(UsageError):
        min_detectable_difference(100)


def test_power_curve_rows():
    rows = power_curve(p_a=0.7, ns=[100, 150, 200], differences=[0.05, 0.1])
    assert len(rows) == 6 and set(rows[0]) == {"n", "difference", "power", "kind"}
    frame = pd.DataFrame(rows).pivot(index="n", columns="difference", values="power")
    assert (frame.diff().dropna() > 0).all().all() and (frame[0.1] > frame[0.05]).all()
    cont = power_curve(sd_diff=0.2, ns=[50, 100], differences=[0.05])
    assert [r["kind"] for r in cont] == ["continuous"] * 2 and cont[1]["power"] > cont[0]["power"]


# --- A/A noise ----------------------------------------------------------------------------------------------

def test_aa_identical_runs_have_zero_noise():
    run = {i: i % 4 != 0 for i in range(50)}
    r = aa_noise([run, dict(run), dict(run)])
    assert (r["per_sample_sd"], r["mean_abs_diff"], r["noise_floor"], r["run_mean_spread"]) == (0, 0, 0, 0)
    assert r["agreement"] == r["unanimous"] == 1.0 and r["kind"] == "binary" and r["n_runs"] == 3


def test_aa_noise_of_a_flipping_judge():
    rng = np.random.default_rng(11)
    truth = rng.random(200) < 0.7
    runs = [{i: bool(v != (rng.random() < 0.1)) for i, v in enumerate(truth)} for _ in range(3)]
    runs[0][5] = None                                                 # unmeasured in one run: dropped
    r = aa_noise(runs)
    assert (r["n_samples"], r["n_dropped"]) == (199, 1)
    assert 0.78 < r["agreement"] < 0.88                               # two independent 10 % flips: ~0.82
    assert r["mean_abs_diff"] == pytest.approx(1 - r["agreement"])
    assert 0.02 < r["noise_floor"] < 0.12 and "re-run noise" in r["summary"]
    scores = [{i: float(v) for i, v in enumerate(rng.random(30))} for _ in range(2)]
    cont = aa_noise(scores)
    assert cont["kind"] == "continuous" and cont["agreement"] is None and cont["per_sample_sd"] > 0


def test_aa_noise_refuses_one_run_or_too_few_samples():
    with pytest.raises(StatsError):
        aa_noise([{1: True}])
    with pytest.raises(StatsError, match="only 3 samples"):
        aa_noise([{i: 1.0 for i in range(3)}, {i: 1.0 for i in range(5)}])


# --- Pareto -------------------------------------------------------------------------------------------------

def test_pareto_front_hand_example():
    rows = [
        {"variant": "small", "quality": 0.60, "cost": 1.0, "latency": 100},    # cheapest: front
        {"variant": "medium", "quality": 0.75, "cost": 2.0, "latency": 200},   # front
        {"variant": "bloated", "quality": 0.70, "cost": 3.0, "latency": 300},  # dominated by medium
        {"variant": "large", "quality": 0.85, "cost": 8.0, "latency": 500},    # best quality: front
        {"variant": "fast", "quality": 0.60, "cost": 1.0, "latency": 50},      # dominates small (faster)
        {"variant": "twin", "quality": 0.85, "cost": 8.0, "latency": 500},     # identical to large: front
        {"variant": "broken", "quality": None, "cost": 0.1, "latency": 10},    # unmeasured: never on front
    ]
    assert pareto_front(rows) == [False, True, False, True, True, True, False]
    assert pareto_front(pd.DataFrame(rows), maximise=("quality",), minimise=("cost",)) == [
        True, True, False, True, True, True, False]
    with pytest.raises(UsageError, match="no row has a 'price' column"):
        pareto_front(rows, minimise=("price",))


def test_plot_pareto_draws_the_front_as_steps():
    from matplotlib.figure import Figure

    df = pd.DataFrame({"variant": ["a", "b", "c", "d"], "quality": [0.6, 0.75, 0.7, 0.85],
                       "cost": [1.0, 2.0, 3.0, 8.0], "latency": [100, 200, 300, 500]})
    ax = Figure().subplots()
    assert plot_pareto(df, style=PointStyle(size="latency"), ax=ax) is ax
    step = next(line for line in ax.get_lines() if line.get_label().startswith("Pareto front"))
    assert list(step.get_xdata()) == [1.0, 2.0, 8.0] and list(step.get_ydata()) == [0.6, 0.75, 0.85]
    assert not ax.texts and "lower is better" in ax.get_xlabel()  # points are named in the legend, not on the data
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["a", "b", "c", "d", "Pareto front (outlined)"]


def test_plot_pareto_colours_a_variant_by_its_tier_and_marks_its_prompt():
    from matplotlib.colors import to_hex
    from matplotlib.figure import Figure

    from workbench._util.figures import TIER_COLOURS

    df = pd.DataFrame({"variant": ["p@v1 · small", "p@v2 · small", "p@v2 · large"], "quality": [0.6, 0.7, 0.8],
                       "cost": [1.0, 1.1, 5.0], "latency": [10, 20, 30]})
    ax = plot_pareto(df, style=PointStyle(colour="latency", colour_label="latency (ms)"), ax=Figure().subplots())
    assert any(a.get_ylabel() == "latency (ms)" for a in ax.figure.axes)  # the colour bar says its unit
    ax = plot_pareto(df, ax=Figure().subplots())
    dots = [c for c in ax.collections if c.get_label() in set(df.variant)]
    assert [to_hex(c.get_facecolor()[0]) for c in dots] == [TIER_COLOURS["small"]] * 2 + [TIER_COLOURS["large"]]
    assert dots[0].get_paths()[0] != dots[1].get_paths()[0] or len(dots[0].get_paths()[0].vertices) != len(
        dots[1].get_paths()[0].vertices)  # v1 and v2: two markers


# --- packaging ----------------------------------------------------------------------------------------------

def test_exports_resolve_and_import_stays_light():
    for name in st.__all__:
        assert getattr(st, name) is not None, name
    code = ("import sys, workbench, workbench.stats; "
            "mods = ('workbench.stats.comparison', 'numpy', 'scipy', 'pandas', 'matplotlib'); "
            "print(' '.join(m for m in mods if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""
