"""``workbench monitor``: exit 0 without alerts, 1 when an alert fires, 2 on an error; JSON keys as documented."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_queue import write_config

from workbench.cli import main
from workbench.config.production import load_production_config
from workbench.evalsets.evalset import load_evalset
from workbench.monitoring import PlantedChanges, simulate_stream, write_rows

ROOT = Path(__file__).resolve().parent.parent
EVALSET = ROOT / "evalsets" / "northwind_qa.jsonl"
KEYS = {"window", "store", "operations", "quality", "drift", "drift_quality", "costs", "ab", "candidates", "alerts",
        "delivery"}


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    config = write_config(tmp / "pipeline.yaml")
    evalset = load_evalset(EVALSET)
    planted = f"sqlite:///{tmp / 'planted.sqlite'}"
    spike_only = PlantedChanges(spike=(2, 10, 6), retry_loop=None)
    write_rows(simulate_stream(evalset, n=300, days=3, seed=1, planted=spike_only), planted,
               load_production_config(config))
    stable = f"sqlite:///{tmp / 'stable.sqlite'}"
    write_rows(simulate_stream(evalset, n=300, days=3, seed=2, planted=PlantedChanges.none()), stable,
               load_production_config(config))
    return tmp, config, planted, stable


def test_alerts_exit_1_and_json_has_the_documented_keys(setup, capsys):
    tmp, config, planted, _ = setup
    code = main(["monitor", "--db", planted, "--config", str(config), "--since", "2026-01-02T12:00:00Z",
                 "--format", "json", "--candidates", str(tmp / "c.jsonl"), "--no-store-alerts"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1 and set(out) == KEYS
    kinds = {a["kind"] for a in out["alerts"]}
    assert {"drift", "runaway_tokens", "cost_anomaly"} <= kinds
    assert (tmp / "c.jsonl").read_text().count("\n") == out["candidates"]["total"] > 0


def test_no_alert_exit_0_text(setup, capsys):
    _, config, _, stable = setup
    code = main(["monitor", "--db", stable, "--config", str(config), "--since", "2026-01-02T12:00:00Z",
                 "--baseline", str(EVALSET)])
    out = capsys.readouterr().out
    assert code == 0 and "no alerts" in out and "drift vs evalset:northwind_qa: ok" in out


def test_errors_exit_2(setup, capsys, tmp_path):
    _, config, planted, _ = setup
    assert main(["monitor", "--db", f"sqlite:///{tmp_path / 'none.sqlite'}", "--config", str(config)]) == 2
    assert main(["monitor", "--db", planted, "--config", str(config), "--since", "last tuesday"]) == 2
    assert main(["monitor", "--db", planted, "--config", str(tmp_path / "missing.yaml")]) == 2
    assert main(["monitor", "--db", planted, "--config", str(config), "--baseline", "nope.jsonl"]) == 2
    err = capsys.readouterr().err
    assert "no log store" in err and "--since" in err and "Traceback" not in err


def test_empty_store_reports_insufficient_data(tmp_path, setup, capsys):
    from workbench.store.logstore import LogStore

    _, config, _, _ = setup
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    LogStore(url).close()
    assert main(["monitor", "--db", url, "--config", str(config), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["store"]["status"] == "empty" and out["drift"]["status"] == "insufficient_data"


def test_judge_scores_the_captured_sample(setup, capsys):
    _, config, _, stable = setup
    main(["monitor", "--db", stable, "--config", str(config), "--since", "2026-01-02T12:00:00Z",
          "--format", "json", "--no-store-alerts", "--judge"])
    out = json.loads(capsys.readouterr().out)
    assert "judge" in json.dumps(out["quality"]), "the judge's check is reported in the quality section"
