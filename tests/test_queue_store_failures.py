"""The queue's stores failing *after* they were opened: a ledger damaged, altered, dropped, emptied, full or gone
while a command or a worker holds it, a queue file damaged under an idle worker. Every command says so in one
message with the repair (exit 2, never a traceback), and no item is lost: a worker that meets a broken store stops,
and an item it held is given back or stays leased until its lease expires, never done without a result.

Workers run in-process with the fake runner of ``test_queue`` (no model, no network); each test takes well under
five seconds.
"""
from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from test_queue import FakeResult, FakeRunner, free_port, write_config, write_inputs

from workbench.cli import main
from workbench.errors import QueueUnavailableError

huey = pytest.importorskip("huey")


@pytest.fixture
def q(tmp_path) -> dict[str, Any]:
    """Five items enqueued in a SQLite queue (``huey.db``) and ledger (``ledger.db``)."""
    folder = tmp_path / "queue"
    queue, db = f"sqlite:///{folder / 'huey.db'}", f"sqlite:///{folder / 'ledger.db'}"
    inputs = write_inputs(tmp_path / "in.jsonl", 5)
    assert main(["enqueue", "--input", str(inputs), "--queue", queue, "--db", db]) == 0
    return {"queue": queue, "db": db, "args": ["--queue", queue, "--db", db], "huey": folder / "huey.db",
            "ledger": folder / "ledger.db", "config": write_config(tmp_path / "c.yaml"), "tmp": tmp_path}


def _sql(path: Path, *statements: str) -> None:
    with sqlite3.connect(path) as conn:
        for statement in statements:
            conn.execute(statement)
    conn.close()


def _state(path: Path) -> dict[str, tuple[str, Any]]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT item_id, state, result FROM queue_items").fetchall()
    conn.close()
    return {item: (state, result) for item, state, result in rows}


