"""Rollout store: configs by hash, the active pointer, splits, rollback; workers follow the pointer."""
from __future__ import annotations

import json
import threading

import pytest
import yaml
from test_queue import fake_factory, make_config, wait_for, write_config

from workbench.cli import main
from workbench.config.production import load_production_config
from workbench.errors import ConfigTamperedError, UsageError
from workbench.release.rollout import ConfigStore
from workbench.runner.source import ConfigSource


@pytest.fixture
def store(tmp_path) -> ConfigStore:
    return ConfigStore(tmp_path / "store")


@pytest.fixture
def two(tmp_path) -> tuple:
    a = write_config(tmp_path / "a.yaml", variant="current", tier="medium")
    b = write_config(tmp_path / "b.yaml", variant="candidate", tier="small")
    return a, b, load_production_config(a).config_hash, load_production_config(b).config_hash


def test_add_promote_rollback(store, two):
    a, b, ha, hb = two
    assert store.add(a).config_hash == ha and store.add(a).config_hash == ha  # idempotent
    store.add(b)
    assert (store.root / f"{ha[7:]}.yaml").exists() and store.meta(ha)["evidence"][0]["experiment"] == "test"
    assert store.active_hash() is None
    assert store.promote(ha[:15]) == ha  # a prefix works
    assert store.promote(hb[7:19]) == hb
    assert [r["active"] for r in store.list() if r["config_hash"] == hb] == [True]
    assert store.rollback() == ha and store.active_hash() == ha
    with pytest.raises(UsageError, match="nothing to roll back"):
        store.rollback()
    with pytest.raises(UsageError, match="matches no"):
        store.promote("sha256:ffff0000")


def test_a_tampered_config_is_refused(store, tmp_path):
    path = write_config(tmp_path / "t.yaml")
    raw = yaml.safe_load(path.read_text())
    raw["name"] = "edited"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigTamperedError):
        store.add(path)
    assert list(store.root.glob("*.yaml")) == []


def test_split_spans_both_variants(store, two):
    a, b, ha, hb = two
    store.add(a)
    store.add(b)
    split = store.split({ha: 0.9, hb: 0.1})
    assert split.split.weights == {"current": 0.9, "candidate": 0.1}
    assert set(split.variants) == {"current", "candidate"}
    assert load_production_config(store.path(split.config_hash)).config_hash == split.config_hash  # re-hashed
    meta = store.meta(split.config_hash)
    assert meta["kind"] == "split" and [p["config_hash"] for p in meta["parts"]] == [ha, hb]
    assert len(meta["evidence"]) == 2
    # the same variant name in both parts: the second one is suffixed with its hash
    same = store.split({ha: 0.5, split.config_hash: 0.5})
    assert set(same.split.weights) == {"current", f"current@{split.config_hash[7:15]}", "candidate"}
    assert abs(sum(same.split.weights.values()) - 1.0) < 1e-6


def test_rollout_cli(tmp_path, two, capsys):
    a, b, ha, hb = two
    s = ["--store", str(tmp_path / "cli-store")]
    assert main(["rollout", "add", str(a), str(b), *s]) == 0
    assert main(["rollout", "promote", ha[:20], *s]) == 0
    assert main(["rollout", "split", f"{ha[:20]}=0.9", f"{hb[:20]}=0.1", *s]) == 0
    out = capsys.readouterr().out
    assert f"active: {ha}" in out and '"current": 0.9' in out
    assert main(["rollout", "list", "--format", "json", *s]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 3 and sum(r["active"] for r in rows) == 1
    assert next(r for r in rows if r["active"])["kind"] == "split"
    assert main(["rollout", "rollback", *s]) == 0 and f"active: {ha}" in capsys.readouterr().out
    assert main(["rollout", "split", "nonsense", *s]) == 2
    assert main(["rollout", "rollback", *s]) == 2
    assert "nothing to roll back" in capsys.readouterr().err


def test_pointer_updates_are_atomic(store, two):
    a, b, ha, hb = two
    store.add(a)
    store.add(b)
    store.promote(ha)
    seen: set = set()
    stop = threading.Event()

    def read():
        while not stop.is_set():
            seen.add(json.loads(store.pointer.read_text())["active"])  # never a partial file

    reader = threading.Thread(target=read)
    reader.start()
    for i in range(200):
        store.promote(hb if i % 2 == 0 else ha)
    stop.set()
    reader.join()
    assert seen <= {ha, hb} and not list(store.root.glob(".*.tmp"))


def test_a_following_worker_switches_config_between_items(tmp_path, two, monkeypatch):
    from workbench.runner.queue import WorkQueue
    from workbench.runner.worker import Worker, WorkerOptions

    monkeypatch.setattr("workbench.runner.source.build_runner", fake_factory)
    monkeypatch.setenv("WORKBENCH_FAKE_DELAY", "0.05")
    a, b, ha, hb = two
    store = ConfigStore(tmp_path / "store")
    store.add(a)
    store.add(b)
    store.promote(ha)
    queue = WorkQueue(f"sqlite:///{tmp_path / 'q' / 'huey.db'}")
    queue.submit([(f"i{n:02d}", {"id": f"i{n:02d}", "question": str(n)}) for n in range(30)])
    worker = Worker(queue, ConfigSource(store=store), options=WorkerOptions(concurrency=2, until_empty=True))
    thread = threading.Thread(target=worker.run)
    thread.start()
    assert wait_for(lambda: queue.ledger.counts()["done"] >= 8, timeout=30)
    store.promote(hb)
    thread.join(60)
    rows = list(queue.ledger.rows())
    assert queue.ledger.counts() == {"pending": 0, "leased": 0, "done": 30}
    assert [r["result"]["id"] for r in rows] == [f"i{n:02d}" for n in range(30)]
    by_hash = {ha: "current", hb: "candidate"}
    assert all(r["result"]["variant"] == by_hash[r["config_hash"]] for r in rows)
    assert {r["config_hash"] for r in rows[:5]} == {ha} and {r["config_hash"] for r in rows[-5:]} == {hb}
    assert set(worker.report.configs) == {ha, hb}


def test_following_without_an_active_config_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="no active config"):
        ConfigSource.from_args("active", str(tmp_path / "empty"), None).current()
    assert make_config().config_hash.startswith("sha256:")


def test_a_runner_the_pointer_moved_away_from_is_closed_and_loses_no_row(tmp_path, two):
    """A long-running server kept one open runner (log store connections, a writer thread) per rollout; the replaced
    one is now closed in the background, and an item still running on it is logged all the same."""
    import sqlalchemy as sa

    a, b, ha, hb = two
    store = ConfigStore(tmp_path / "store")
    store.add(a)
    store.add(b)
    store.promote(ha)
    db = f"sqlite:///{tmp_path / 'log.db'}"
    src = ConfigSource(store=store, db_url=db)
    _, first = src.current()
    closed = threading.Event()
    close = first.close
    first.close = lambda: (close(), closed.set())
    question = {"question": "How long do refunds take?", "documents": ["Refunds take 5 days."]}
    first.run({"id": "before", **question})
    store.promote(hb)
    _, second = src.current()
    assert second is not first and closed.wait(10)  # retired in a background thread
    first.run({"id": "in-flight", **question})  # an item that was still running on the old runner
    first.close()
    second.run({"id": "after", **question})
    src.close()
    with sa.create_engine(db).connect() as c:
        ids = {row[0] for row in c.execute(sa.text("SELECT item_id FROM requests"))}
    assert {"before", "in-flight", "after"} <= ids
