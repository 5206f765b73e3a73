"""The durable queue: huey carries item ids (embedded SQLite file, or Redis for many machines), the SQL item
ledger (``ledger.py``) holds every item's state and result.

    enqueue:  ledger.add (pending)  ->  huey.enqueue(item task)          (broker down: items stay pending)
    worker:   huey.dequeue -> huey.execute -> ledger.lease -> runner.run -> ledger.complete (done, once)
              every few seconds and whenever idle: ledger.reap() pushes expired leases and lost items again

huey deletes a task from the broker when a worker takes it, so a SIGKILLed worker loses the task; its lease then
expires and any worker re-enqueues the item. Processing is idempotent by item id (a duplicate task for a done item
is skipped; an item has exactly one result), so delivery is at-least-once and results are exactly-once.

Queue URLs (``--queue`` / ``WORKBENCH_QUEUE_URL``): ``redis://host:port/db``, ``sqlite:///path/huey.db`` or a plain
file path; default ``$WORKBENCH_HOME/queue/huey.db``. The ledger lives in ``--db`` / ``WORKBENCH_DB_URL``, default
a SQLite file ``ledger.db`` next to the SQLite queue (under ``$WORKBENCH_HOME/queue/`` for Redis: give Redis
workers on several machines a shared ``--db``).
"""
from __future__ import annotations

import itertools
import json
import os
import shlex
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from .._util.paths import workspace
from ..errors import QueueUnavailableError, UsageError
from ..inputs.jsonl import read_lines
from ..store.logstore import safe_url
from ..store.sqlitefile import changed_under, explain, identity, reason
from .ledger import Ledger, ledger_error
from .result import bare_line

QUEUE_NAME = "workbench"
SUBMIT_CHUNK = 1000
"""Items recorded in the ledger per transaction by ``WorkQueue.submit``."""


def queue_url(url: str | None = None) -> str:
    """``--queue``, else ``WORKBENCH_QUEUE_URL``, else the embedded SQLite file under the workspace."""
    url = url or os.environ.get("WORKBENCH_QUEUE_URL")
    return url or f"sqlite:///{workspace('queue', 'huey.db')}"


def _sqlite_path(url: str) -> Path:
    path = Path(url.removeprefix("sqlite:///")).expanduser()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise QueueUnavailableError(f"cannot make the queue folder {path.parent}: {e.strerror or e}",
                                    hint="give --queue a writable place (or set WORKBENCH_HOME)") from None
    return path


def queue_file(url: str) -> Path | None:
    """The SQLite file a queue URL names (its folder made); None for Redis; ``UsageError`` for another scheme."""
    if url.startswith(("redis://", "rediss://", "unix://")):
        return None
    if "://" in url and not url.startswith("sqlite:///"):
        raise UsageError(f"unsupported queue URL {url!r}",
                         hint="use redis://host:port/db, sqlite:///path/huey.db or a file path")
    return _sqlite_path(url)


def ledger_url(db_url: str | None, queue: str) -> str:
    """``--db``, else ``WORKBENCH_DB_URL``, else ``ledger.db`` next to the SQLite queue (workspace for Redis)."""
    url = db_url or os.environ.get("WORKBENCH_DB_URL")
    if url:
        return url
    folder = workspace("queue") if queue.startswith(("redis://", "rediss://")) else _sqlite_path(queue).parent
    return f"sqlite:///{folder / 'ledger.db'}"


def open_huey(url: str, name: str = QUEUE_NAME) -> Any:
    """A huey instance for a queue URL (results are not stored in huey: the ledger keeps them)."""
    from huey import RedisHuey, SqliteHuey

    path = queue_file(url)
    if path is None:
        return RedisHuey(name, url=url, results=False, blocking=True, read_timeout=1)
    try:
        return SqliteHuey(name, filename=str(path), results=False)
    except (sqlite3.DatabaseError, OSError) as e:  # a read-only place, a truncated or overwritten huey.db
        known = _explain_queue_file(path, e)
        if known is not None:
            raise QueueUnavailableError(known[0], hint=known[1]) from None
        raise QueueUnavailableError(f"cannot open the queue file {path}: {reason(e)}",
                                    hint="check the path, the disk space and permissions (--queue)") from None


_QUEUE_FILE_REPAIR = ("the ledger keeps every item: then run `workbench enqueue` again or start `workbench worker`: "
                      "pending items are pushed again")


