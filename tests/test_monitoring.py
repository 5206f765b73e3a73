"""Monitoring: every planted drift and spike of a simulated stream is alerted; a stream with no planted change
(another seed) raises no alert; bad or thin data gives a report that says so. Rows are written straight into a
SQLite log store (``write_rows``) so the tests stay fast; notebook 06 runs the same streams through the runner."""
from __future__ import annotations

import json
import sqlite3
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from test_queue import make_config

from workbench.evalsets.evalset import Sample, load_evalset
from workbench.monitoring import (
    AlertDelivery,
    PlantedChanges,
    Window,
    monitor,
    parse_since,
    reference_for,
    simulate_stream,
    stored_alerts,
    write_rows,
)
from workbench.monitoring.ab import bootstrap_difference, recommend
from workbench.monitoring.costs import DAY, HOUR, detect
from workbench.monitoring.drift import psi
from workbench.monitoring.logdata import load
from workbench.monitoring.simulate import START

ROOT = Path(__file__).resolve().parent.parent
DAYS = 6
END = START + DAYS * DAY


def CLOCK() -> float:  # a fixed "now": the end of the simulated stream
    return END


LAST_3D = Window("3d", CLOCK)
NOT_STORED = AlertDelivery(store=False)


@pytest.fixture(scope="module")
def evalset():
    return load_evalset(ROOT / "evalsets" / "northwind_qa.jsonl")


@pytest.fixture(scope="module")
def config():
    return make_config()


@pytest.fixture(scope="module")
def reference(evalset, config):
    from workbench.monitoring.drift import evalset_features, reference_from

    return reference_from(f"evalset:{evalset.name}",
                          evalset_features(list(evalset), config.variants["current"].input_policy))


def _store(tmp: Path, evalset, config, **kw) -> str:
    url = f"sqlite:///{tmp / 'log.sqlite'}"
    write_rows(simulate_stream(evalset, n=500, days=DAYS, **kw), url, config, seed=kw.get("seed", 0))
    return url


@pytest.fixture(scope="module")
def planted(tmp_path_factory, evalset, config):
    return _store(tmp_path_factory.mktemp("planted"), evalset, config, seed=1)


@pytest.fixture(scope="module")
def stable(tmp_path_factory, evalset, config):
    return _store(tmp_path_factory.mktemp("stable"), evalset, config, seed=2, planted=PlantedChanges.none())


def _kinds(report) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for a in report.alerts:
        out.setdefault(a.kind, set()).add(a.metric)
    return out


# ---- the targets ----------------------------------------------------------------------------------------------
def test_every_planted_change_is_alerted(planted, config, reference):
    report = monitor(planted, config, baseline=reference, window=LAST_3D)
    kinds = _kinds(report)
    assert {"question_language", "question_chars", "topic"} <= kinds["drift"]
    assert "quality_below_threshold" in kinds or "quality_drop" in kinds
    assert "runaway_tokens" in kinds and "cost_anomaly" in kinds and "retry_loop" in kinds
    spike_start, spike_end = START + 4 * DAY + 10 * HOUR, START + 4 * DAY + 16 * HOUR
    for a in report.alerts:
        if a.kind in ("runaway_tokens", "cost_anomaly"):
            assert spike_start <= a.start and a.end <= spike_end, a.message
        if a.kind == "retry_loop":
            assert a.start == START + 5 * DAY + 9 * HOUR
    assert report.exit_code == 1
    assert report.sections["drift_quality"]["pass_rate_drifted"] < report.sections["drift_quality"]["pass_rate_other"]


def test_planted_drift_is_also_found_against_the_baseline_window(planted, config):
    report = monitor(planted, config, window=LAST_3D, delivery=NOT_STORED)
    assert report.sections["drift"]["baseline"] == "window"
    assert {"question_language", "topic"} <= set(report.sections["drift"]["drifted_features"])


@pytest.mark.parametrize("baseline", ["evalset", "window"])
def test_a_stream_with_no_planted_change_raises_no_alert(stable, config, reference, baseline):
    report = monitor(stable, config, baseline=reference if baseline == "evalset" else None, window=LAST_3D)
    assert report.alerts == [], [a.message for a in report.alerts]
    assert report.exit_code == 0
    assert report.sections["drift"]["status"] == "ok"
    assert report.sections["costs"]["status"] == "ok"
    assert report.sections["quality"]["status"] == "ok"


