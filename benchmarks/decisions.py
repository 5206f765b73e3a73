"""Do the decisions hold their promises? One table, each figure a rate over simulated experiments with its 95 %
Wilson interval (tests/test_decisions.py and tests/test_sequential_ab.py run the same simulations small, seeded).

Rows:
- A/A, one comparison (McNemar exact, 200 pairs, 70 % pass rate): false positives, target ≤ 5 %;
- A/A, 6 candidates under Holm: any false positive, target ≤ 5 % (and without the correction, for contrast);
- A/A, continuous scores with many ties (graded judge scores, 150 items, ~6 differing): the signed-rank test, exact
  below 26 non-zero differences (target ≤ 5 %), and Pratt's approximation it replaced;
- A/A production A/B, 20 looks (sequential, the shipped ``ABRules`` but a 5-point effect): any false promote or roll
  back, target ≤ 5 %; fixed-sample 95 % intervals looked at 10 times, for contrast;
- planted effect of the declared minimum size in the sequential A/B: promoted by the planned horizon, target ≥ 80 %;
- power against the planner at the minimum detectable difference (200 pairs): 1 and 6 candidates, target within
  ±5 points of the planned 80 %; an uncorrected 6-candidate plan, for contrast.

    python benchmarks/decisions.py            # ~2 minutes
    python benchmarks/decisions.py --quick    # fewer runs
"""
from __future__ import annotations

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from scipy import stats as sps

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from workbench.monitoring.ab import ABRules, ab  # noqa: E402
from workbench.monitoring.simulate import simulate_ab_rows  # noqa: E402
from workbench.stats import (  # noqa: E402
    Draws,
    TestLevel,
    min_detectable_difference,
    rate_difference,
    simulated_aa_false_positives,
    simulated_power_binary,
    wilcoxon_test,
    wilson_interval,
)
from workbench.stats.sequential import planned_horizon, stream_sd  # noqa: E402

SPLIT = {"ctrl": 0.51, "cand": 0.49}


def row(name: str, hits: int, runs: int, target: str) -> dict:
    lo, hi = wilson_interval(hits, runs)
    return {"figure": name, "rate": hits / runs, "low": lo, "high": hi, "runs": runs, "target": target}


def continuous_aa(runs: int, seed: int) -> tuple[int, int]:
    rng = np.random.default_rng(seed)
    exact = pratt = 0
    for _ in range(runs):
        d = np.zeros(150)
        idx = rng.choice(150, size=int(rng.integers(3, 9)), replace=False)
        d[idx] = rng.choice([-0.25, 0.25, -0.5, 0.5], size=idx.size)
        exact += wilcoxon_test(d).p_value <= 0.05
        pratt += sps.wilcoxon(d, zero_method="pratt").pvalue <= 0.05
    return exact, pratt


def sequential_outcome(rows, scores, rules: ABRules, looks: int) -> str:
    state: dict = {}
    for t in np.linspace(len(rows) / looks, len(rows), looks).astype(int):
        ab(rows[:t], scores, SPLIT, rules=rules, state=state)
    decision = state["candidates"]["cand"]["decision"]
    return decision["outcome"] if decision else "continue"


