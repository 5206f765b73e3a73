"""The durable queue: huey broker + SQL item ledger; a SIGKILLed worker loses nothing and duplicates nothing.

Workers here use a fake runner (``fake_factory`` in place of ``build_runner``: in-process by monkeypatching, in a
subprocess through ``tests/fake_runner_cli.py``) that sleeps
``WORKBENCH_FAKE_DELAY`` seconds per item, so a worker can be killed mid-batch; one test runs the real runner.
The helpers (``make_config``, ``FakeRunner``) are shared by test_http and test_rollout.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from workbench.cli import main
from workbench.runner.ledger import Ledger

ROOT = Path(__file__).resolve().parent.parent
FAKE_CLI = [sys.executable, str(Path(__file__).resolve().parent / "fake_runner_cli.py")]
"""The workbench CLI with ``build_runner`` replaced by ``fake_factory`` (``WORKBENCH_TEST_FACTORY`` names another)."""


# ---------------------------------------------------------------- shared helpers
def make_config(name: str = "qa", variant: str = "current", tier: str = "medium", version: int = 2):
    """A small, valid, hashed ProductionConfig with one variant."""
    from workbench.config.production import Evidence, ProductionConfig, TrafficSplit

    cfg = _build_in_root(version, tier)
    return ProductionConfig(name=name, variants={variant: cfg}, split=TrafficSplit(weights={variant: 1.0}),
                            evidence=Evidence(experiment="test", evalset_name="northwind_qa",
                                              evalset_hash="sha256:0", variant=variant)).with_hash()


def _build_in_root(version: int, tier: str):
    from workbench.config.pipeline import PipelineConfig

    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        return PipelineConfig.build("grounded_qa", version=version, tier=tier)
    finally:
        os.chdir(cwd)


def write_config(path: Path, **kw: Any) -> Path:
    path.write_text(make_config(**kw).to_yaml(), encoding="utf-8")
    return path


class FakeResult:
    def __init__(self, line: dict[str, Any]):
        self.line = line

    def to_line(self) -> dict[str, Any]:
        return dict(self.line)


class FakeRunner:
    """Answers ``echo: <question>`` after ``WORKBENCH_FAKE_DELAY`` seconds, with the config's first variant."""

    def __init__(self, config: Any, db_url: str | None = None):
        from workbench.runner.metrics import Metrics

        self.config = config
        self.delay = float(os.environ.get("WORKBENCH_FAKE_DELAY", "0"))
        self.metrics = Metrics()

    def run(self, inputs: dict[str, Any]) -> FakeResult:
        from workbench.runner.result import RunnerResult

        time.sleep(self.delay)
        variant = next(iter(self.config.split.weights))
        self.metrics.observe(RunnerResult(inputs.get("id"), "ok", variant=variant, tier="medium",
                                          latency_ms=self.delay * 1000))
        return FakeResult({"id": inputs.get("id"), "status": "ok", "output": f"echo: {inputs.get('question', '')}",
                           "variant": variant, "model": "fake/echo", "tier": "medium", "cost_usd": 0.0,
                           "cost_basis": "offline", "latency_ms": self.delay * 1000, "cache": "miss",
                           "error": None})


def fake_factory(config: Any, db_url: str | None = None, **_: Any) -> FakeRunner:
    return FakeRunner(config, db_url)


class FlakyRunner(FakeRunner):
    """Fails each item with ``provider_unavailable`` on its first ``FAILS[id]`` runs, then answers."""

    FAILS: dict[str, int] = {}
    RUNS: dict[str, int] = {}

    def run(self, inputs: dict[str, Any]) -> FakeResult:
        item = str(inputs.get("id"))
        self.RUNS[item] = self.RUNS.get(item, 0) + 1
        if self.RUNS[item] <= self.FAILS.get(item, 0):
            return FakeResult({"id": item, "status": "failed", "output": None, "variant": None, "model": None,
                               "tier": None, "cost_usd": 0.0, "cost_basis": None, "latency_ms": 0.0,
                               "cache": "miss", "error": {"code": "provider_unavailable", "message": "down"}})
        return super().run(inputs)


def flaky_factory(config: Any, db_url: str | None = None, **_: Any) -> FlakyRunner:
    return FlakyRunner(config, db_url)


def write_inputs(path: Path, n: int) -> Path:
    path.write_text("".join(json.dumps({"id": f"q{i:03d}", "question": f"question {i}?"}) + "\n"
                            for i in range(n)), encoding="utf-8")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "tests"), str(ROOT)]), **extra)
    return env


