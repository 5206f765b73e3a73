"""The production A/B as one sequential experiment (workbench.monitoring.ab, workbench.stats.sequential), simulated
small with fixed seeds (benchmarks/decisions.py runs the same at full scale): under A/A, 20 looks make a false
"promote" or "roll back" in at most 5 % of experiments, where the fixed-sample intervals it replaced, looked at 10
times, do not; a planted effect of the declared minimum size is found by the planned horizon in at least 80 %;
and repeated `monitor` runs continue one experiment from its stored state."""
from __future__ import annotations

import numpy as np
import pytest

from workbench.monitoring.ab import ABRules, ab
from workbench.monitoring.simulate import simulate_ab_rows
from workbench.stats import rate_difference
from workbench.stats.sequential import (
    confidence_sequence,
    planned_horizon,
    stream_sd,
    tuned_rho,
    weighted_stream,
)

RULES = ABRules(min_effect=0.15)  # a large declared effect keeps the simulated experiments short
RUNS = 60
SPLIT = {"ctrl": 0.51, "cand": 0.49}


def stream(seed: int, n: int, p_control: float, p_candidate: float):
    return simulate_ab_rows(seed, n, pass_rates=(p_control, p_candidate), share=SPLIT["cand"])


def horizon() -> int:
    sd = stream_sd(RULES.planning_rate, RULES.planning_rate + RULES.min_effect, 0.49)
    return planned_horizon(RULES.min_effect, sd, RULES.alpha / 3)


def outcome(rows, scores, looks: int) -> str:
    state: dict = {}
    for t in np.linspace(len(rows) / looks, len(rows), looks).astype(int):
        ab(rows[:t], scores, SPLIT, rules=RULES, state=state)
    assert state["control"] == "ctrl"
    decision = state["candidates"]["cand"]["decision"]
    return decision["outcome"] if decision else "continue"


def test_aa_over_twenty_looks_rarely_decides_wrongly():
    outcomes = [outcome(*stream(100 + i, horizon(), 0.8, 0.8), looks=20) for i in range(RUNS)]
    wrong = sum(o in ("promote", "roll back") for o in outcomes)
    assert wrong / RUNS <= 0.05, outcomes


def test_uncorrected_fixed_sample_intervals_over_ten_looks_break_the_bound():
    """What the A/B did before, in spirit: a 95 % interval per criterion at each look, no correction."""
    wrong = 0
    for i in range(RUNS * 3):
        rows, scores = stream(200 + i, 2000, 0.8, 0.8)
        for t in np.linspace(200, 2000, 10).astype(int):
            a = [r for r in rows[:t] if r["variant"] == "ctrl"]
            b = [r for r in rows[:t] if r["variant"] == "cand"]
            q = rate_difference([int(scores[r["id"]].passed) for r in a], [int(scores[r["id"]].passed) for r in b])
            e = rate_difference([int(r["status"] == "failed") for r in a], [int(r["status"] == "failed") for r in b])
            if q["ci_low"] > 0 or q["ci_high"] < 0 or e["ci_low"] > 0:
                wrong += 1
                break
    assert wrong / (RUNS * 3) > 0.10  # measured ~0.2; the sequential A/B stays under 0.05


def test_a_planted_minimum_effect_is_found_by_the_horizon():
    outcomes = [outcome(*stream(400 + i, horizon(), 0.8, 0.8 + RULES.min_effect), looks=20) for i in range(RUNS)]
    assert sum(o == "promote" for o in outcomes) / RUNS >= 0.8, outcomes


def test_a_worse_candidate_is_rolled_back_with_an_alert_and_the_decision_sticks():
    rows, scores = stream(4, 3000, 0.85, 0.55)
    state: dict = {}
    section, alerts = ab(rows[:1500], scores, {"ctrl": 0.9, "cand": 0.1}, rules=RULES, state=state)
    comp = section["comparisons"]["cand"]
    assert comp["recommendation"] == "roll back" and [a.kind for a in alerts] == ["ab_rollback"]
    assert comp["quality"]["method"] == "asymptotic confidence sequence" and comp["share"] == pytest.approx(0.1)
    later, _ = ab(rows, scores, {"ctrl": 0.9, "cand": 0.1}, rules=RULES, state=state)
    assert later["comparisons"]["cand"]["look"] == 2 and "decided at look 1" in later["comparisons"]["cand"]["reason"]


def test_too_little_data_continues_with_the_planned_horizon():
    rows, scores = stream(5, 40, 0.8, 0.8)
    section, alerts = ab(rows, scores, SPLIT, rules=RULES)
    comp = section["comparisons"]["cand"]
    assert comp["recommendation"] == "continue" and "needs 30 sampled outputs" in comp["reason"] and not alerts
    assert comp["horizon_scored"] == horizon()


def test_confidence_sequence_math():
    rng = np.random.default_rng(6)
    x = rng.normal(0.1, 1, 5000)
    rho = tuned_rho(5000, 1.0, 0.05)
    cs = confidence_sequence(x, alpha=0.05, rho=rho)
    assert cs.low < 0.1 < cs.high and cs.n == 5000
    fixed = 1.96 / np.sqrt(5000)
    assert 1.5 * fixed < (cs.high - cs.low) / 2 < 3 * fixed  # wider than one look's interval: the price of peeking
    w = weighted_stream([1, 1, 0, 1], [True, False, True, False], 0.25)
    assert list(w) == [4.0, -4 / 3, 0.0, -4 / 3]
    assert confidence_sequence([1.0], alpha=0.05, rho=rho).low == -np.inf