def test_drifted_inputs_become_valid_eval_candidates(planted, config, reference, tmp_path):
    from workbench.monitoring import export_candidates

    report = monitor(planted, config, baseline=reference, window=LAST_3D, delivery=NOT_STORED)
    assert len(report.candidates) >= 20
    for sample in report.candidates:
        Sample.model_validate(sample)
        assert "needs-review" in sample["tags"]
    path = export_candidates(report.candidates, tmp_path / "c.jsonl")
    assert len(load_evalset(path)) == len(report.candidates)


def test_report_has_operations_by_variant_tier_and_bucket(planted, config, reference):
    d = monitor(planted, config, baseline=reference, window=LAST_3D, delivery=NOT_STORED).to_dict()
    ops = d["operations"]
    assert ops["overall"]["requests"] == d["store"]["rows_window"] > 0
    assert set(ops["overall"]["latency_ms"]) == {"p50", "p95", "p99"}
    assert "current" in ops["by_variant"] and "medium" in ops["by_tier"] and ops["buckets"]
    assert d["costs"]["per_day"] and d["costs"]["per_item"]["items"] > 0
    json.dumps(d)


# ---- alerts: table, dedupe, webhook ---------------------------------------------------------------------------
def test_alerts_are_stored_once_and_posted_to_the_webhook(tmp_path, evalset, config, reference):
    url = _store(tmp_path, evalset, config, seed=1)
    received: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *a):
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        hook = f"http://127.0.0.1:{server.server_port}/alerts"
        first = monitor(url, config, baseline=reference, window=LAST_3D, delivery=AlertDelivery(webhook=hook))
        again = monitor(url, config, baseline=reference, window=LAST_3D)
    finally:
        server.shutdown()
    assert first.delivery["webhook"]["status"] == "sent"
    assert len(received) == 1 and len(received[0]["alerts"]) == len(first.alerts)
    assert first.delivery["stored"] == len(first.alerts) and again.delivery["stored"] == 0
    assert len(stored_alerts(url)) == len(first.alerts)


def test_a_failing_webhook_is_reported_not_raised(planted, config, reference):
    report = monitor(planted, config, baseline=reference, window=LAST_3D,
                     delivery=AlertDelivery(store=False, webhook="http://127.0.0.1:9/nothing-listens"))
    assert report.delivery["webhook"]["status"] == "failed" and report.alerts


# ---- bad and thin data ----------------------------------------------------------------------------------------
def _empty_store(tmp_path: Path) -> str:
    from workbench.store.logstore import LogStore

    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    LogStore(url).close()
    return url


def test_an_empty_store_gives_a_report_that_says_so(tmp_path, config, reference):
    report = monitor(_empty_store(tmp_path), config, baseline=reference, window=Window("1d", CLOCK))
    d = report.to_dict()
    assert d["store"]["status"] == "empty" and report.alerts == []
    assert d["drift"] == {**d["drift"], "status": "insufficient_data", "rows": 0, "needed": 50}
    assert d["quality"]["status"] == "insufficient_data" and d["costs"]["status"] == "insufficient_data"
    assert d["operations"]["status"] == "no_data"
    assert "no alerts" in report.to_text()


def test_a_few_rows_give_insufficient_data_not_a_p_value(tmp_path, evalset, config, reference):
    url = f"sqlite:///{tmp_path / 'few.sqlite'}"
    write_rows(simulate_stream(evalset, n=12, days=1, seed=3, planted=PlantedChanges.none()), url,
               config)
    d = monitor(url, config, baseline=reference, window=Window("2d", lambda: START + DAY)).to_dict()
    assert d["drift"]["status"] == "insufficient_data" and d["drift"]["rows"] == 12 and d["drift"]["needed"] == 50
    assert "p_value" not in d["drift"]["features"]["input_chars"]


def test_corrupted_rows_are_skipped_and_counted(tmp_path, evalset, config, reference):
    url = f"sqlite:///{tmp_path / 'bad.sqlite'}"
    write_rows(simulate_stream(evalset, n=60, days=1, seed=4, planted=PlantedChanges.none()), url,
               config)
    con = sqlite3.connect(tmp_path / "bad.sqlite")
    con.execute("INSERT INTO requests (ts, status) VALUES ('garbage', 'ok')")
    con.execute("INSERT INTO requests (ts, status, cost_usd, latency_ms, raw_input, raw_output) "
                f"VALUES ({START + 3600}, 'ok', 'abc', -5, '{{not json', NULL)")
    con.execute(f"INSERT INTO requests (ts, status) VALUES ({START + 7200}, '')")
    con.commit()
    con.close()
    data = load(url, since=START, clock=lambda: START + DAY)
    assert data.corrupt == 2 and data.bad_values == 2 and len(data.rows) == 61
    report = monitor(url, config, baseline=reference, window=Window(START, lambda: START + DAY),
                     delivery=NOT_STORED)
    assert report.sections["store"]["corrupt_rows"] == 2


