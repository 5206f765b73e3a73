"""Rates: Wilson and Newcombe score intervals, Fisher's exact test, and the production A/B using them (the
percentile bootstrap recommended a roll back on 4 failures in 100 against 0 in 100, where Fisher's p is 0.12)."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from workbench.errors import UsageError
from workbench.monitoring.ab import bootstrap_difference, recommend
from workbench.stats import fisher_exact_p, newcombe_interval, rate_difference, wilson_interval


def test_wilson_matches_scipy_and_reference_values():
    for k, n in [(0, 10), (1, 10), (4, 100), (50, 100), (100, 100), (3, 7)]:
        ref = sps.binomtest(k, n).proportion_ci(method="wilson")
        assert wilson_interval(k, n) == pytest.approx((ref.low, ref.high), abs=1e-12)
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(UsageError):
        wilson_interval(5, 3)


def test_newcombe_matches_the_published_example():
    # Newcombe (1998), Table II, example (e): 56/70 vs 48/80, method 10: 0.0524 to 0.3339
    lo, hi = newcombe_interval(48, 80, 56, 70)
    assert (round(lo, 4), round(hi, 4)) == (0.0524, 0.3339)


def test_rare_failures_are_not_a_significant_difference():
    control, candidate = [0] * 100, [1] * 4 + [0] * 96
    r = rate_difference(control, candidate)
    assert r["p_value"] == pytest.approx(sps.fisher_exact([[0, 100], [4, 96]]).pvalue) and r["p_value"] > 0.1
    assert r["ci_low"] < 0 < r["ci_high"]
    assert bootstrap_difference(control, candidate)["ci_low"] > 0  # what the A/B used before: "significant"
    quality = rate_difference([1] * 80 + [0] * 20, [1] * 80 + [0] * 20)
    assert recommend({"quality": quality, "error_rate": r})[0] != "roll back"


def test_coverage_of_newcombe_holds_for_rare_rates():
    rng = np.random.default_rng(0)
    covered = 0
    for _ in range(2000):
        a, b = rng.random(100) < 0.02, rng.random(100) < 0.05
        lo, hi = newcombe_interval(int(a.sum()), 100, int(b.sum()), 100)
        covered += lo <= 0.03 <= hi
    assert covered / 2000 >= 0.93


def test_rate_difference_refuses_non_binary_values():
    with pytest.raises(UsageError):
        rate_difference([0.5, 1], [1, 0])
    assert fisher_exact_p(0, 10, 0, 10) == 1.0


def test_monitoring_reports_rates_with_intervals_and_tests_drops_exactly():
    from workbench.monitoring.ops import summarise
    from workbench.monitoring.quality import RowScore, quality

    rows = [{"id": i, "variant": "a", "status": "failed" if i < 3 else "ok", "latency_ms": 5.0, "cost_usd": 0.0,
             "cache": "miss", "fallback": False, "degraded": False, "escalated": False, "ts": float(i)}
            for i in range(60)]
    ops = summarise(rows, 60.0)
    assert ops["error_rate"] == 0.05 and ops["error_rate_ci"] == pytest.approx(list(wilson_interval(3, 60)))
    window = [{**r, "id": i} for i, r in enumerate(rows)]
    base = [{**r, "id": 100 + i} for i, r in enumerate(rows)]
    scores = {i: RowScore(i % 10 != 0) for i in range(60)} | {100 + i: RowScore(True) for i in range(60)}
    q = quality(window, scores, threshold=0.5, baseline=base)
    assert q["pass_rate_ci"] == pytest.approx(list(wilson_interval(54, 60)))
    assert q["baseline"]["test"] == "fisher_exact"
    assert q["baseline"]["p_value"] == pytest.approx(sps.fisher_exact([[60, 0], [54, 6]]).pvalue)
