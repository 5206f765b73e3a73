"""What `workbench purge` leaves on disk, and how stores fail: purged text leaves every file (the `-wal` ones too)
while other connections keep the stores open; `run` and `worker` close every store they opened; a damaged or
read-only store is exit 2 with its repair, never a traceback; an in-memory log store or ledger is refused."""
from __future__ import annotations

import gc
import sqlite3
import time
from pathlib import Path

import pytest

from workbench.cli import main

ROOT = Path(__file__).resolve().parent.parent
NEEDLE = "PLANTED-needle-4f7Q"
DAY = 86400.0


def every_byte(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _plant(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """Every store that holds request text, with the needle written 40 days ago; the stores stay open (another
    process's connections: a worker or a server still running)."""
    from workbench.caches.exact import ResponseCache
    from workbench.caches.records import Expiry
    from workbench.caches.semantic import SemanticCache
    from workbench.models.embedders import HashingEmbedder
    from workbench.models.records import Completion
    from workbench.runner.ledger import Ledger
    from workbench.store.logstore import LogStore

    then = time.time() - 40 * DAY
    caches, queue = tmp_path / "caches", tmp_path / "q"
    db, ledger_db = f"sqlite:///{tmp_path / 'log.db'}", f"sqlite:///{queue / 'ledger.db'}"
    queue.mkdir()
    log = LogStore(db, clock=lambda: then)
    log.log_requests([{"status": "ok", "raw_input": f"{NEEDLE} {i}", "raw_output": NEEDLE} for i in range(20)])
    semantic = SemanticCache(caches / "semantic.sqlite", 0.9, HashingEmbedder(), expiry=Expiry(clock=lambda: then))
    semantic.put_many("scope", [(f"How long is the {NEEDLE} window, case {i}?", {"answer": NEEDLE})
                                for i in range(20)])
    with monkeypatch.context() as m:  # the response cache and the ledger stamp rows with time.time()
        m.setattr(time, "time", lambda: then)
        responses = ResponseCache(caches / "responses.sqlite")
        for i in range(20):
            responses.put(f"key {i}", Completion(text=f"{NEEDLE} answer {i}", model="m"))
        ledger = Ledger(ledger_db)
        ledger.add([(f"item{i}", {"id": f"item{i}", "question": NEEDLE}) for i in range(20)])
        for i in range(20):
            assert ledger.lease(f"item{i}", "w", 60) is not None
            assert ledger.complete(f"item{i}", {"id": f"item{i}", "output": NEEDLE})
    return {"stores": (log, semantic, responses, ledger), "db": db, "ledger": ledger_db, "caches": caches,
            "queue": f"sqlite:///{queue / 'huey.db'}"}


def _purge(planted: dict) -> int:
    return main(["purge", "--older-than-days", "30", "--db", planted["db"], "--ledger-db", planted["ledger"],
                 "--queue", planted["queue"], "--cache-dir", str(planted["caches"])])


def test_purged_text_leaves_every_file_while_other_connections_stay_open(tmp_path, monkeypatch, capsys):
    """The purge used to delete the rows but leave their text in `-wal` files (and in `ledger.db`) for as long as a
    worker kept the stores open, and in `semantic.sqlite-wal` after it exited: now each store's log is folded back
    and truncated after the deletes (the deleted cells themselves are zeroed: `secure_delete`)."""
    planted = _plant(tmp_path, monkeypatch)
    assert any(NEEDLE.encode() in data for data in every_byte(tmp_path).values())
    assert _purge(planted) == 0
    err = capsys.readouterr().err
    assert "purged 20 log rows, 20 response cache entries, 20 semantic cache entries, 20 finished queue items" in err
    leaks = sorted(name for name, data in every_byte(tmp_path).items() if NEEDLE.encode() in data)
    assert not leaks, leaks
    log, semantic, responses, ledger = planted["stores"]  # the open stores still work, and see the purge
    assert log.requests() == [] and len(semantic) == 0 and len(responses) == 0 and ledger.counts()["done"] == 0
    for store in planted["stores"]:
        store.close()


def _runner(tmp_path: Path):
    from workbench.config import CacheConfig, Evidence, ProductionConfig, TrafficSplit
    from workbench.config.pipeline import PipelineConfig
    from workbench.runner.runner import Runner

    variant = PipelineConfig.build("grounded_qa", version=2, tier="medium",
                                   cache=CacheConfig(exact=True, semantic=True, embedder="hashing"))
    config = ProductionConfig(
        name="t", variants={"a": variant}, split=TrafficSplit(weights={"a": 1.0}),
        evidence=Evidence(experiment="t", evalset_name="x", evalset_hash="sha256:0", variant="a")).with_hash()
    return Runner.from_config(config, db_url=f"sqlite:///{tmp_path / 'log.db'}", cache_path=tmp_path / "caches")


def test_a_closed_runner_leaves_no_write_ahead_log_and_its_caches_reopen_on_use(tmp_path):
    """`run` and `worker` close their runner at exit; closing it released the log store only, so the semantic and
    response caches kept their `-wal` (purged text included) after the process ended."""
    runner = _runner(tmp_path)
    doc = {"id": "refunds.md", "text": "# Refunds\n\nRefunds are available within 30 days of the charge."}
    first = runner.run({"id": "1", "question": f"How long do {NEEDLE} refunds take?", "documents": [doc]})
    assert first.status == "ok"
    runner.close()
    assert sorted(p.name for p in tmp_path.rglob("*-wal")) == []
    # a request still running on a runner being closed (a rollout retiring it) loses nothing: the caches reopen
    again = runner.run({"id": "2", "question": f"How long do {NEEDLE} refunds take?", "documents": [doc]})
    assert again.status == "ok" and again.cache == "semantic"
    runner.close()
    assert sorted(p.name for p in tmp_path.rglob("*-wal")) == []


def _damage(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:3000])  # truncated mid-page, as the tester did


@pytest.mark.parametrize("name", ["log.db", "responses.sqlite", "semantic.sqlite", "ledger.db"])
def test_a_damaged_store_is_exit_2_with_its_repair_and_the_others_are_purged(tmp_path, monkeypatch, capsys, name):
    planted = _plant(tmp_path, monkeypatch)
    stores = planted.pop("stores")
    for store in stores:
        close = getattr(store, "close", None)
        if close is not None:
            close()
    del stores, store, close
    gc.collect()  # a store without close() (the response cache had none) closes its connections when collected
    damaged = next(tmp_path.rglob(name))
    _damage(damaged)
    assert _purge(planted) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and f"{damaged} is damaged" in err and f"mv {damaged} {damaged}.broken" in err
    assert "3 store(s)" not in err and "could not be purged" in err  # one store failed, the other three purged
    leaks = sorted(p for p, data in every_byte(tmp_path).items() if NEEDLE.encode() in data and p != name)
    assert not leaks, leaks


def test_a_damaged_ledger_says_how_to_repair_it_in_every_queue_command(tmp_path, capsys):
    pytest.importorskip("huey")
    queue, db = f"sqlite:///{tmp_path / 'huey.db'}", f"sqlite:///{tmp_path / 'ledger.db'}"
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "q1", "question": "How long is the refund window?"}\n', encoding="utf-8")
    assert main(["enqueue", "--input", str(src), "--queue", queue, "--db", db]) == 0
    _damage(tmp_path / "ledger.db")
    capsys.readouterr()
    for cmd in (["queue", "status"], ["enqueue", "--input", str(src)]):
        assert main([*cmd, "--queue", queue, "--db", db]) == 2
        err = capsys.readouterr().err
        ledger = tmp_path / "ledger.db"
        assert f"the queue ledger {ledger} is damaged" in err and f"mv {ledger} {ledger}.broken" in err, err