def fixed_looks_wrong(rows, scores, looks: int) -> bool:
    for t in np.linspace(len(rows) / looks, len(rows), looks).astype(int):
        a = [r for r in rows[:t] if r["variant"] == "ctrl"]
        b = [r for r in rows[:t] if r["variant"] == "cand"]
        q = rate_difference([int(scores[r["id"]].passed) for r in a], [int(scores[r["id"]].passed) for r in b])
        e = rate_difference([int(r["status"] == "failed") for r in a], [int(r["status"] == "failed") for r in b])
        if q["ci_low"] > 0 or q["ci_high"] < 0 or e["ci_low"] > 0:
            return True
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer simulated experiments")
    parser.add_argument("--json", type=Path, help="write the table here")
    args = parser.parse_args(argv)
    runs, ab_runs = (4000, 60) if args.quick else (20000, 300)
    started = time.perf_counter()
    table = []
    n, p_a = 200, 0.7
    aa1 = simulated_aa_false_positives(n, p_a, draws=Draws(runs, 1))
    table.append(row("A/A, 1 comparison: false positives", round(aa1.rate * runs), runs, "<= 5%"))
    aa6 = simulated_aa_false_positives(n, p_a, alpha=TestLevel(comparisons=6), draws=Draws(runs, 2))
    table.append(row("A/A, 6 candidates, Holm: any false positive", round(aa6.rate * runs), runs, "<= 5%"))
    raw6 = simulated_aa_false_positives(n, p_a, alpha=TestLevel(comparisons=6, correction="none"),
                                        draws=Draws(runs, 3))
    table.append(row("  (the same, uncorrected)", round(raw6.rate * runs), runs, "contrast"))
    c_runs = runs // 4
    exact, pratt = continuous_aa(c_runs, seed=4)
    table.append(row("A/A, continuous, few non-zero diffs: exact signed-rank", exact, c_runs, "<= 5%"))
    table.append(row("  (Pratt's approximation, replaced)", pratt, c_runs, "contrast"))

    rules = ABRules()  # the shipped rules: a 5-point minimum effect at an 80 % pass rate
    sd = stream_sd(rules.planning_rate, rules.planning_rate + rules.min_effect, SPLIT["cand"])
    horizon = planned_horizon(rules.min_effect, sd, rules.alpha / 3)
    aa = [sequential_outcome(*simulate_ab_rows(1000 + i, horizon, pass_rates=(0.8, 0.8)), rules, looks=20)
          for i in range(ab_runs)]
    table.append(row(f"A/A production A/B, 20 looks to {horizon} outputs: false promote/roll back",
                     sum(o in ("promote", "roll back") for o in aa), ab_runs, "<= 5%"))
    fixed = [fixed_looks_wrong(*simulate_ab_rows(2000 + i, horizon, pass_rates=(0.8, 0.8)), looks=10)
             for i in range(ab_runs)]
    table.append(row("  (fixed-sample 95% intervals, 10 looks)", sum(fixed), ab_runs, "contrast"))
    planted = [sequential_outcome(*simulate_ab_rows(3000 + i, horizon, pass_rates=(0.8, 0.8 + rules.min_effect)),
                                  rules, looks=20) for i in range(ab_runs)]
    table.append(row(f"planted +{rules.min_effect:.0%} in the A/B: promoted by the horizon",
                     sum(o == "promote" for o in planted), ab_runs, ">= 80%"))

    for k in (1, 6):
        delta = min_detectable_difference(n, p_a=p_a, alpha=TestLevel(comparisons=k))
        sim = simulated_power_binary(n, p_a, p_a + delta, alpha=TestLevel(comparisons=k), draws=Draws(runs, 10 + k))
        table.append(row(f"power at the planned MDD ({delta:.3f}), {k} candidate(s): planned 80%",
                         round(sim.rate * runs), runs, "80% +/- 5"))
    delta = min_detectable_difference(n, p_a=p_a)
    sim = simulated_power_binary(n, p_a, p_a + delta, alpha=TestLevel(comparisons=6), draws=Draws(runs, 20))
    table.append(row("  (6 candidates planned as 1: planned 80%)", round(sim.rate * runs), runs, "contrast"))

    width = max(len(r["figure"]) for r in table)
    print(f"{'figure':<{width}}  {'rate':>7}  {'95% interval':>17}  {'runs':>6}  target")
    for r in table:
        print(f"{r['figure']:<{width}}  {r['rate']:>7.1%}  {r['low']:>7.1%} – {r['high']:>6.1%}  {r['runs']:>6}  "
              f"{r['target']}")
    print(f"({time.perf_counter() - started:.0f} s)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(table, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
