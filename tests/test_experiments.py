"""The experiment engine: grid from a spec, records, resumability, zero calls on rerun, budget, errors."""
import asyncio
import json
import subprocess
import sys

import pytest

from workbench.caches import ResponseCache
from workbench.config.pipeline import PipelineConfig
from workbench.errors import BudgetExceededError, ConfigError, ProviderUnavailableError
from workbench.evalsets.evalset import EvalSet
from workbench.experiments import Experiment, ExperimentResults, ExperimentSpec, RunOptions, list_runs

NO_CACHE = RunOptions(cache=None)
DOC = "# Refunds\n\nRefunds are available within 30 days of the charge. Credit expires after 12 months.\n"


def samples(n=12):
    rows = []
    for i in range(n):
        unanswerable = i % 4 == 3
        rows.append({"id": f"s{i}", "category": "unanswerable" if unanswerable else "normal",
                     "inputs": {"question": "Who founded the Mars office?" if unanswerable
                                else "How many days after a charge can I get a refund?",
                                "documents": [{"id": "refunds.md", "text": DOC}]},
                     "expected": [] if unanswerable else ["30 days"],
                     "criteria": [{"scorer": "refusal"}] if unanswerable else [{"scorer": "contains_any"}]})
    return EvalSet.from_records(rows, name="tiny")


@pytest.fixture
def variants():
    base = PipelineConfig.build("grounded_qa", version=2, tier="medium",
                                chunking={"strategy": "structure", "max_tokens": 64})
    return {"medium": base, "small": base.variant(tier="small")}


def test_a_run_writes_one_record_per_cell_and_a_manifest(tmp_path, variants):
    exp = Experiment(samples(), variants, tmp_path / "run", options=RunOptions(repeats=2, cache=None))
    summary = exp.run(progress=False)
    assert summary.computed == 2 * 12 * 2 and summary.skipped == 0 and summary.model_calls == 48
    lines = (tmp_path / "run" / "records.jsonl").read_text().splitlines()
    assert len(lines) == 48 and {json.loads(x)["variant"] for x in lines} == {"medium", "small"}
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["evalset"]["hash"] == exp.evalset.hash
    assert manifest["variants"]["small"]["config_hash"] == variants["small"].hash
    assert "version" in manifest["workbench_version"] or manifest["workbench_version"]


def test_rerun_makes_zero_model_calls_and_interrupted_runs_resume(tmp_path, variants):
    out = tmp_path / "run"
    exp = Experiment(samples(), variants, out, options=NO_CACHE)
    exp.run(progress=False)
    again = Experiment(samples(), variants, out, options=NO_CACHE).run(progress=False)
    assert (again.computed, again.model_calls, again.skipped) == (0, 0, 24)
    lines = (out / "records.jsonl").read_text().splitlines()
    (out / "records.jsonl").write_text("\n".join(lines[:10]) + "\n" + lines[10][:25])  # killed mid-write
    resumed = Experiment(samples(), variants, out, options=NO_CACHE).run(progress=False)
    assert resumed.computed == 14 and resumed.model_calls == 14
    assert len(ExperimentResults(out).records) == 24


def test_a_changed_config_is_rerun_and_its_old_answers_leave_the_tables(tmp_path, variants):
    out = tmp_path / "run"
    Experiment(samples(), variants, out, options=NO_CACHE).run(progress=False)
    changed = {**variants, "small": variants["small"].variant(chunking={"strategy": "structure", "max_tokens": 96})}
    again = Experiment(samples(), changed, out, options=NO_CACHE).run(progress=False)
    assert again.computed == 12  # only the changed variant's cells run again
    assert len((out / "records.jsonl").read_text().splitlines()) == 36  # the old answers stay in the file
    res = ExperimentResults(out)
    assert len(res.records) == 24 and res.stale == 12  # ... but not in the results: one record per cell
    assert {r.config_hash for r in res.records if r.variant == "small"} == {changed["small"].hash}
    assert len(res.values("small", "overall")) == 12
    manifest = json.loads((out / "manifest.json").read_text())
    (out / "manifest.json").write_text(json.dumps({**manifest, "variants": list(manifest["variants"])}))
    assert len(ExperimentResults(out).records) == 36  # an old-style or hand-edited manifest: nothing to filter by


def test_the_response_cache_means_no_call_is_paid_twice(tmp_path, variants):
    cache = ResponseCache(tmp_path / "c.sqlite")
    first = Experiment(samples(), variants, tmp_path / "a", options=RunOptions(cache=cache)).run(progress=False)
    second = Experiment(samples(), variants, tmp_path / "b", options=RunOptions(cache=cache)).run(progress=False)
    assert first.model_calls > 0 and second.model_calls == 0 and second.computed == 24
    records = ExperimentResults(tmp_path / "b").records
    # a hit costs 0 now and saves what its answer cost: the cost per item (answer_cost_usd) does not change
    assert all(r.cost_usd == 0 and r.cache == "exact" and r.saved_usd > 0 for r in records)
    assert all(r.answer_cost_usd == r.saved_usd and r.cost_basis == "simulated" for r in records)


def test_budget_cap_refuses_unless_confirmed(tmp_path, variants):
    big = variants["medium"].variant(tier="large")
    exp = Experiment(samples(), {"large": big}, tmp_path / "run", options=RunOptions(budget_usd=1e-6, cache=None))
    est = exp.estimate()
    assert est.pending == 12 and est.input_tokens > 0 and est.cost_usd > 1e-6
    with pytest.raises(BudgetExceededError, match="budget"):
        exp.run(progress=False)
    assert not (tmp_path / "run" / "records.jsonl").exists() or not (tmp_path / "run" / "records.jsonl").read_text()
    assert exp.run(confirm=True, progress=False).computed == 12


