"""Decisions checked by simulation, small and seeded (benchmarks/decisions.py runs them at full scale): the power
planner counts the comparisons Holm corrects for, and agrees with simulation within 5 points for 1 and 6
candidates, where the uncorrected plan does not."""
from __future__ import annotations

import numpy as np
import pytest

from workbench.errors import UsageError
from workbench.stats import (
    Draws,
    TestLevel,
    holm,
    holm_adjust,
    min_detectable_difference,
    per_test_alpha,
    power_paired_binary,
    sample_size_paired_binary,
    simulated_aa_false_positives,
    simulated_power_binary,
)

P_A, N = 0.7, 200


@pytest.mark.parametrize("k", [1, 6])
def test_planner_and_simulation_agree_for_one_and_six_candidates(k):
    level = TestLevel(0.05, comparisons=k)
    delta = min_detectable_difference(N, p_a=P_A, alpha=level)
    planned = power_paired_binary(N, P_A, P_A + delta, alpha=level)
    simulated = simulated_power_binary(N, P_A, P_A + delta, alpha=level, draws=Draws(4000, seed=k))
    assert planned == pytest.approx(0.8, abs=1e-6)
    assert abs(simulated.rate - planned) <= 0.05, simulated


def test_an_uncorrected_plan_for_six_candidates_falls_short():
    delta = min_detectable_difference(N, p_a=P_A)  # planned as if there were one comparison
    simulated = simulated_power_binary(N, P_A, P_A + delta, alpha=TestLevel(comparisons=6), draws=Draws(4000, 3))
    assert simulated.high < 0.7  # measured ~0.52: the defect the corrected planner fixes


def test_more_comparisons_need_more_samples():
    assert sample_size_paired_binary(0.7, 0.8) == 296
    six, three = TestLevel(comparisons=6), TestLevel(comparisons=3)
    assert sample_size_paired_binary(0.7, 0.8, alpha=six) > sample_size_paired_binary(0.7, 0.8, alpha=three) > 296
    assert sample_size_paired_binary(0.7, 0.8, alpha=TestLevel(comparisons=6, correction="none")) == 296
    assert per_test_alpha(TestLevel(0.05, 6, "bonferroni")) == per_test_alpha(six) == pytest.approx(0.05 / 6)
    assert per_test_alpha(0.01) == 0.01
    with pytest.raises(UsageError):
        per_test_alpha(TestLevel(0.05, 0))
    with pytest.raises(UsageError):
        per_test_alpha(TestLevel(0.05, 2, "sidak-ish"))


@pytest.mark.parametrize("k", [1, 6])
def test_aa_false_positive_rate_stays_at_alpha_under_holm(k):
    rate = simulated_aa_false_positives(N, P_A, alpha=TestLevel(comparisons=k), draws=Draws(4000, 10 + k))
    assert rate.rate <= 0.05 and rate.low < 0.05
    if k == 6:  # without the correction, six A/A comparisons find "something" far more often
        raw = simulated_aa_false_positives(N, P_A, alpha=TestLevel(comparisons=6, correction="none"),
                                           draws=Draws(4000, 16))
        assert raw.low > 0.1


def test_vectorised_holm_matches_the_reference():
    rng = np.random.default_rng(0)
    for _ in range(50):
        p = rng.random(6) ** 2
        assert holm_adjust(p[None, :])[0] == pytest.approx(holm(list(p)))
