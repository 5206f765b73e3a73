"""Write-behind keeps its bound: log rows and cache entries are durable within 0.2 s of being produced, whatever
the traffic.

A worker, and separately a server, is SIGKILLed after N answered requests with 0.4 s since the last one: every
one of the N log rows must be in the store (before, a lone row waited for a full batch or the 10 s idle timeout,
and a killed worker lost 42 of its 44 rows)."""
from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from test_queue import free_port, wait_for, write_config

from workbench.store import LogStore

ROOT = Path(__file__).resolve().parent.parent
N = 7


def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "WORKBENCH_OFFLINE": "1", "WORKBENCH_HOME": str(tmp_path / "home")}


def question(i: int) -> dict:
    return {"id": f"q{i}", "question": f"How many days is the refund window, case {i}?",
            "documents": [{"id": "r", "text": "Refunds are available within 30 days of the charge."}]}


def rows(db: str) -> list[dict]:
    return LogStore(db).requests()


def idle_then_kill(proc: subprocess.Popen) -> None:
    """0.4 s with nothing new (over the 0.2 s bound), then SIGKILL."""
    time.sleep(0.4)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)


def every_row_logged(db: str) -> bool:
    return sorted(r["item_id"] for r in rows(db)) == sorted(f"q{i}" for i in range(N))


def test_a_sigkilled_worker_keeps_every_log_row(tmp_path):
    config, db = write_config(tmp_path / "c.yaml"), f"sqlite:///{tmp_path / 'log.db'}"
    queue = f"sqlite:///{tmp_path / 'q' / 'huey.db'}"
    inputs = tmp_path / "in.jsonl"
    inputs.write_text("".join(json.dumps(question(i)) + "\n" for i in range(N)), encoding="utf-8")
    base = [sys.executable, "-m", "workbench"]
    enq = subprocess.run([*base, "enqueue", "--config", str(config), "--input", str(inputs), "--queue", queue,
                          "--db", db], capture_output=True, text=True, env=env(tmp_path), cwd=ROOT, timeout=120)
    assert enq.returncode == 0, enq.stderr
    worker = subprocess.Popen([*base, "worker", "--config", str(config), "--queue", queue, "--db", db],
                              env=env(tmp_path), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        from workbench.runner.ledger import Ledger

        ledger = Ledger(db)
        assert wait_for(lambda: ledger.counts()["done"] == N, timeout=120), \
            worker.stderr.read() if worker.poll() is not None else ledger.counts()
        idle_then_kill(worker)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert every_row_logged(db)


def start_server(tmp_path: Path, config: Path, db: str) -> tuple[subprocess.Popen, str]:
    """A real ``workbench serve`` on a free port, and its base URL once it answers ``/healthz``."""
    pytest.importorskip("uvicorn")
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "workbench", "serve", "--config", str(config), "--db", db,
                               "--port", str(port)], env=env(tmp_path), cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    if not wait_for(up, timeout=60):
        died = server.poll() is not None
        server.kill()
        raise AssertionError(server.stderr.read() if died else "no server")
    return server, url


@contextlib.contextmanager
def killed_server(tmp_path: Path, config: Path, db: str):
    """A real ``workbench serve`` for the test to call (its base URL), SIGKILLed at the end after 0.4 s idle."""
    server, url = start_server(tmp_path, config, db)
    try:
        yield url
        idle_then_kill(server)
    finally:
        if server.poll() is None:
            server.kill()


def ask_in_bursts(url: str, make=question) -> None:
    for i in range(N):
        assert httpx.post(f"{url}/v1/run", json=make(i), timeout=30).json()["status"] == "ok"
        time.sleep(0.05 if i % 3 else 0.3)  # bursts and pauses


def test_a_sigkilled_server_keeps_every_log_row(tmp_path):
    config, db = write_config(tmp_path / "c.yaml"), f"sqlite:///{tmp_path / 'log.db'}"
    with killed_server(tmp_path, config, db) as url:
        ask_in_bursts(url)
    assert every_row_logged(db)