def test_a_read_only_queue_folder_is_not_called_a_damaged_file(tmp_path, monkeypatch, capsys):
    """A read-only `WORKBENCH_HOME` (a read-only mount) holding a queue was reported as a damaged `huey.db`, with
    `mv huey.db huey.db.broken` as the repair. Simulated: the folder refuses writes (as `access(2)` says for a
    read-only mount, even to root) and SQLite cannot open the file for writing."""
    pytest.importorskip("huey")
    import os

    import huey

    folder = tmp_path / "q"
    queue, db = f"sqlite:///{folder / 'huey.db'}", f"sqlite:///{folder / 'ledger.db'}"
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "q1", "question": "How long is the refund window?"}\n', encoding="utf-8")
    assert main(["enqueue", "--input", str(src), "--queue", queue, "--db", db]) == 0
    capsys.readouterr()
    real_access = os.access

    def access(path, mode, **kw):
        if Path(path).resolve().is_relative_to(folder.resolve()) and mode & os.W_OK:
            return False
        return real_access(path, mode, **kw)

    class ReadOnlyHuey(huey.SqliteHuey):
        def __init__(self, *a, **kw):
            raise sqlite3.OperationalError("unable to open database file")

    monkeypatch.setattr(os, "access", access)
    monkeypatch.setattr(huey, "SqliteHuey", ReadOnlyHuey)
    for cmd in (["queue", "status"], ["enqueue", "--input", str(src)]):
        assert main([*cmd, "--queue", queue, "--db", db]) == 2
        err = capsys.readouterr().err
        assert f"cannot write in {folder}" in err and "WORKBENCH_HOME" in err, err
        assert "damaged" not in err and ".broken" not in err


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_an_in_memory_log_store_or_ledger_is_refused(url):
    """Each connection to an in-memory SQLite database gets its own: the runner's background writer found no
    table, and every log row was lost while the run exited 0."""
    from workbench.errors import LogStoreError, QueueUnavailableError
    from workbench.runner.ledger import Ledger
    from workbench.store.logstore import LogStore

    with pytest.raises(LogStoreError, match="in-memory log store .* would lose every row") as e:
        LogStore(url)
    assert "sqlite:////" in e.value.hint
    with pytest.raises(QueueUnavailableError, match="in-memory queue ledger"):
        Ledger(url)
