"""The gate: the same pipeline and pass/fail rules as experiments, thresholds with gaps, exit codes 0/1/2,
response-cache reruns, an uncalibrated judge refused, and the shipped config passing its own gate."""
import json
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.config.pipeline import PipelineConfig
from workbench.config.production import GateThresholds
from workbench.evalsets.evalset import EvalSet, Sample, load_evalset
from workbench.experiments import Experiment, ExperimentResults
from workbench.experiments.engine import _first_stratified
from workbench.experiments.records import RunRecord
from workbench.release.export import ExportOptions, export_config
from workbench.release.gate import Check, GateOptions, check_thresholds, measure, run_gate

ROOT = Path(__file__).resolve().parent.parent
EVALSET = ROOT / "evalsets" / "northwind_qa.jsonl"
SHIPPED = ROOT / "configs" / "pipeline.yaml"
N = 12
V = "grounded_qa@v2 · medium"


@pytest.fixture(scope="module")
def tiny():
    return _first_stratified(load_evalset(EVALSET), N)


@pytest.fixture(scope="module")
def results(tiny, tmp_path_factory):
    base = PipelineConfig.build("grounded_qa", version=2, tier="medium",
                                chunking={"strategy": "structure", "max_tokens": 256})
    out = tmp_path_factory.mktemp("run")  # the small tier is medium's fallback: its prompt must be evaluated too
    Experiment(tiny, {V: base, "grounded_qa@v2 · small": base.variant(tier="small")}, out).run(progress=False)
    return ExperimentResults(out)


@pytest.fixture(scope="module")
def configs(results, tmp_path_factory):
    folder = tmp_path_factory.mktemp("configs")
    low = export_config(results, V, name="low", gate=GateThresholds(min_pass_rate=0.0, max_error_rate=0.5),
                        path=folder / "low.yaml")
    high = export_config(results, V, name="high", path=folder / "high.yaml",
                         gate=GateThresholds(min_pass_rate=0.99, min_pass_rate_by_category={"edge": 0.99}),
                         options=ExportOptions(override_reason="test: fails the gate"))
    return {"low": folder / "low.yaml", "high": folder / "high.yaml", "low_cfg": low, "high_cfg": high}


def rec(status="ok", expected="ok", passed=True, category="normal", cost=0.001, measured=True):
    scores = {"contains_any": {"value": float(passed), "passed": passed, "measured": measured}}
    return RunRecord(variant="v", config_hash="h", sample_id=f"s{id(scores)}", repeat=0, category=category,
                     status=status, output="x", scores=scores, cost_usd=cost, answer_cost_usd=cost,
                     expected_status=expected)


def test_measure_follows_the_experiment_rules():
    m = measure([rec(), rec(passed=False), rec(status="rejected", expected="rejected", category="adversarial"),
                 rec(status="failed"), rec(status="rejected", category="edge"), rec(measured=False)])
    # 6 cells: 1 unmeasured; of 5 measured, passes: ok-pass, expected rejection -> 2 of 5
    assert m["n"] == 6 and m["unmeasured"] == 1 and m["pass_rate"] == pytest.approx(2 / 5)
    assert m["by_category"] == {"normal": pytest.approx(1 / 3), "adversarial": 1.0, "edge": 0.0}
    assert m["error_rate"] == pytest.approx(2 / 6)      # failed + an unexpected rejection
    assert m["cost_per_item_usd"] == pytest.approx(0.001)
    assert measure([rec(cost=None)])["cost_per_item_usd"] is None


def test_checks_report_the_gap():
    gate = GateThresholds(min_pass_rate=0.8, min_pass_rate_by_category={"edge": 0.5}, max_error_rate=0.01,
                          max_cost_per_item_usd=0.001)
    checks = {c.criterion: c for c in check_thresholds(gate, {"pass_rate": 0.7, "by_category": {},
                                                              "error_rate": 0.02, "cost_per_item_usd": None})}
    assert checks["pass_rate"].gap == pytest.approx(0.1) and not checks["pass_rate"].passed
    assert "missed by 10.0 points" in checks["pass_rate"].describe()
    assert checks["pass_rate[edge]"].measured is None and not checks["pass_rate[edge]"].passed
    assert checks["error_rate"].gap == pytest.approx(0.01) and not checks["cost_per_item_usd"].passed
    assert Check("pass_rate", 0.9, 0.8, "min").passed


def test_pass_rate_bars_apply_to_the_lower_bound_with_n_and_interval():
    gate = GateThresholds(min_pass_rate=0.5, min_pass_rate_by_category={"edge": 0.15}, max_unmeasured_share=0.05)
    measured = {"pass_rate": 0.5647, "n": 260, "n_measured": 255, "unmeasured": 5, "error_rate": 0.0,
                "by_category": {"edge": 0.2}, "n_by_category": {"edge": 35}, "cost_per_item_usd": None}
    checks = {c.criterion: c for c in check_thresholds(gate, measured)}
    overall, edge = checks["pass_rate"], checks["pass_rate[edge]"]
    assert overall.bound == "lower" and overall.n == 255 and overall.low == pytest.approx(0.5033, abs=1e-3)
    assert overall.passed and not edge.passed  # 7/35: point 0.20 clears 0.15, its lower bound 0.10 does not
    assert "0.200 (n 35, 95% CI 0.100 to 0.359); lower bound need ≥ 0.150: FAIL" in edge.describe()
    assert checks["unmeasured_share"].measured == pytest.approx(5 / 260) and checks["unmeasured_share"].passed
    point = check_thresholds(gate.model_copy(update={"pass_rate_bound": "point"}), measured)
    assert all(c.passed for c in point if c.criterion.startswith("pass_rate"))
    many_unmeasured = check_thresholds(gate, {**measured, "unmeasured": 40, "n": 295})
    assert not next(c for c in many_unmeasured if c.criterion == "unmeasured_share").passed


