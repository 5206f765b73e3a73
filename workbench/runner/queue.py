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

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from ..errors import QueueUnavailableError, UsageError
from .._util.paths import workspace
from ..inputs.jsonl import read_lines
from .ledger import Ledger

QUEUE_NAME = "workbench"


def queue_url(url: str | None = None) -> str:
    """``--queue``, else ``WORKBENCH_QUEUE_URL``, else the embedded SQLite file under the workspace."""
    url = url or os.environ.get("WORKBENCH_QUEUE_URL")
    return url or f"sqlite:///{workspace('queue', 'huey.db')}"


def _sqlite_path(url: str) -> Path:
    path = Path(url.removeprefix("sqlite:///")).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


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

    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey(name, url=url, results=False, blocking=True, read_timeout=1)
    if "://" in url and not url.startswith("sqlite:///"):
        raise UsageError(f"unsupported queue URL {url!r}",
                         hint="use redis://host:port/db, sqlite:///path/huey.db or a file path")
    return SqliteHuey(name, filename=str(_sqlite_path(url)), results=False)


def _broker_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [OSError]
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
        try:
            self.ledger = Ledger(ledger_url(db_url, self.url), name)
        except Exception as e:  # noqa: BLE001 - sqlalchemy OperationalError and friends
            raise QueueUnavailableError(f"cannot open the queue ledger: {type(e).__name__}: {e}".split("\n")[0],
                                        hint="check --db / WORKBENCH_DB_URL") from None
        self.handler: Callable[[str], None] | None = None
        self.task = self.huey.task(name="workbench_item")(self._dispatch)

    def _dispatch(self, item_id: str) -> None:
        if self.handler is None:
            raise RuntimeError("no handler set: only a Worker executes queue tasks")
        self.handler(item_id)

    def _broker_error(self, e: BaseException) -> QueueUnavailableError:
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
        except _broker_errors() as e:
            self.ledger.mark_queued(ids, queued=False)
            raise self._broker_error(e) from None
        self.ledger.mark_queued(ids)
        return len(ids)

    def submit(self, items: Iterable[tuple[str, dict[str, Any]]], kind: str = "run") -> SubmitReport:
        """Record items in the ledger (idempotent by id), then push the new ones and any never-pushed ones."""
        added, known = self.ledger.add(items, kind=kind)
        unpushed = self.reap(broker_empty=False)
        return SubmitReport(added=len(added), known=len(known), pushed=len(unpushed))

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
        except _broker_errors() as e:
            raise self._broker_error(e) from None

    def status(self) -> dict[str, Any]:
        """Ledger counts per state and the broker's task count (``None`` when it is unreachable)."""
        counts = self.ledger.counts()
        try:
            broker: int | None = self.size()
        except QueueUnavailableError:
            broker = None
        return {"queue": self.url, "ledger": self.ledger.url, **counts, "total": sum(counts.values()),
                "broker_tasks": broker}

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
                line = {"id": row["input"].get("id"), "status": row["state"], "output": None, "variant": None,
                        "model": None, "tier": None, "cost_usd": None, "cost_basis": None, "latency_ms": None,
                        "cache": None, "error": {"code": "not_done", "message": f"item is still {row['state']}"}}
                counts["unfinished"] += 1
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
        return counts

    def close(self) -> None:
        self.ledger.close()


def read_inputs(path: str | Path) -> tuple[list[tuple[str, dict[str, Any]]], list[str]]:
    """Items ``(id, input)`` from a JSONL file, and one error message per line that cannot be enqueued (not JSON,
    not an object, no usable ``id``). Duplicate ids within the file keep the first."""
    items: list[tuple[str, dict[str, Any]]] = []
    errors: list[str] = []
    seen: set[str] = set()
    with open(path, "rb") as f:
        for line in read_lines(f):
            if line.problem is not None:
                if line.problem.code != "empty":  # blank lines between inputs are skipped
                    errors.append(f"{path}: {line.message}")
                continue
            if str(line.id) in seen:
                errors.append(f"{path}:{line.number}: duplicate id {line.id!r} (the first one is enqueued)")
                continue
            seen.add(str(line.id))
            items.append((str(line.id), line.obj))
    return items, errors


@dataclass
class WorkerReport:
    """What a worker did: items it finished, duplicate/held tasks it skipped, items it re-enqueued or re-queued."""

    processed: int = 0
    skipped: int = 0
    reaped: int = 0
    requeued: int = 0
    """Runs that failed for a transient reason and went back to the queue (``degradation.queue_for_later``)."""
    configs: tuple[str, ...] = ()