def test_a_missing_store_is_an_error(tmp_path):
    from workbench.errors import LogStoreError

    with pytest.raises(LogStoreError):
        load(f"sqlite:///{tmp_path / 'nope.sqlite'}")


# ---- building blocks ------------------------------------------------------------------------------------------
def test_parse_since():
    now = 1_000_000.0
    assert parse_since("1h", now) == now - 3600 and parse_since("7d", now) == now - 7 * DAY
    assert parse_since("2026-01-01T00:00:00Z", now) == START == parse_since("2026-01-01T00:00:00", now)
    from workbench.errors import UsageError

    with pytest.raises(UsageError):
        parse_since("yesterday-ish", now)


def test_psi_is_zero_for_equal_and_large_for_disjoint_distributions():
    assert psi([10, 20, 30], [10, 20, 30]) == pytest.approx(0.0)
    assert psi([100, 0], [0, 100]) > 5


def test_seasonal_detector_ignores_the_daily_peak_and_flags_a_spike_with_an_injected_clock():
    import math

    series = []
    for i in range(6 * 24):
        h = START + i * HOUR
        value = 10 + 8 * math.sin(2 * math.pi * (i % 24) / 24) + (i * 7919 % 13) / 13
        series.append((h, value * (4 if i == 5 * 24 + 6 else 1)))
    hits, compared = detect(series, START + 3 * DAY)
    assert [h["hour"] for h in hits] == [START + 5 * DAY + 6 * HOUR] and compared == 72


def test_bootstrap_difference_and_recommendations():
    same = bootstrap_difference([0, 1] * 50, [0, 1] * 50)
    assert same["difference"] == 0 and same["ci_low"] < 0 < same["ci_high"]
    worse = {"quality": bootstrap_difference([1] * 80 + [0] * 20, [1] * 40 + [0] * 60)}
    assert recommend(worse)[0] == "roll back"
    cheaper = {"quality": same, "cost_per_request": bootstrap_difference([2.0] * 50, [1.0] * 50)}
    assert recommend(cheaper, margin=0.5)[0] == "promote"
    assert recommend({"quality": same})[0] == "continue"
    assert recommend({"reason": "needs 30"})[0] == "continue"
    assert recommend({"quality": same, "horizon_reached": True})[0] == "stop for futility"
    flat = {"difference": 0.001, "ci_low": -0.01, "ci_high": 0.012}
    assert recommend({"quality": flat})[0] == "stop for futility"  # within ±2 points and not cheaper


def ab_config(weights: dict[str, float]):
    """A config splitting traffic between two copies of one variant."""
    import os

    from workbench.config.pipeline import PipelineConfig
    from workbench.config.production import Evidence, ProductionConfig, TrafficSplit

    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        cur = PipelineConfig.build("grounded_qa", version=2, tier="medium")
    finally:
        os.chdir(cwd)
    return ProductionConfig(name="ab", variants={"current": cur, "candidate": cur},
                            split=TrafficSplit(weights=weights),
                            evidence=Evidence(experiment="t", evalset_name="x", evalset_hash="sha256:0",
                                              variant="current")).with_hash()


def test_ab_compares_variants_from_the_live_split(tmp_path, evalset):
    config = ab_config({"current": 0.5, "candidate": 0.5})
    url = f"sqlite:///{tmp_path / 'ab.sqlite'}"
    write_rows(simulate_stream(evalset, n=400, days=2, seed=5, planted=PlantedChanges.none()), url,
               config)
    ab = monitor(url, config, window=Window("2d", lambda: START + 2 * DAY), delivery=NOT_STORED).sections["ab"]
    assert ab["control"] in ("current", "candidate") and set(ab["variants"]) == {"current", "candidate"}
    (comp,) = ab["comparisons"].values()
    assert comp["recommendation"] in ("continue", "promote") and comp["look"] == 1 and comp["horizon_scored"] > 0
    assert comp["quality"]["ci_low"] < 0 < comp["quality"]["ci_high"]