def test_a_sigkilled_server_keeps_every_cache_entry(tmp_path):
    """The exact and the semantic cache write behind too (the semantic one since it batches its embeddings): with
    both on, every answer given 0.4 s before the kill is in both caches."""
    import sqlite3

    from test_queue import _build_in_root

    from workbench.config import CacheConfig
    from workbench.config.production import Evidence, ProductionConfig, TrafficSplit

    variant = _build_in_root(2, "medium").model_copy(update={"cache": CacheConfig(exact=True, semantic=True)})
    cfg = ProductionConfig(name="qa", variants={"v": variant}, split=TrafficSplit(weights={"v": 1.0}),
                           evidence=Evidence(experiment="t", evalset_name="x", evalset_hash="sha256:0",
                                             variant="v")).with_hash()
    config = tmp_path / "c.yaml"
    config.write_text(cfg.to_yaml(), encoding="utf-8")

    def own_document(i: int) -> dict:  # a scope of its own each, as with ever-new documents
        return {**question(i), "documents": [{"id": f"r{i}", "text": f"Refunds for case {i} take 30 days."}]}

    with killed_server(tmp_path, config, f"sqlite:///{tmp_path / 'log.db'}") as url:
        ask_in_bursts(url, own_document)
    caches = tmp_path / "home" / "runner"
    for name, table in (("responses.sqlite", "entries"), ("semantic.sqlite", "semantic_cache")):
        with sqlite3.connect(caches / name) as db:
            assert db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == N, name  # noqa: S608 - our names



def test_a_server_stopped_with_sigterm_mid_traffic_writes_a_row_for_every_answer(tmp_path):
    """A graceful stop (SIGTERM, as from systemd or Kubernetes) while requests are in flight: uvicorn answers them,
    then re-raises the signal, which ends the process without ``atexit``; the rows of the last 0.2 s were lost (48
    of 383 answers had none). The app's shutdown now closes the runner first: every answer has its row and its
    cache entry."""
    import sqlite3
    import threading

    config, db = write_config(tmp_path / "c.yaml"), f"sqlite:///{tmp_path / 'log.db'}"
    server, url = start_server(tmp_path, config, db)
    answered = []

    def one(i: int) -> None:  # a connection of its own, as from many callers
        body = {**question(i), "documents": [{"id": "r", "text": "Refunds take 30 days. " * 200}]}
        try:
            r = httpx.post(f"{url}/v1/run", json=body, timeout=30)
        except httpx.HTTPError:
            return  # the server had stopped taking requests
        if r.status_code == 200:
            assert r.json()["status"] == "ok"
            answered.append(f"q{i}")

    try:
        callers = [threading.Thread(target=one, args=(i,)) for i in range(400)]
        for t in callers:
            t.start()
            time.sleep(0.001)
        server.send_signal(signal.SIGTERM)  # with requests in flight: their rows wait for a batch
        err = server.communicate(timeout=60)[1]
        for t in callers:
            t.join(30)
    finally:
        if server.poll() is None:
            server.kill()
    assert "Traceback" not in err, err[-2000:]
    assert len(answered) >= 20
    assert sorted(r["item_id"] for r in rows(db)) == sorted(answered)
    with sqlite3.connect(tmp_path / "home" / "runner" / "responses.sqlite") as cache:
        assert cache.execute("SELECT COUNT(*) FROM entries").fetchone()[0] == len(answered)


def test_the_app_closes_its_runner_at_shutdown():
    """The mechanism of the test above, deterministic: the ASGI lifespan's shutdown closes the source (its runner's
    pending rows and cache entries written) before the server process ends."""
    import asyncio

    from workbench.runner.http import create_app

    class Source:
        closed = 0

        def close(self) -> None:
            self.closed += 1

    source, sent = Source(), []
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])

    async def receive() -> dict:
        return next(messages)

    async def send(message: dict) -> None:
        sent.append((message["type"], source.closed))

    asyncio.run(create_app(source)({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send))
    assert sent == [("lifespan.startup.complete", 0), ("lifespan.shutdown.complete", 1)]