class Worker:
    """Takes item ids from the broker, leases them in the ledger, runs them and stores each result once.

    ``source`` gives the runner in force (``runner.source.ConfigSource``), re-checked between items so a promoted config
    is picked up without dropping in-flight items. ``concurrency`` threads share one runner. ``lease_seconds``
    must exceed the longest item: a worker that holds an item longer may see it re-run elsewhere (harmless: the
    first result wins). ``until_empty`` stops once nothing is pending or leased; ``max_items`` after that many."""

    def __init__(self, queue: WorkQueue, source: Any, *, concurrency: int = 1, lease_seconds: float = 300.0,
                 max_items: int | None = None, until_empty: bool = False, poll_seconds: float = 0.2,
                 owner: str | None = None, handlers: dict[str, Any] | None = None):
        """``handlers`` maps other item kinds to ``fn(inputs) -> result dict`` (e.g. ``cell`` for experiment cells,
        given by the CLI so this module never imports the notebook side)."""
        import socket
        import threading
        import uuid

        self.queue, self.source, self.handlers = queue, source, dict(handlers or {})
        self.concurrency, self.lease_seconds = max(1, concurrency), lease_seconds
        self.max_items, self.until_empty, self.poll_seconds = max_items, until_empty, poll_seconds
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.report = WorkerReport()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._fatal: BaseException | None = None
        self._claimed = 0
        self._last_reap = 0.0
        self._configs: list[str] = []
        queue.handler = self._handle

    def stop(self) -> None:
        """Finish the items in hand, then return from ``run``."""
        self._stop.set()

    def run(self) -> WorkerReport:
        """Work until stopped, empty (``until_empty``) or ``max_items``; raises a broker error (exit 2)."""
        import threading

        threads = [threading.Thread(target=self._loop, name=f"worker-{i}", daemon=True)
                   for i in range(self.concurrency)]
        for t in threads:
            t.start()
        try:
            for t in threads:
                while t.is_alive():
                    t.join(0.2)
        except KeyboardInterrupt:
            self.stop()
            for t in threads:
                t.join()
            raise
        if self._fatal is not None:
            raise self._fatal
        self.report.configs = tuple(self._configs)
        return self.report

    def _loop(self) -> None:
        import time

        while not self._stop.is_set():
            try:
                if not self._claim():
                    return
                if time.monotonic() - self._last_reap > min(5.0, self.lease_seconds / 2):
                    self._reap()
                task = self.queue.huey.dequeue()
                if task is None:
                    self._unclaim()
                    if self._idle():
                        return
                    self._stop.wait(self.poll_seconds)
                    continue
                self.queue.huey.execute(task)
            except BaseException as e:  # noqa: BLE001 - a broker or ledger failure stops every thread
                self._fail(e)
                return

    def _fail(self, e: BaseException) -> None:
        if isinstance(e, _broker_errors()) and not isinstance(e, UsageError):
            e = self.queue._broker_error(e)
        self._fatal = self._fatal or e
        self._stop.set()

    def _handle(self, item_id: str) -> None:
        # huey.execute() logs and swallows task exceptions: catch them here and stop the worker instead.
        try:
            self._process(item_id)
        except BaseException as e:  # noqa: BLE001
            self._fail(e)

    def _claim(self) -> bool:
        with self._lock:
            if self.max_items is not None and self._claimed >= self.max_items:
                return False
            self._claimed += 1
            return True

    def _unclaim(self) -> None:
        with self._lock:
            self._claimed -= 1

    def _reap(self) -> int:
        import time

        self._last_reap = time.monotonic()
        ids = self.queue.reap()
        with self._lock:
            self.report.reaped += len(ids)
        return len(ids)

    def _idle(self) -> bool:
        """Nothing on the broker: re-enqueue what was lost; True when the worker should stop (empty)."""
        if self._reap():
            return False
        counts = self.queue.ledger.counts()
        return self.until_empty and counts["pending"] == 0 and counts["leased"] == 0

    def _process(self, item_id: str) -> None:
        config, runner = self.source.current()
        item = self.queue.ledger.lease(item_id, self.owner, self.lease_seconds)
        if item is None:  # done already (a duplicate task) or leased by a live worker
            with self._lock:
                self.report.skipped += 1
                self._claimed -= 1
            return
        try:
            line = run_item(runner, item.kind, item.input, self.handlers)
        except BaseException:
            self.queue.ledger.release(item_id, self.owner)
            raise
        if retry_later(config, item.kind, line, item.attempts):
            self.queue.ledger.release(item_id, self.owner)  # pending again: the next reap pushes it
            with self._lock:
                self.report.requeued += 1
                self._claimed -= 1
            return
        self.queue.ledger.complete(item_id, line, config.config_hash)
        with self._lock:
            self.report.processed += 1
            if config.config_hash not in self._configs:
                self._configs.append(config.config_hash)


RETRY_LATER_CODES = frozenset({"rate_limited", "provider_unavailable", "timeout", "malformed_response",
                               "all_models_failed"})
"""Failures worth another try later: the provider, not the input."""
MAX_ATTEMPTS = 3
"""Leases an item gets before a transient failure is recorded as its result."""


def retry_later(config: Any, kind: str, line: dict[str, Any], attempts: int) -> bool:
    """The config's ``degradation.queue_for_later``: a run that failed for a transient provider reason goes back
    to the queue instead of being recorded, until its ``MAX_ATTEMPTS``-th lease."""
    code = (line.get("error") or {}).get("code")
    return (kind == "run" and line.get("status") == "failed" and code in RETRY_LATER_CODES
            and attempts < MAX_ATTEMPTS and bool(config.degradation.queue_for_later))


def run_item(runner: Any, kind: str, inputs: dict[str, Any], handlers: dict[str, Any] | None = None
             ) -> dict[str, Any]:
    """The result line for one item. The runner never raises; if it does anyway, the line says so. Items of
    another kind go to their handler."""
    if kind != "run":
        handler = (handlers or {}).get(kind)
        if handler is None:
            raise UsageError(f"this worker cannot run {kind!r} items", hint="upgrade the worker")
        return handler(inputs)
    try:
        return runner.run(inputs).to_line()
    except Exception as e:  # noqa: BLE001 - a bug in the runner: keep the item's result, do not kill the worker
        return {"id": inputs.get("id"), "status": "failed", "output": None, "variant": None, "model": None,
                "tier": None, "cost_usd": None, "cost_basis": None, "latency_ms": None, "cache": None,
                "error": {"code": "internal", "message": f"{type(e).__name__}: {e}"}}