def test_repeated_monitor_runs_form_one_sequential_experiment(tmp_path, evalset):
    from workbench.monitoring.ab_state import experiment_key, load_state

    config = ab_config({"current": 0.7, "candidate": 0.3})
    url = f"sqlite:///{tmp_path / 'ab.sqlite'}"
    write_rows(simulate_stream(evalset, n=600, days=3, seed=6, planted=PlantedChanges.none()), url, config)
    stored = AlertDelivery(store=True)
    first = monitor(url, config, window=Window("1d", lambda: START + DAY), delivery=stored).sections["ab"]
    second = monitor(url, config, window=Window("1d", lambda: START + 3 * DAY), delivery=stored).sections["ab"]
    assert first["started_at"] == second["started_at"] and second["control"] == "current"
    assert first["comparisons"]["candidate"]["look"] == 1 and second["comparisons"]["candidate"]["look"] == 2
    # the second look sees every request since the start, not only its own day
    assert sum(v["requests"] for v in second["variants"].values()) > sum(
        v["requests"] for v in first["variants"].values()) * 2
    state = load_state(url, experiment_key(config))
    assert state["candidates"]["candidate"]["looks"] == 2 and state["candidates"]["candidate"]["plan"]["share"] == 0.3
    oneoff = monitor(url, config, window=Window("1d", lambda: START + 3 * DAY), delivery=NOT_STORED).sections["ab"]
    assert oneoff["comparisons"]["candidate"]["look"] == 1  # a report that stores nothing is a one-off look


def test_resolved_escalations_are_candidates(tmp_path, config):
    from workbench.store.escalation import escalate, resolve
    from workbench.store.logstore import LogStore

    url = _empty_store(tmp_path)
    store = LogStore(url, clock=lambda: START)
    eid = escalate(store, item_id="q1", reason="invalid_output",
                   inputs={"id": "q1", "question": "How long is the refund window?",
                           "documents": [{"id": "d", "text": "Refunds are available within 30 days."}]})
    resolve(store, eid, "answered", human_answer="30 days")
    store.close()
    report = monitor(url, config, window=Window("1d", lambda: START + 3600), delivery=NOT_STORED)
    (sample,) = report.candidates
    assert sample["expected"] == ["30 days"] and "from-escalation" in sample["tags"]


def test_reference_for_a_path(config):
    from workbench.monitoring.logdata import LogData

    ref = reference_for(ROOT / "evalsets" / "northwind_qa.jsonl", LogData("x", 0, 1), config)
    assert ref.name == "evalset:northwind_qa" and len(ref.values["input_chars"]) == 255


def test_the_llm_judge_scores_captured_outputs_without_a_reference():
    from workbench.monitoring.quality import judge_scorer, score_output

    judge = judge_scorer()
    inputs = {"question": "How many days after a charge can I get a refund?",
              "documents": [{"id": "r.md", "text": "Refunds are available within 30 days of the charge."}]}
    supported = judge(inputs, "Refunds are available within 30 days of the charge.")
    unsupported = judge(inputs, "Refunds are available for a full year, paid in gold bars.")
    assert supported is not None and unsupported is not None and supported > unsupported
    assert judge({"documents": []}, "anything") is None  # nothing to judge against: unmeasured, not 0
    row = score_output("Refunds are available within 30 days of the charge.", inputs, extra={"judge": judge})
    assert row.checks["judge"] == supported


def test_unpriced_requests_are_counted_never_summed_as_zero_and_cache_savings_are_reported():
    from workbench.monitoring.costs import costs
    from workbench.monitoring.ops import summarise

    def row(i, cost, saved=None, cache="miss"):
        return {"ts": START + i * 60, "status": "ok", "cost_usd": cost, "saved_usd": saved, "cache": cache,
                "item_id": f"i{i}", "input_tokens": 10, "output_tokens": 5, "latency_ms": 100.0, "fallback": False,
                "degraded": False, "escalated": False, "input_hash": f"h{i}"}

    rows = [row(0, 0.002), row(1, None), row(2, 0.0, saved=0.002, cache="exact"), row(3, None)]
    spend, _ = costs(rows, start=START, end=START + 3600)
    assert spend["total_usd"] == pytest.approx(0.002) and spend["per_request"]["unpriced"] == 2
    assert spend["saved_usd"] == pytest.approx(0.002)
    ops = summarise(rows)
    assert ops["unpriced"] == 2 and ops["saved_usd"] == pytest.approx(0.002) and ops["cache_hit_rate"] == 0.25


def test_a_section_with_an_alert_never_reads_ok_in_the_summary(planted, config):
    report = monitor(planted, config, window=LAST_3D, delivery=NOT_STORED)
    text = report.to_text()
    kinds = {a.kind for a in report.alerts}
    assert kinds & {"cost_anomaly", "runaway_tokens", "retry_loop"}  # the planted stream has cost alerts
    costs_line = next(line for line in text.splitlines() if line.startswith("costs:"))
    assert costs_line.startswith("costs: ALERT (") and "costs: ok" not in text
    if kinds & {"quality_below_threshold", "quality_drop"}:
        assert "quality: ALERT (" in text