def start_worker(config: Path, queue: str, *args: str, delay: float = 0.0, db: str | None = None) -> subprocess.Popen:
    cmd = [*FAKE_CLI, "worker", "--config", str(config), "--queue", queue, *args]
    if db:
        cmd += ["--db", db]
    return subprocess.Popen(cmd, cwd=ROOT, env=worker_env(WORKBENCH_FAKE_DELAY=str(delay)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def read_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def wait_for(predicate, timeout: float = 60.0, every: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return False


@pytest.fixture
def fake_runner(monkeypatch):
    monkeypatch.setattr("workbench.runner.source.build_runner", fake_factory)
    monkeypatch.setenv("WORKBENCH_FAKE_DELAY", "0")


@pytest.fixture
def qdir(tmp_path) -> dict[str, Any]:
    q = tmp_path / "queue"
    return {"queue": f"sqlite:///{q / 'huey.db'}", "ledger": f"sqlite:///{q / 'ledger.db'}", "dir": q,
            "config": write_config(tmp_path / "c.yaml"), "tmp": tmp_path}


# ---------------------------------------------------------------- ledger
def test_ledger_lease_complete_is_idempotent(tmp_path):
    ledger = Ledger(f"sqlite:///{tmp_path / 'l.db'}")
    added, known = ledger.add([("a", {"id": "a"}), ("b", {"id": "b"})])
    assert added == ["a", "b"] and known == []
    assert ledger.add([("a", {"id": "a"}), ("c", {"id": "c"})]) == (["c"], ["a"])
    item = ledger.lease("a", "w1", 60)
    assert item and item.input == {"id": "a"} and item.attempts == 1
    assert ledger.lease("a", "w2", 60) is None  # held by a live lease
    assert ledger.complete("a", {"id": "a", "n": 1}, "sha256:x")
    assert not ledger.complete("a", {"id": "a", "n": 2}, "sha256:y")  # exactly one result
    assert ledger.lease("a", "w2", 60) is None  # done: a duplicate task is skipped
    rows = {r["item_id"]: r for r in ledger.rows()}
    assert rows["a"]["result"] == {"id": "a", "n": 1} and rows["a"]["config_hash"] == "sha256:x"
    assert [r["item_id"] for r in ledger.rows()] == ["a", "b", "c"]
    assert ledger.counts() == {"pending": 2, "leased": 0, "done": 1}


def test_ledger_reaps_expired_leases_and_unpushed_items(tmp_path):
    ledger = Ledger(f"sqlite:///{tmp_path / 'l.db'}")
    ledger.add([("a", {"id": "a"}), ("b", {"id": "b"})])
    assert ledger.reap(broker_empty=False) == ["a", "b"]  # never pushed
    assert ledger.reap(broker_empty=False) == []
    assert ledger.lease("a", "dead", 0.01)
    time.sleep(0.05)
    assert ledger.reap(broker_empty=False) == ["a"]  # the lease expired: pending again
    assert ledger.counts()["leased"] == 0
    assert ledger.reap(broker_empty=True) == []  # within the grace period
    time.sleep(0.05)
    # the broker is empty but items are pending: their tasks were lost (a worker died before leasing)
    assert ledger.reap(broker_empty=True, grace_seconds=0.01) == ["a", "b"]
    assert ledger.reap(broker_empty=False) == []


# ---------------------------------------------------------------- worker in-process
def test_enqueue_worker_export_in_order(qdir, fake_runner, capsys):
    from workbench.runner.queue import WorkQueue
    from workbench.runner.source import ConfigSource
    from workbench.runner.worker import Worker, WorkerOptions

    inputs = write_inputs(qdir["tmp"] / "in.jsonl", 12)
    assert main(["enqueue", "--config", str(qdir["config"]), "--input", str(inputs), "--queue", qdir["queue"]]) == 0
    assert main(["enqueue", "--input", str(inputs), "--queue", qdir["queue"]]) == 0  # idempotent by id
    assert "0 item(s)" in capsys.readouterr().err
    queue = WorkQueue(qdir["queue"])
    assert queue.status()["pending"] == 12 and queue.size() == 12
    queue.push(["q003", "q004"])  # duplicate tasks: each item still runs once
    options = WorkerOptions(concurrency=3, until_empty=True)
    report = Worker(queue, ConfigSource(path=qdir["config"]), options=options).run()
    assert report.processed == 12 and report.skipped == 2
    out = qdir["tmp"] / "out.jsonl"
    assert main(["queue", "export", "--out", str(out), "--queue", qdir["queue"]]) == 0
    lines = read_lines(out)
    assert [x["id"] for x in lines] == [f"q{i:03d}" for i in range(12)]
    assert all(x["status"] == "ok" and x["output"] == f"echo: question {i}?" for i, x in enumerate(lines))
    assert set(lines[0]) == {"id", "status", "output", "variant", "model", "tier", "cost_usd", "cost_basis",
                             "latency_ms", "cache", "error"}
    assert main(["queue", "status", "--format", "json", "--queue", qdir["queue"]]) == 0
    status = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert status["done"] == 12 and status["pending"] == 0 and status["broker_tasks"] == 0


def test_bad_lines_are_refused_and_max_items(qdir, fake_runner, capsys):
    from workbench.runner.queue import WorkQueue
    from workbench.runner.source import ConfigSource
    from workbench.runner.worker import Worker, WorkerOptions

    path = qdir["tmp"] / "in.jsonl"
    path.write_text('{"id": "a", "question": "x"}\nnot json\n[1]\n{"question": "no id"}\n{"id": "a"}\n'
                    '{"id": 7, "question": "int id"}\n', encoding="utf-8")
    assert main(["enqueue", "--input", str(path), "--queue", qdir["queue"]]) == 1
    err = capsys.readouterr().err
    assert "enqueued 2 item(s)" in err and err.count("error:") == 4
    queue = WorkQueue(qdir["queue"])
    assert Worker(queue, ConfigSource(path=qdir["config"]), options=WorkerOptions(max_items=1)).run().processed == 1
    assert queue.ledger.counts() == {"pending": 1, "leased": 0, "done": 1}
    lines = []
    queue.export(type("W", (), {"write": lambda self, s: lines.append(json.loads(s))})())
    assert [x["status"] for x in lines] == ["ok", "pending"] and lines[1]["id"] == 7


def test_enqueue_reads_its_input_as_the_ledger_takes_it(qdir, monkeypatch):
    """A file of any size: ``submit`` records the items a chunk at a time while they are read, never the whole
    file at once; order and idempotence are kept."""
    from workbench.runner import queue as queue_module
    from workbench.runner.queue import WorkQueue

    monkeypatch.setattr(queue_module, "SUBMIT_CHUNK", 10)
    drawn: list[int] = []
    recorded_when: list[int] = []
    queue = WorkQueue(qdir["queue"], qdir["ledger"])
    real_add = queue.ledger.add

    def add(items, kind="run"):
        recorded_when.append(len(drawn))
        return real_add(items, kind=kind)

    monkeypatch.setattr(queue.ledger, "add", add)

    def items():
        for i in range(25):
            drawn.append(i)
            yield f"s{i:02d}", {"id": f"s{i:02d}", "question": str(i)}

    report = queue.submit(items())
    assert recorded_when == [10, 20, 25]  # each chunk recorded before the next is read
    assert (report.added, report.known, report.pushed) == (25, 0, 25)
    assert [r["item_id"] for r in queue.ledger.rows()] == [f"s{i:02d}" for i in range(25)]
    assert queue.submit(items()).known == 25
    queue.close()


def test_enqueue_of_a_missing_file_fails_before_any_queue_is_made(qdir, capsys):
    assert main(["enqueue", "--input", str(qdir["tmp"] / "nope.jsonl"), "--queue", qdir["queue"]]) == 2
    assert "nope.jsonl" in capsys.readouterr().err
    assert not Path(qdir["queue"]).exists()


def test_worker_with_the_real_runner(qdir, monkeypatch):
    pytest.importorskip("workbench.runner.runner")
    from workbench.runner.queue import WorkQueue
    from workbench.runner.source import ConfigSource
    from workbench.runner.worker import Worker, WorkerOptions

    monkeypatch.setenv("WORKBENCH_DB_URL", f"sqlite:///{qdir['tmp'] / 'runner.db'}")
    text = (ROOT / "corpus" / "refund-policy.md").read_text(encoding="utf-8") \
        if (ROOT / "corpus" / "refund-policy.md").exists() else "Refunds are available within 30 days."
    queue = WorkQueue(qdir["queue"], qdir["ledger"])
    queue.submit([(f"r{i}", {"id": f"r{i}", "question": "How long is the refund window?",
                             "documents": [{"id": "refund-policy.md", "text": text}]}) for i in range(3)])
    report = Worker(queue, ConfigSource(path=qdir["config"]), options=WorkerOptions(until_empty=True)).run()
    assert report.processed == 3
    lines = [r["result"] for r in queue.ledger.rows()]
    assert [x["id"] for x in lines] == ["r0", "r1", "r2"]
    assert all(x["status"] in ("ok", "degraded") and x["variant"] == "current" for x in lines)


# ---------------------------------------------------------------- SIGKILL
def test_sigkilled_worker_loses_nothing_and_duplicates_nothing(qdir):
    inputs = write_inputs(qdir["tmp"] / "in.jsonl", 30)
    assert main(["enqueue", "--input", str(inputs), "--queue", qdir["queue"]]) == 0
    ledger = Ledger(qdir["ledger"])
    first = start_worker(qdir["config"], qdir["queue"], "--concurrency", "2", "--lease-seconds", "2", delay=0.2)
    try:
        assert wait_for(lambda: ledger.counts()["done"] >= 6 and ledger.counts()["leased"] >= 1, timeout=60), \
            first.stderr.read() if first.poll() is not None else "worker made no progress"
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    killed = ledger.counts()
    assert killed["done"] < 30 and killed["leased"] >= 1  # killed mid-batch, holding leases
    second = start_worker(qdir["config"], qdir["queue"], "--lease-seconds", "2", "--until-empty", delay=0.01)
    _, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    assert ledger.counts() == {"pending": 0, "leased": 0, "done": 30}
    export = qdir["tmp"] / "out.jsonl"
    assert main(["queue", "export", "--out", str(export), "--queue", qdir["queue"]]) == 0
    lines = read_lines(export)
    assert [x["id"] for x in lines] == [f"q{i:03d}" for i in range(30)]  # none lost, none duplicated, in order
    assert all(x["status"] == "ok" for x in lines)
    assert any(r["attempts"] >= 2 for r in ledger.rows())  # an item the dead worker held ran again


# ---------------------------------------------------------------- a dead broker
def test_dead_redis_is_a_clear_error_and_items_stay_pending(qdir, capsys):
    port = free_port()  # nothing listens here
    inputs = write_inputs(qdir["tmp"] / "in.jsonl", 5)
    dead = f"redis://127.0.0.1:{port}/0"
    code = main(["enqueue", "--input", str(inputs), "--queue", dead, "--db", qdir["ledger"]])
    err = capsys.readouterr().err
    assert code == 2 and "error [queue_unavailable]" in err and "unreachable" in err and "Traceback" not in err
    ledger = Ledger(qdir["ledger"])
    assert ledger.counts() == {"pending": 5, "leased": 0, "done": 0}  # accepted items are kept
    assert all(r["result"] is None for r in ledger.rows())
    proc = start_worker(qdir["config"], dead, "--until-empty", db=qdir["ledger"])
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "queue_unavailable" in err and "Traceback" not in err
    assert main(["queue", "status", "--queue", dead, "--db", qdir["ledger"]]) == 2
    assert "5 pending" in capsys.readouterr().out


def test_transient_failures_are_queued_for_later_until_the_last_attempt(qdir, monkeypatch):
    from workbench.runner.queue import WorkQueue
    from workbench.runner.source import ConfigSource
    from workbench.runner.worker import MAX_ATTEMPTS, Worker, WorkerOptions

    monkeypatch.setattr("workbench.runner.source.build_runner", flaky_factory)
    FlakyRunner.RUNS.clear()
    FlakyRunner.FAILS.clear()
    FlakyRunner.FAILS.update({"q000": 1, "q001": 99})  # q000 recovers on its second try; q001 never does
    inputs = write_inputs(qdir["tmp"] / "in.jsonl", 3)
    assert main(["enqueue", "--config", str(qdir["config"]), "--input", str(inputs), "--queue", qdir["queue"]]) == 0
    queue = WorkQueue(qdir["queue"])
    options = WorkerOptions(until_empty=True, poll_seconds=0.05)
    report = Worker(queue, ConfigSource(path=qdir["config"]), options=options).run()
    assert FlakyRunner.RUNS == {"q000": 2, "q001": MAX_ATTEMPTS, "q002": 1}
    assert report.processed == 3 and report.requeued == 1 + (MAX_ATTEMPTS - 1)
    out = qdir["tmp"] / "out.jsonl"
    assert main(["queue", "export", "--out", str(out), "--queue", qdir["queue"]]) == 0
    lines = {x["id"]: x for x in read_lines(out)}
    assert lines["q000"]["status"] == "ok" and lines["q002"]["status"] == "ok"
    assert lines["q001"]["status"] == "failed" and lines["q001"]["error"]["code"] == "provider_unavailable"
