"""compare_prompt_lengths and usage_rows on a hand-made run folder (manifest.json + records.jsonl)."""
import json

import pytest

from workbench.costs import item_costs
from workbench.errors import UsageError
from workbench.experiments import ExperimentResults, compare_prompt_lengths
from workbench.experiments.records import RunRecord
from workbench.experiments.shortening import usage_rows
from workbench.stats import ComparisonOptions

LONG, SHORT = "qa@v2 · medium", "qa@v3 · medium"
N = 20
TIERS = {"medium": {"name": "medium", "model": "openai/gpt-4o-mini", "stand_in": "local/extractive"}}


def record(variant, i, *, tokens, cost, passed, f1, repeat=0, **kw):
    scores = {"contains_any": {"value": float(passed), "passed": passed, "measured": True, "explanation": ""},
              "token_f1": {"value": f1, "passed": True, "measured": True, "explanation": ""}}
    fields = {"variant": variant, "config_hash": f"h-{variant}", "sample_id": f"s{i:02d}", "repeat": repeat,
              "category": "normal", "status": "ok", "output": "answer", "scores": scores,
              "model": "local/extractive", "tier": "medium", "input_tokens": tokens, "output_tokens": 10,
              "cost_usd": cost, "answer_cost_usd": cost, "cost_basis": "simulated"}
    fields.update(kw)
    return RunRecord(**fields)


def write_run(folder, records):
    folder.mkdir()
    variants = {v: {"config_hash": f"h-{v}", "label": v, "config": {"tiers": TIERS}}
                for v in dict.fromkeys(r.variant for r in records)}
    (folder / "manifest.json").write_text(json.dumps({"name": "t", "variants": variants}), encoding="utf-8")
    (folder / "records.jsonl").write_text("".join(json.dumps(r.to_dict()) + "\n" for r in records),
                                          encoding="utf-8")
    return ExperimentResults(folder)


@pytest.fixture
def worse(tmp_path):
    """The short prompt saves 200 of 1000 input tokens (cost 0.0010 -> 0.0008) and fails 8 of 20 items."""
    recs = [record(LONG, i, tokens=1000, cost=0.0010, passed=True, f1=0.8) for i in range(N)]
    recs += [record(SHORT, i, tokens=800, cost=0.0008, passed=i >= 8, f1=0.8 if i >= 8 else 0.3)
             for i in range(N)]
    return write_run(tmp_path / "run", recs)


def test_tokens_cost_and_a_significant_quality_loss(worse):
    d = compare_prompt_lengths(worse, LONG, SHORT, continuous="token_f1", options=ComparisonOptions(n_boot=2000))
    assert d["n_items"] == d["n_pairs"] == N
    assert d["input_tokens_long"] == 1000 and d["input_tokens_short"] == 800
    assert d["input_tokens_saved"] == 200 and d["input_tokens_saved_pct"] == pytest.approx(0.2)
    assert d["cost_per_item_long"] == pytest.approx(0.0010) and d["cost_per_item_short"] == pytest.approx(0.0008)
    assert d["cost_saved_usd"] == pytest.approx(0.0002) and d["cost_saved_pct"] == pytest.approx(0.2)
    assert d["cost_basis"] == "simulated"
    assert d["quality_long"] == 1.0 and d["quality_short"] == pytest.approx(0.6)
    assert d["quality_difference"] == pytest.approx(-0.4)
    assert d["ci_low"] <= -0.4 <= d["ci_high"] < 0
    assert d["test"] == "mcnemar_exact" and d["p_value"] == pytest.approx(2 * 0.5 ** 8) and d["significant"]
    assert d["continuous_difference"] == pytest.approx(-0.2) and d["continuous_test"] == "wilcoxon_exact"
    assert d["continuous_p_value"] < 0.05 and d["continuous_ci_high"] < 0
    v = d["verdict"]
    assert "200 fewer input tokens" in v and "-20.0 %" in v and "simulated" in v
    assert "-40.0 points" in v and "McNemar p = 0.008" in v and "costs quality" in v
    json.dumps(d)  # JSON-safe


def test_same_quality_says_no_measured_loss(tmp_path):
    recs = [record(LONG, i, tokens=900, cost=0.0009, passed=i % 3 > 0, f1=0.5) for i in range(N)]
    recs += [record(SHORT, i, tokens=850, cost=0.00085, passed=i % 3 > 0, f1=0.5) for i in range(N)]
    d = compare_prompt_lengths(write_run(tmp_path / "run", recs), LONG, SHORT)
    assert d["quality_difference"] == 0 and d["ci_low"] == d["ci_high"] == 0 and d["p_value"] == 1.0
    assert not d["significant"] and "continuous_difference" not in d
    assert "no measured quality loss" in d["verdict"]


def test_pairs_by_sample_averages_repeats_and_keeps_unpriced_unpriced(tmp_path):
    recs = [record(LONG, i, tokens=1000 + 200 * r, cost=0.001, passed=True, f1=1.0, repeat=r)
            for i in range(N) for r in (0, 1)]                       # 1000 and 1200 tokens: mean 1100
    recs += [record(SHORT, i, tokens=550, cost=None, passed=i != 0, f1=1.0) for i in range(N + 5)]
    d = compare_prompt_lengths(write_run(tmp_path / "run", recs), LONG, SHORT)
    assert d["n_items"] == N                                          # the 5 extra samples are not paired
    assert d["input_tokens_long"] == 1100 and d["input_tokens_saved_pct"] == pytest.approx(0.5)
    assert d["cost_per_item_short"] is None and d["cost_saved_usd"] is None and d["cost_saved_pct"] is None
    assert "unpriced" in d["verdict"] and "not significant" not in d["verdict"]
    assert "no significant change" in d["verdict"]


def test_unknown_variant_is_refused(worse):
    with pytest.raises(UsageError, match="no records"):
        compare_prompt_lengths(worse, LONG, "qa@v9 · medium")
    with pytest.raises(UsageError, match="no records"):
        usage_rows(worse, ["nope"])


def test_usage_rows_price_stand_ins_as_the_real_model(tmp_path):
    recs = [record(LONG, i, tokens=1000, cost=0.00015, passed=True, f1=1.0) for i in range(N)]
    recs.append(record(LONG, N, tokens=0, cost=0.0, passed=False, f1=0.0, status="rejected", tier=None,
                       model=None, cost_basis=None, expected_status="rejected"))
    res = write_run(tmp_path / "run", recs)
    rows = usage_rows(res, [LONG])
    assert len(rows) == N + 1 and rows[0]["priced_as"] == "openai/gpt-4o-mini" and rows[0]["score"] == 1.0
    assert rows[-1]["tier"] == "(rejected)" and rows[-1]["score"] == 1.0   # the expected refusal passes
    ic = item_costs(usage_rows(res, [LONG], answered_only=True))["medium"]
    assert ic.n_items == N and ic.model == "openai/gpt-4o-mini" and ic.cost_basis == "simulated"
    assert ic.cost_usd is not None and ic.cost_usd > 0                  # priced, never a free local model
