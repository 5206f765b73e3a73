"""The queue on Redis with its ledger on PostgreSQL, as on several machines.

Needs ``WORKBENCH_TEST_REDIS_URL`` (a Redis database these tests may flush, e.g. ``redis://127.0.0.1:6379/15``) and
``WORKBENCH_TEST_POSTGRES_URL`` (``postgresql+psycopg://user:pass@127.0.0.1/workbench_test``); ``.ci/run`` starts
both. Each test skips cleanly when its service is not configured.
"""
from __future__ import annotations

import os
import signal
import uuid

import pytest
from test_queue import fake_factory, free_port, read_lines, start_worker, wait_for, write_config, write_inputs

from workbench.cli import main

REDIS = os.environ.get("WORKBENCH_TEST_REDIS_URL")
POSTGRES = os.environ.get("WORKBENCH_TEST_POSTGRES_URL")
needs_redis = pytest.mark.skipif(not REDIS, reason="WORKBENCH_TEST_REDIS_URL is not set (.ci/run sets it)")
needs_postgres = pytest.mark.skipif(not POSTGRES, reason="WORKBENCH_TEST_POSTGRES_URL is not set (.ci/run sets it)")


@pytest.fixture
def redis_url() -> str:
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS)
    client.flushdb()
    yield REDIS
    client.flushdb()


@pytest.fixture
def pg_url() -> str:
    import sqlalchemy as sa

    from workbench.runner.ledger import ITEMS, Ledger

    Ledger(POSTGRES).close()  # create the table
    engine = sa.create_engine(POSTGRES)
    with engine.begin() as conn:
        conn.execute(ITEMS.delete().where(ITEMS.c.queue == "workbench"))
    engine.dispose()
    return POSTGRES


@needs_postgres
def test_ledger_on_postgres(pg_url):
    from workbench.runner.ledger import Ledger

    ledger = Ledger(pg_url, queue=f"t-{uuid.uuid4().hex[:8]}")
    assert ledger.add([("a", {"id": "a"}), ("b", {"id": "b"})]) == (["a", "b"], [])
    assert ledger.lease("a", "w1", 60) and ledger.lease("a", "w2", 60) is None
    assert ledger.complete("a", {"ok": 1}) and not ledger.complete("a", {"ok": 2})
    assert ledger.counts() == {"pending": 1, "leased": 0, "done": 1}
    assert [r["item_id"] for r in ledger.rows()] == ["a", "b"]
    ledger.close()


@needs_redis
@needs_postgres
def test_sigkill_on_redis_with_a_postgres_ledger(tmp_path, redis_url, pg_url):
    from workbench.runner.ledger import Ledger

    config = write_config(tmp_path / "c.yaml")
    inputs = write_inputs(tmp_path / "in.jsonl", 30)
    assert main(["enqueue", "--input", str(inputs), "--queue", redis_url, "--db", pg_url]) == 0
    ledger = Ledger(pg_url)
    workers = [start_worker(config, redis_url, "--lease-seconds", "2", delay=0.2, db=pg_url) for _ in range(2)]
    try:
        assert wait_for(lambda: ledger.counts()["done"] >= 6 and ledger.counts()["leased"] >= 1, timeout=60)
        workers[0].send_signal(signal.SIGKILL)  # one of two machines dies mid-batch
        workers[0].wait(10)
        survivor = start_worker(config, redis_url, "--lease-seconds", "2", "--until-empty", delay=0.01, db=pg_url)
        _, err = survivor.communicate(timeout=120)
        assert survivor.returncode == 0, err
    finally:
        for w in workers:
            if w.poll() is None:
                w.send_signal(signal.SIGTERM)
                w.wait(30)
    assert ledger.counts() == {"pending": 0, "leased": 0, "done": 30}
    out = tmp_path / "out.jsonl"
    assert main(["queue", "export", "--out", str(out), "--queue", redis_url, "--db", pg_url]) == 0
    assert [x["id"] for x in read_lines(out)] == [f"q{i:03d}" for i in range(30)]


@needs_redis
@needs_postgres
def test_items_accepted_while_redis_is_down_are_pushed_later(tmp_path, redis_url, pg_url, monkeypatch, capsys):
    from workbench.runner.queue import WorkQueue
    from workbench.runner.source import ConfigSource
    from workbench.runner.worker import Worker, WorkerOptions

    monkeypatch.setattr("workbench.runner.source.build_runner", fake_factory)
    inputs = write_inputs(tmp_path / "in.jsonl", 5)
    dead = f"redis://127.0.0.1:{free_port()}/0"
    assert main(["enqueue", "--input", str(inputs), "--queue", dead, "--db", pg_url]) == 2
    assert "queue_unavailable" in capsys.readouterr().err
    assert main(["enqueue", "--input", str(inputs), "--queue", redis_url, "--db", pg_url]) == 0
    assert "5 already known, 5 pushed" in capsys.readouterr().err
    queue = WorkQueue(redis_url, pg_url)
    source = ConfigSource(path=write_config(tmp_path / "c.yaml"))
    report = Worker(queue, source, options=WorkerOptions(until_empty=True)).run()
    assert report.processed == 5 and queue.ledger.counts()["done"] == 5


@needs_postgres
def test_real_runner_with_its_db_on_postgres(tmp_path, pg_url, monkeypatch):
    pytest.importorskip("workbench.runner.runner")
    from workbench.runner.queue import WorkQueue
    from workbench.runner.source import ConfigSource
    from workbench.runner.worker import Worker, WorkerOptions

    queue = WorkQueue(f"sqlite:///{tmp_path / 'q' / 'huey.db'}", pg_url)
    queue.submit([("p1", {"id": "p1", "question": "How long is the refund window?",
                          "documents": [{"id": "d", "text": "Refunds are available within 30 days."}]})])
    source = ConfigSource(path=write_config(tmp_path / "c.yaml"), db_url=pg_url)
    assert Worker(queue, source, options=WorkerOptions(until_empty=True)).run().processed == 1
    line = next(queue.ledger.rows())["result"]
    assert line["id"] == "p1" and line["status"] in ("ok", "degraded")