def test_errors_are_records_with_codes_and_count_as_fails(tmp_path, variants):
    class Down:
        name = "down"

        def identity(self):
            return {"model": "down"}

        def complete(self, messages, **kw):
            raise ProviderUnavailableError("down", model="down")

        async def acomplete(self, messages, **kw):
            raise ProviderUnavailableError("down", model="down")

    exp = Experiment(samples(), variants, tmp_path / "run", options=NO_CACHE)
    exp.pipelines["small"]._models["small"] = Down()
    summary = exp.run(progress=False)
    assert summary.errors == {"provider_unavailable": 12}
    res = ExperimentResults(tmp_path / "run")
    table = res.summary()
    assert table.loc["small", "errors"] == 12 and table.loc["small", "pass_rate"] == 0.0
    assert table.loc["medium", "pass_rate"] > 0.5
    assert table.loc["small", "pass_rate_ci_low"] == 0.0 < table.loc["small", "pass_rate_ci_high"] < 0.3  # Wilson
    assert res.values("small", "overall") == {f"s{i}": False for i in range(12)}


def test_results_views_and_paired_comparison(tmp_path, variants):
    Experiment(samples(20), variants, tmp_path / "run", options=NO_CACHE).run(progress=False)
    res = ExperimentResults(tmp_path / "run")
    df = res.to_pandas()
    assert len(df) == 40 and {"score:overall", "pass:contains_any", "cost_usd", "error_code"} <= set(df.columns)
    assert set(res.by_category().columns) == {"normal", "unanswerable"}
    c = res.compare("medium", "small")
    assert c.n_pairs == 20 and isinstance(c.verdict, str)
    assert [r["run"] for r in list_runs(tmp_path)] == ["run"]


def test_run_inside_a_running_event_loop(tmp_path, variants):
    exp = Experiment(samples(4), {"medium": variants["medium"]}, tmp_path / "run", options=NO_CACHE)

    async def in_jupyter():
        return exp.run(progress=False)  # no nest_asyncio: runs in a worker thread

    assert asyncio.run(in_jupyter()).computed == 4


def test_spec_grid_and_errors(tmp_path):
    spec_file = tmp_path / "experiments" / "s.yaml"
    spec_file.parent.mkdir()
    spec_file.write_text("name: s\nevalset: ../evalsets/northwind_qa.jsonl\nbase: {version: 2}\n"
                         "grid: {tier: [small, medium], version: [2, 3]}\nvariants: [{name: v1, version: 1}]\n")
    spec = ExperimentSpec(**__import__("yaml").safe_load(spec_file.read_text()))
    names = [n for n, _ in spec.variant_changes()]
    assert len(names) == 5 and names[-1] == "v1" and len(set(names)) == 5
    spec_file.write_text("name: s\nevalset: x.jsonl\nrepeats: zero\n")
    with pytest.raises(ConfigError, match="repeats"):
        ExperimentSpec.load(spec_file)
    spec_file.write_text("name: s\nevalset: x.jsonl\ncolour: red\n")
    with pytest.raises(ConfigError, match="colour"):
        ExperimentSpec.load(spec_file)


def test_a_run_folder_refuses_another_eval_set(tmp_path, variants):
    Experiment(samples(4), {"m": variants["medium"]}, tmp_path / "run", options=NO_CACHE).run(progress=False)
    with pytest.raises(ConfigError, match="another eval set"):
        Experiment(samples(6), {"m": variants["medium"]}, tmp_path / "run", options=NO_CACHE).run(progress=False)


def test_cli_experiment_prints_model_calls_and_lists_runs(tmp_path):
    spec = tmp_path / "spec.yaml"
    evalset = tmp_path / "tiny.jsonl"
    samples(8).save(evalset)
    spec.write_text(f"name: tiny\nevalset: {evalset}\nbase: {{version: 2, tier: small}}\n"
                    "grid: {tier: [small, medium]}\n")
    run = lambda: subprocess.run([sys.executable, "-m", "workbench", "experiment", str(spec), "--out",  # noqa: E731
                                  str(tmp_path / "out"), "--no-progress"], capture_output=True, text=True)
    first, second = run(), run()
    assert first.returncode == 0, first.stderr
    assert "model calls: 16" in first.stdout and "model calls: 0" in second.stdout
    listed = subprocess.run([sys.executable, "-m", "workbench", "experiment", "list", "--root", str(tmp_path),
                             "--format", "json"], capture_output=True, text=True)
    assert json.loads(listed.stdout)[0]["records"] == 16


def test_run_record_to_dict_equals_asdict():
    import dataclasses

    from workbench.experiments.records import RunRecord

    full = RunRecord("v", "sha256:x", "s1", 2, "edge", "failed", None,
                     scores={"f1": {"value": 0.5, "passed": False, "measured": True, "explanation": "x"}},
                     error={"code": "timeout", "message": "m"}, model="m", tags=["a", "b"], expected_status="ok")
    for record in (full, RunRecord("v", "sha256:x", "s2", 0, "normal", "ok", "answer")):
        d = record.to_dict()
        assert d == dataclasses.asdict(record)
        d["scores"].setdefault("new", {})
        d["tags"].append("mutated")
        assert record.to_dict() == dataclasses.asdict(record), "the dict must not share the record's containers"
