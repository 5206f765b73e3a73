"""``Worker``: takes item ids from the queue's broker, leases them in the ledger, runs them with the runner in
force and stores each result once (see ``queue`` for the delivery guarantees)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from ..errors import QueueUnavailableError, UsageError
from .queue import WorkQueue, broker_errors
from .result import bare_line


@dataclass
class WorkerReport:
    """What a worker did: items it finished, duplicate/held tasks it skipped, items it re-enqueued or re-queued."""

    processed: int = 0
    skipped: int = 0
    reaped: int = 0
    requeued: int = 0
    """Runs that failed for a transient reason and went back to the queue (``degradation.queue_for_later``)."""
    configs: tuple[str, ...] = ()


@dataclass(frozen=True)
class WorkerOptions:
    """How a worker takes and holds items, e.g. ``WorkerOptions(concurrency=4, until_empty=True)``."""

    concurrency: int = 1
    """Threads taking items, sharing one runner (at least 1)."""
    lease_seconds: float = 300.0
    """How long an item is held; must exceed the longest item, or it may be re-run elsewhere (harmless: the
    first result wins)."""
    max_items: int | None = None
    """Stop after taking this many items (None: no limit)."""
    until_empty: bool = False
    """Stop once nothing is pending or leased (else wait for more)."""
    poll_seconds: float = 0.2
    """Wait between looks at an empty broker."""
    owner: str | None = None
    """The name leases are held under (None: ``host:pid:random``)."""


class Worker:
    """Takes item ids from the broker, leases them in the ledger, runs them and stores each result once.

    ``source`` gives the runner in force (``runner.source.ConfigSource``), re-checked between items so a promoted config
    is picked up without dropping in-flight items; ``options`` say how items are taken (``WorkerOptions``)."""

    def __init__(self, queue: WorkQueue, source: Any, *, options: WorkerOptions | None = None,
                 handlers: dict[str, Any] | None = None):
        """``handlers`` maps other item kinds to ``fn(inputs) -> result dict`` (e.g. ``cell`` for experiment cells,
        given by the CLI so this module never imports the notebook side)."""
        import socket
        import threading
        import uuid

        self.queue, self.source, self.handlers = queue, source, dict(handlers or {})
        self.options = options or WorkerOptions()
        self.owner = self.options.owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.report = WorkerReport()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._fatal: BaseException | None = None
        self._held: set[str] = set()
        """Items this worker leased and has not completed or released yet."""
        self._claimed = 0
        self._last_reap = 0.0
        self._configs: list[str] = []
        queue.handler = self._handle

    def stop(self) -> None:
        """Finish the items in hand, then return from ``run``."""
        self._stop.set()

    def run(self) -> WorkerReport:
        """Work until stopped, empty (``until_empty``) or ``max_items``; raises a broker or ledger error (exit 2),
        saying what became of the items in hand (``_stopped_by``)."""
        import threading

        threads = [threading.Thread(target=self._loop, name=f"worker-{i}", daemon=True)
                   for i in range(max(1, self.options.concurrency))]
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
            raise self._stopped_by(self._fatal)
        self.report.configs = tuple(self._configs)
        return self.report

    def _loop(self) -> None:
        import time

        while not self._stop.is_set():
            try:
                if not self._claim():
                    return
                if time.monotonic() - self._last_reap > min(5.0, self.options.lease_seconds / 2):
                    self._reap()
                task = self.queue.huey.dequeue()
                if task is None:
                    self._unclaim()
                    if self._idle():
                        return
                    self._stop.wait(self.options.poll_seconds)
                    continue
                self.queue.huey.execute(task)
            except BaseException as e:  # noqa: BLE001 - a broker or ledger failure stops every thread
                self._fail(e)
                return

    def _fail(self, e: BaseException) -> None:
        if isinstance(e, broker_errors()) and not isinstance(e, UsageError):
            e = self.queue._broker_error(e)
        self._fatal = self._fatal or e
        self._stop.set()

    def _stopped_by(self, error: BaseException) -> BaseException:
        """``error``, with what became of the items this worker held when it stopped: given back (pending again)
        when the ledger still takes the write, else leased until their lease expires; never done without a
        result."""
        with self._lock:
            held = sorted(self._held)
        if not held or not isinstance(error, QueueUnavailableError):
            return error
        try:
            self.queue.ledger.verify()  # a damaged or replaced file would take the write, and lose it
            kept = [item_id for item_id in held if not self._give_back(item_id)]
        except QueueUnavailableError:
            kept = held
        shown = ", ".join(map(repr, kept[:5])) + (f" and {len(kept) - 5} more" if len(kept) > 5 else "")
        note = (f"the {len(held)} item(s) in hand were given back (pending again)" if not kept else
                f"item(s) {shown} stay leased by {self.owner} until the lease expires (at most "
                f"{self.options.lease_seconds:g} s), then a worker takes them again")
        return QueueUnavailableError(error.message, hint=f"{error.hint}; {note}" if error.hint else note,
                                     code=error.code)

    def _give_back(self, item_id: str) -> bool:
        try:
            self.queue.ledger.release(item_id, self.owner)
        except QueueUnavailableError:
            return False
        return True

    def _handle(self, item_id: str) -> None:
        # huey.execute() logs and swallows task exceptions: catch them here and stop the worker instead.
        try:
            self._process(item_id)
        except BaseException as e:  # noqa: BLE001
            self._fail(e)

    def _claim(self) -> bool:
        with self._lock:
            if self.options.max_items is not None and self._claimed >= self.options.max_items:
                return False
            self._claimed += 1
            return True

    def _unclaim(self) -> None:
        with self._lock:
            self._claimed -= 1

    def _reap(self) -> int:
        import time

        self._last_reap = time.monotonic()
        self.queue.verify()  # a file removed, replaced or damaged under an idle worker: SQLite alone would not see it
        ids = self.queue.reap()
        with self._lock:
            self.report.reaped += len(ids)
        return len(ids)

    def _idle(self) -> bool:
        """Nothing on the broker: re-enqueue what was lost; True when the worker should stop (empty)."""
        if self._reap():
            return False
        counts = self.queue.ledger.counts()
        return self.options.until_empty and counts["pending"] == 0 and counts["leased"] == 0

    def _process(self, item_id: str) -> None:
        config, runner = self.source.current()
        item = self.queue.ledger.lease(item_id, self.owner, self.options.lease_seconds)
        if item is None:  # done already (a duplicate task) or leased by a live worker
            with self._lock:
                self.report.skipped += 1
                self._claimed -= 1
            return
        with self._lock:
            self._held.add(item_id)
        try:
            line = run_item(runner, item.kind, item.input, self.handlers)
        except BaseException:
            self.queue.ledger.release(item_id, self.owner)
            with self._lock:
                self._held.discard(item_id)
            raise
        if retry_later(config, item.kind, line, item.attempts):
            self.queue.ledger.release(item_id, self.owner)  # pending again: the next reap pushes it
            with self._lock:
                self._held.discard(item_id)
                self.report.requeued += 1
                self._claimed -= 1
            return
        self.queue.ledger.verify()  # never store a result in a ledger file removed, replaced or damaged meanwhile
        self.queue.ledger.complete(item_id, line, config.config_hash)
        with self._lock:
            self._held.discard(item_id)
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
        return bare_line(inputs.get("id"), "failed", {"code": "internal", "message": f"{type(e).__name__}: {e}"})