def _cli(capsys, *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(list(argv))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def _worker(q: dict[str, Any], monkeypatch, runner: type = FakeRunner, **options: Any):
    """A queue and a worker on it (``options``: ``WorkerOptions``), running items with ``runner``."""
    from workbench.runner.queue import WorkQueue
    from workbench.runner.source import ConfigSource
    from workbench.runner.worker import Worker, WorkerOptions

    monkeypatch.setattr("workbench.runner.source.build_runner", lambda config, **_: runner(config))
    monkeypatch.setenv("WORKBENCH_FAKE_DELAY", "0")
    queue = WorkQueue(q["queue"], q["db"])
    return queue, Worker(queue, ConfigSource(path=q["config"]), options=WorkerOptions(**{"poll_seconds": 0.05,
                                                                                         **options}))


class Running:
    """``worker.run()`` in a thread; ``outcome(timeout)`` is the error it raised (None: it returned), and fails the
    test when the worker is still running then."""

    def __init__(self, worker: Any):
        self.worker, self.result = worker, []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.worker.run()
            self.result.append(None)
        except BaseException as e:  # noqa: BLE001
            self.result.append(e)

    def outcome(self, timeout: float = 3.0) -> BaseException | None:
        self.thread.join(timeout)
        if self.thread.is_alive():
            self.worker.stop()
            self.thread.join(5)
            pytest.fail(f"the worker did not stop on the broken store within {timeout} s")
        return self.result[0]


def _wait(predicate, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


# ------------------------------------------------------------------ (a) a ledger damaged between enqueue and use
def test_a_ledger_damaged_past_its_first_page_is_exit_2_with_its_repair_in_every_queue_command(q, capsys,
                                                                                                   monkeypatch):
    """The first page (the schema) was sound, so the ledger opened; the first query met the damage and `queue
    status`, `queue export` and `worker` ended in a SQLAlchemy traceback, exit 1."""
    with open(q["ledger"], "r+b") as f:  # pages 2-4 (the items, their indexes) overwritten
        f.seek(4096)
        f.write(os.urandom(3 * 4096))
    for argv in (["queue", "status"], ["queue", "export", "--out", str(q["tmp"] / "out.jsonl")]):
        code, err = _cli(capsys, *argv, *q["args"])
        assert code == 2 and f"the queue ledger {q['ledger']} is damaged" in err, err
        assert f"mv {q['ledger']} {q['ledger']}.broken" in err
    _, worker = _worker(q, monkeypatch, until_empty=True)
    with pytest.raises(QueueUnavailableError, match="is damaged") as e:
        worker.run()
    assert "mv " in e.value.hint


# ------------------------------------------------------------------ (b) a table altered or dropped
@pytest.mark.parametrize("alter", ["ALTER TABLE queue_items DROP COLUMN result",
                                   "ALTER TABLE queue_items RENAME COLUMN state TO st"])
def test_a_ledger_table_altered_after_open_is_exit_2_not_a_traceback(q, capsys, alter):
    from workbench.runner.queue import WorkQueue

    queue = WorkQueue(q["queue"], q["db"])  # opened while sound
    _sql(q["ledger"], alter)
    with pytest.raises(QueueUnavailableError, match="dropped or altered outside workbench"):
        list(queue.ledger.rows())
    queue.close()
    code, err = _cli(capsys, "queue", "export", "--out", str(q["tmp"] / "out.jsonl"), *q["args"])
    assert code == 2 and "does not hold the queue_items table" in err and ".broken" in err, err


def test_a_worker_meeting_an_altered_table_keeps_the_item_and_stores_no_result(q, monkeypatch):
    """The result column dropped: `complete()` failed with a traceback (exit 1). Now the worker stops with the
    store's error, and gives the item it held back: pending, no result."""
    _sql(q["ledger"], "ALTER TABLE queue_items DROP COLUMN result")
    _, worker = _worker(q, monkeypatch, until_empty=True)
    with pytest.raises(QueueUnavailableError, match="dropped or altered") as e:
        worker.run()
    assert "given back" in e.value.hint
    with sqlite3.connect(q["ledger"]) as conn:
        states = dict(conn.execute("SELECT state, count(*) FROM queue_items GROUP BY state").fetchall())
    conn.close()
    assert states == {"pending": 5}


@pytest.mark.parametrize("loss", ["drop", "truncate", "remove"])
def test_a_lost_ledger_is_refused_while_the_broker_holds_its_tasks(q, capsys, loss):
    """The ledger's table dropped, its file emptied or removed: the next command made a new, empty ledger; `queue
    status` said `0 items` (exit 0) and a worker took the 5 tasks, found no item, called them duplicates and exited
    0: the last trace of the items gone."""
    from workbench.runner.queue import WorkQueue

    if loss == "drop":
        _sql(q["ledger"], "DROP TABLE queue_items")
    elif loss == "truncate":
        q["ledger"].write_bytes(b"")
    else:
        q["ledger"].unlink()
    for argv in (["queue", "status"], ["queue", "export"]):
        code, err = _cli(capsys, *argv, *q["args"])
        assert code == 2 and "holds no items, but the queue" in err and "holds 5 task(s)" in err, err
    with pytest.raises(QueueUnavailableError, match="holds no items"):
        WorkQueue(q["queue"], q["db"])
    assert int(huey.SqliteHuey("workbench", filename=str(q["huey"])).pending_count()) == 5  # tasks kept


# ------------------------------------------------------------------ a file damaged or removed under an idle worker
@pytest.mark.parametrize("which", ["huey", "ledger"])
@pytest.mark.parametrize("damage", ["overwrite", "truncate", "remove"])
def test_an_idle_worker_stops_when_a_store_file_is_broken_under_it(q, monkeypatch, which, damage):
    """SQLite trusts the pages it holds: a worker idle-polling a queue file or ledger that was overwritten,
    truncated or removed went on for ever (exit 0 at SIGTERM), and one that was removed took writes nobody would
    read."""
    queue, worker = _worker(q, monkeypatch)  # no until_empty: it idles after the five items
    running = Running(worker)
    _wait(lambda: worker.report.processed == 5)
    time.sleep(0.2)  # idle-polling now
    path = q[which]
    if damage == "overwrite":
        path.write_bytes(os.urandom(8192))
    elif damage == "truncate":
        path.write_bytes(b"")
    else:
        path.unlink()
    error = running.outcome()
    assert isinstance(error, QueueUnavailableError), error
    if damage == "remove":
        assert "removed or moved away while open" in error.message and "start the worker again" in error.hint
    else:
        assert f"{path} is damaged" in error.message and f"mv {path} {path}.broken" in error.hint
    queue.close()


# ------------------------------------------------------------------ (c) a queue file damaged mid-run
def test_a_damaged_queue_file_met_mid_run_names_the_repair_not_a_dead_broker(q):
    """A worker that met a damaged huey.db mid-run said the queue was "unreachable" and to "start the broker"."""
    from workbench.runner.queue import WorkQueue

    queue = WorkQueue(q["queue"], q["db"])
    error = queue._broker_error(sqlite3.DatabaseError("database disk image is malformed"))
    assert f"the queue file {q['huey']} is damaged" in error.message and f"mv {q['huey']}" in error.hint
    assert "start the broker" not in error.hint
    queue.close()


def test_a_ledger_damaged_while_an_item_runs_keeps_the_item_leased_and_recoverable(q, monkeypatch):
    """The ledger overwritten while an item runs: the worker stops before storing the result (exit 2), the item
    stays leased (never done without a result), and after the lease expires a new worker runs it: all five done,
    each once."""
    header: list[bytes] = []

    class Saboteur(FakeRunner):
        def run(self, inputs: dict[str, Any]) -> FakeResult:
            if not header:
                with open(q["ledger"], "r+b") as f:
                    header.append(f.read(16))
                    f.seek(0)
                    f.write(b"\0" * 16)
            return super().run(inputs)

    queue, worker = _worker(q, monkeypatch, Saboteur, until_empty=True, lease_seconds=0.3)
    with pytest.raises(QueueUnavailableError, match="is damaged") as e:
        worker.run()
    assert "stay leased" in e.value.hint and "q000" in e.value.hint
    queue.close()
    with open(q["ledger"], "r+b") as f:  # repaired (as from a backup)
        f.write(header[0])
    assert _state(q["ledger"])["q000"] == ("leased", None)
    time.sleep(0.35)  # the lease expires
    _, again = _worker(q, monkeypatch, until_empty=True)
    assert Running(again).outcome(timeout=4) is None
    states = _state(q["ledger"])
    assert {s for s, _ in states.values()} == {"done"} and all(r for _, r in states.values())
    assert again.report.processed == 5


# ------------------------------------------------------------------ (d) the disk under the ledger fills up
def test_a_full_disk_under_the_ledger_mid_run_is_exit_2_and_the_item_is_given_back(q, monkeypatch):
    """SQLite's `database or disk is full` while storing a result ended the worker in a traceback (exit 1).
    Simulated with `max_page_count` (the same SQLITE_FULL as a full disk): results need new pages, none left."""
    import sqlalchemy as sa

    big = "x" * 20_000

    class Verbose(FakeRunner):
        def run(self, inputs: dict[str, Any]) -> FakeResult:
            result = super().run(inputs)
            result.line["output"] = big
            return result

    queue, worker = _worker(q, monkeypatch, Verbose, until_empty=True)
    queue.ledger.engine.dispose()

    @sa.event.listens_for(queue.ledger.engine, "connect")
    def _full(dbapi_conn: Any, _record: Any) -> None:
        pages = dbapi_conn.execute("PRAGMA page_count").fetchone()[0]
        dbapi_conn.execute(f"PRAGMA max_page_count={pages}")

    with pytest.raises(QueueUnavailableError, match="no space left") as e:
        worker.run()
    assert "free space" in e.value.hint and "given back" in e.value.hint
    queue.close()
    states = _state(q["ledger"])
    assert all(state == "pending" and result is None for state, result in states.values()), states


# ------------------------------------------------------------------ (e) a database server gone after open
def test_a_ledger_database_gone_after_open_is_a_clear_error_in_every_call(q, monkeypatch):
    """A Postgres ledger whose server went away mid-run: SQLAlchemy's OperationalError escaped (a traceback, exit
    1). Simulated by pointing the open ledger at a port nothing listens on."""
    pytest.importorskip("psycopg")
    import sqlalchemy as sa

    queue, worker = _worker(q, monkeypatch, until_empty=True)
    queue.ledger.engine.dispose()
    queue.ledger.engine = sa.create_engine(f"postgresql+psycopg://u@127.0.0.1:{free_port()}/x",
                                           connect_args={"connect_timeout": 2})
    queue.ledger.url = str(queue.ledger.engine.url)
    for call in (queue.ledger.counts, lambda: list(queue.ledger.rows()), queue.status):
        with pytest.raises(QueueUnavailableError, match="failed while"):
            call()
    with pytest.raises(QueueUnavailableError, match="failed while") as e:
        queue.ledger.add([("z", {"id": "z"})])
    assert "run the same `workbench enqueue` again" in e.value.hint
    with pytest.raises(QueueUnavailableError, match="failed while"):
        worker.run()