def _explain_queue_file(path: Path, e: BaseException) -> tuple[str, str] | None:
    return explain(path, e, "the queue file", _QUEUE_FILE_REPAIR,
                   "give --queue / WORKBENCH_QUEUE_URL (or WORKBENCH_HOME) a writable place")


def broker_errors() -> tuple[type[BaseException], ...]:
    """The exceptions that mean the broker cannot be reached or written: ``OSError``, SQLite's errors (a damaged or
    full database file), plus redis's connection and timeout errors when redis is installed."""
    errors: list[type[BaseException]] = [OSError, sqlite3.DatabaseError]
    try:
        import redis

        errors.append(redis.exceptions.ConnectionError)
        errors.append(redis.exceptions.TimeoutError)
    except ImportError:  # pragma: no cover - redis is in the queue extra
        pass
    return tuple(errors)


@dataclass(frozen=True)
class SubmitReport:
    """What ``enqueue`` did: items added, ids already known (kept as they were), items pushed to the broker."""

    added: int
    known: int
    pushed: int


class WorkQueue:
    """One named queue: a huey broker plus the item ledger."""

    def __init__(self, url: str | None = None, db_url: str | None = None, name: str = QUEUE_NAME):
        self.url = queue_url(url)
        self.huey = open_huey(self.url, name)
        self.file = queue_file(self.url)
        self._identity = None if self.file is None else identity(self.file)
        ledger = ledger_url(db_url, self.url)
        try:
            self.ledger = Ledger(ledger, name, before_create=lambda: self._no_tasks_without_ledger(ledger))
        except QueueUnavailableError:  # a read-only place, a damaged file, an in-memory URL: said with the repair
            raise
        except Exception as e:  # noqa: BLE001 - a missing driver, a URL SQLAlchemy cannot read
            raise ledger_error(ledger, e) from None
        self.handler: Callable[[str], None] | None = None
        self.task = self.huey.task(name="workbench_item")(self._dispatch)

    def _dispatch(self, item_id: str) -> None:
        if self.handler is None:
            raise RuntimeError("no handler set: only a Worker executes queue tasks")
        self.handler(item_id)

    def _no_tasks_without_ledger(self, ledger: str) -> None:
        """Called before a new (empty) ledger is made: refused when the broker holds tasks — their items were
        recorded in a ledger that was removed, emptied or had its table dropped since, or that is not this one (another
        --db). A worker would take those tasks, find no item and drop them: the last trace of the items."""
        try:
            tasks = self.size()
        except QueueUnavailableError:  # a broker down: nothing to compare; the command says so itself
            return
        if not tasks:
            return
        where = (f"move the queue file aside too (mv {shlex.quote(str(self.file))} "
                 f"{shlex.quote(f'{self.file}.old')}) and enqueue the inputs again"
                 if self.file is not None else "empty the queue on the broker and enqueue the inputs again")
        raise QueueUnavailableError(
            f"the queue ledger {safe_url(ledger)} holds no items, but the queue {self.url} holds {tasks} task(s): "
            "the ledger they were recorded in was removed, emptied or had its table dropped, or --db names another one",
            hint=f"give the --db / WORKBENCH_DB_URL the items were enqueued with, or restore the ledger; to start "
                 f"afresh, {where}")

    def verify(self) -> None:
        """Raise ``QueueUnavailableError`` when the SQLite queue file or the ledger's file was removed, replaced,
        truncated or overwritten since this queue opened them: SQLite would not notice while it reads pages it holds,
        and a removed file takes writes that nobody else will read. Cheap; a worker calls it between items."""
        changed = None if self.file is None else changed_under(
            self.file, self._identity, "the queue file", _QUEUE_FILE_REPAIR,
            "start the worker again: it opens the queue file now at that path, and pushes the pending items again (the "
            "ledger keeps every item)")
        if changed is not None:
            raise QueueUnavailableError(changed[0], hint=changed[1])
        self.ledger.verify()

    def _broker_error(self, e: BaseException) -> QueueUnavailableError:
        if self.file is not None:  # a damaged, unwritable or full huey.db says so, with its repair
            known = _explain_queue_file(self.file, e)
            if known is not None:
                return QueueUnavailableError(known[0], hint=known[1])
        try:
            pending: Any = self.ledger.counts()["pending"]
        except Exception:  # noqa: BLE001
            pending = "the"
        return QueueUnavailableError(
            f"the queue at {self.url} is unreachable ({type(e).__name__}: {str(e).splitlines()[0][:200]})",
            hint=f"{pending} item(s) are recorded in the ledger as pending and are not lost: start the broker, then "
                 "run the same `workbench enqueue` again or start a worker (it re-enqueues them)")

    def push(self, ids: Iterable[str]) -> int:
        """Put item ids on the broker; the ledger notes them as queued."""
        ids = list(ids)
        try:
            for item_id in ids:
                self.huey.enqueue(self.task.s(item_id))
        except broker_errors() as e:
            self.ledger.mark_queued(ids, queued=False)
            raise self._broker_error(e) from None
        self.ledger.mark_queued(ids)
        return len(ids)

    def submit(self, items: Iterable[tuple[str, dict[str, Any]]], kind: str = "run") -> SubmitReport:
        """Record items in the ledger (idempotent by id), then push the new ones and any never-pushed ones. ``items``
        is read ``SUBMIT_CHUNK`` at a time, one transaction each: a file of any size is enqueued in bounded memory,
        and a failure part-way keeps the chunks already recorded (the same enqueue again adds the rest)."""
        added = known = 0
        for chunk in _chunks(items):
            new, seen = self.ledger.add(chunk, kind=kind)
            added, known = added + len(new), known + len(seen)
        unpushed = self.reap(broker_empty=False)
        return SubmitReport(added=added, known=known, pushed=len(unpushed))

    def reap(self, *, broker_empty: bool | None = None) -> list[str]:
        """Re-enqueue expired leases and lost or never-pushed pending items; returns their ids."""
        if broker_empty is None:
            broker_empty = self.size() == 0
        ids = self.ledger.reap(broker_empty=broker_empty)
        if ids:
            self.push(ids)
        return ids

    def size(self) -> int:
        """Tasks waiting on the broker."""
        try:
            return int(self.huey.pending_count())
        except broker_errors() as e:
            raise self._broker_error(e) from None

    def status(self) -> dict[str, Any]:
        """Ledger counts per state and the broker's task count (``None`` when it is unreachable: ``broker_error``
        says why)."""
        counts = self.ledger.counts()
        broker_error: str | None = None
        try:
            broker: int | None = self.size()
        except QueueUnavailableError as e:
            broker, broker_error = None, str(e)
        return {"queue": self.url, "ledger": self.ledger.url, **counts, "total": sum(counts.values()),
                "broker_tasks": broker, "broker_error": broker_error}

    def export(self, out: TextIO) -> dict[str, int]:
        """One result line per enqueued run item, in enqueue order; an unfinished item gets a ``pending`` line."""
        counts = {"done": 0, "unfinished": 0}
        for row in self.ledger.rows():
            if row["kind"] != "run":
                continue
            if row["result"] is not None:
                line = row["result"]
                counts["done"] += 1
            else:
                line = bare_line(row["input"].get("id"), row["state"],
                                 {"code": "not_done", "message": f"item is still {row['state']}"})
                counts["unfinished"] += 1
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
        return counts

    def close(self) -> None:
        """Release the ledger's database connections."""
        self.ledger.close()


def iter_inputs(path: str | Path, errors: list[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Items ``(id, input)`` from a JSONL file, one line at a time (the file is never held whole); a line that
    cannot be enqueued (not JSON, not an object, no usable ``id``) appends its message to ``errors``. Duplicate ids
    within the file keep the first. The file is opened now: a missing one is a ``UsageError`` here, before any
    queue is made."""
    try:
        f = open(path, "rb")  # noqa: SIM115 - the generator closes it
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror}") from e
    return _inputs(f, path, errors)


def _inputs(f: BinaryIO, path: str | Path, errors: list[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    seen: set[str] = set()
    with f:
        for line in read_lines(f):
            if line.problem is not None:
                errors.append(f"{path}: {line.message}")
                continue
            if str(line.id) in seen:
                errors.append(f"{path}:{line.number}: duplicate id {line.id!r} (the first one is enqueued)")
                continue
            seen.add(str(line.id))
            yield str(line.id), line.obj


def _chunks(items: Iterable[Any]) -> Iterator[tuple[Any, ...]]:
    """Tuples of ``SUBMIT_CHUNK`` items (the last one shorter)."""
    it = iter(items)
    while chunk := tuple(itertools.islice(it, SUBMIT_CHUNK)):
        yield chunk