def test_gate_measures_what_the_experiment_measured(configs, tiny, results):
    report = run_gate(configs["low"], tiny)
    assert report.passed and report.exit_code == 0 and report.samples == N
    (v,) = report.variants
    assert v.measured["pass_rate"] == pytest.approx(results.summary().loc[V, "pass_rate"])
    assert v.config_hash == results.manifest["variants"][V]["config_hash"]


def test_second_gate_run_hits_the_response_cache(configs, tiny):
    run_gate(configs["low"], tiny)
    report = run_gate(configs["low"], tiny)
    records = ExperimentResults(report.records).records
    assert len(records) == N and sum(r.model_calls for r in records) == 0


def test_cli_exit_0_when_thresholds_are_met(configs, capsys):
    assert main(["gate", "--config", str(configs["low"]), "--evalset", str(EVALSET), "--limit", str(N)]) == 0
    out = capsys.readouterr().out
    assert "gate PASSED" in out and "pass_rate" in out


def test_cli_exit_1_below_thresholds_names_the_criteria_and_gaps(configs, capsys):
    assert main(["gate", "--config", str(configs["high"]), "--evalset", str(EVALSET), "--limit", str(N)]) == 1
    out = capsys.readouterr().out
    assert "gate FAILED" in out and "pass_rate[edge]" in out and "missed by" in out


def test_cli_json_format(configs, capsys):
    assert main(["gate", "--config", str(configs["high"]), "--evalset", str(EVALSET), "--limit", str(N),
                 "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["passed"] is False and data["samples"] == N
    failed = [c for c in data["variants"][0]["checks"] if not c["passed"]]
    assert {c["criterion"] for c in failed} >= {"pass_rate", "pass_rate[edge]"} and all(c["gap"] > 0 for c in failed)


def test_cli_exit_2_on_a_tampered_config_or_missing_files(configs, tmp_path, capsys):
    text = configs["low"].read_text(encoding="utf-8")
    tampered = tmp_path / "t.yaml"
    tampered.write_text(text.replace("max_error_rate: 0.5", "max_error_rate: 0.9"), encoding="utf-8")
    assert main(["gate", "--config", str(tampered), "--evalset", str(EVALSET), "--limit", "4"]) == 2
    assert "config_tampered" in capsys.readouterr().err
    assert main(["gate", "--config", str(tmp_path / "none.yaml"), "--evalset", str(EVALSET)]) == 2
    assert main(["gate", "--config", str(configs["low"]), "--evalset", str(tmp_path / "none.jsonl")]) == 2
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n", encoding="utf-8")
    assert main(["gate", "--config", str(configs["low"]), "--evalset", str(bad)]) == 2


def test_a_judge_below_the_minimum_kappa_cannot_gate(configs, tiny, capsys):
    judged = EvalSet([Sample(**{**s.model_dump(), "criteria": [*s.model_dump()["criteria"], {"scorer": "llm_judge"}]})
                      for s in list(tiny)[:2]], name="judged")
    from workbench.errors import UsageError

    with pytest.raises(UsageError) as info:     # the offline lexical judge: kappa 0.455 < 0.6
        run_gate(configs["low"], judged)
    assert info.value.code == "judge_not_calibrated" and "kappa" in info.value.message
    assert info.value.exit_code == 2


@pytest.mark.slow
def test_shipped_config_passes_its_gate_on_the_full_eval_set():
    report = run_gate(SHIPPED, EVALSET)
    assert report.passed, report.to_text()
    assert report.samples == 255 and not report.notes


def test_the_shipped_smoke_check_passes_and_fails_only_on_a_sure_regression():
    report = run_gate(SHIPPED, EVALSET, options=GateOptions(limit=40))
    assert report.passed and report.samples == 40, report.to_text()
    assert "upper 95% bound" in " ".join(report.notes)
    gate = GateThresholds(min_pass_rate=0.12)
    few = check_thresholds(gate, {"pass_rate": 0.0, "n_measured": 5, "n": 5}, bound="upper")[0]
    many = check_thresholds(gate, {"pass_rate": 0.0, "n_measured": 40, "n": 40}, bound="upper")[0]
    assert few.passed and not many.passed  # 0/5 could still clear 12 %; 0/40 (upper bound 8.8 %) cannot


def test_gate_needs_no_notebook_stack(configs):
    import subprocess
    import sys

    code = ("import sys; from workbench.release.gate import GateOptions, run_gate; "
            f"r = run_gate({str(configs['low'])!r}, {str(EVALSET)!r}, options=GateOptions(limit=4)); "
            "print(' '.join(m for m in ('pandas', 'scipy', 'matplotlib', 'ragas', 'datasets') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""
