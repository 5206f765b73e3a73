"""``RequestLog``: the runner's failure-tolerant, write-behind access to its ``LogStore``.

Request rows are appended to an in-memory queue and written by one background thread in batches (one
transaction per batch, at most ``batch_seconds`` after a row arrives, sooner when ``max_batch`` rows wait), the
way tracing SDKs export spans: a request pays for building its row, not for a database round trip. ``flush()``
waits until every appended row is written (``Runner.store``, ``Runner.close()`` and interpreter exit call it);
``batch_seconds=None`` writes each row at once instead. What can be lost: rows not yet written when the process is
killed (at most ``batch_seconds`` of traffic); the results themselves are returned or recorded elsewhere (the
output file, the queue's ledger) either way.

An error never reaches the caller: the store is opened on first use (and again at most every ``retry_seconds``
after a failure); a failed batch is retried row by row so one bad row costs only itself; every row that cannot be
written is counted (``errors``, ``on_error``) and the first error is said on stderr.
"""
from __future__ import annotations

import atexit
import os
import sys
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any

from .logstore import LogStore, LogStoreError, default_db_url, safe_url

_LIVE: weakref.WeakSet[RequestLog] = weakref.WeakSet()


class RequestLog:
    """Appends request rows to a log store in the background; runs other writes (escalations) at once."""

    def __init__(self, url: str | None = None, *, retention_days: int | None = None,
                 clock: Callable[[], float] = time.time, on_error: Callable[[int], None] | None = None,
                 retry_seconds: float = 30.0, batch_seconds: float | None = 0.2, max_batch: int = 500,
                 max_pending: int = 20_000):
        """``on_error(n)`` is called with the number of rows (or writes) lost to each error; ``max_pending``
        rows waiting make ``append`` write in the caller's thread (back-pressure, not loss)."""
        self.url, self.retention_days, self.clock = url or default_db_url(), retention_days, clock
        self.on_error, self.retry_seconds = on_error, retry_seconds
        self.batch_seconds, self.max_batch, self.max_pending = batch_seconds, max_batch, max_pending
        self.errors = 0
        self.store: LogStore | None = None
        self._retry_at = 0.0
        self._open_error: BaseException = LogStoreError('not opened yet')
        self._lock, self._opening = threading.Lock(), threading.Lock()
        self._pending: deque[dict[str, Any]] = deque()
        self._cond = threading.Condition()
        self._in_flight = 0
        self._urgent = False
        self._writer: threading.Thread | None = None
        _LIVE.add(self)

    # ---- the store -----------------------------------------------------------------------------------------
    def open(self) -> LogStore | None:
        """The open store, or None while it cannot be opened (the reason is kept for the next lost write)."""
        if self.store is None and time.monotonic() >= self._retry_at:
            with self._opening:
                if self.store is None and time.monotonic() >= self._retry_at:
                    try:
                        self.store = LogStore(self.url, retention_days=self.retention_days, clock=self.clock)
                    except Exception as e:  # noqa: BLE001
                        self._retry_at = time.monotonic() + self.retry_seconds
                        self._open_error = e
        return self.store

    def write(self, action: Callable[[LogStore], Any]) -> Any:
        """``action(store)`` now, or None when the store is unavailable or the action fails (counted)."""
        store = self.open()
        if store is None:
            self.failed(self._open_error)
            return None
        try:
            return action(store)
        except Exception as e:  # noqa: BLE001 - a full disk or a database error must not lose the result
            self.failed(e)
            return None

    def failed(self, error: BaseException, lost: int = 1) -> None:
        """Count ``lost`` rows lost to ``error``; say it on stderr the first time only."""
        with self._lock:
            first = self.errors == 0
            self.errors += lost
        if self.on_error is not None:
            self.on_error(lost)
        if first:
            text = " ".join(f"{type(error).__name__}: {getattr(error, 'message', None) or error}".split())[:300]
            print(f"workbench runner: log store error ({safe_url(self.url)}): {text}; results are still returned, "
                  "further log errors are counted (log_errors_total), not printed", file=sys.stderr)

    # ---- request rows ------------------------------------------------------------------------------------------
    def append(self, row: dict[str, Any]) -> None:
        """Queue one request row for the background writer (or write it now: ``batch_seconds=None``, or
        ``max_pending`` rows already waiting)."""
        if self.batch_seconds is None:
            self._write_rows([row])
            return
        with self._cond:
            self._pending.append(row)
            backlog = len(self._pending)
            self._ensure_writer()
            if backlog >= self.max_batch:
                self._cond.notify_all()
        if backlog >= self.max_pending:
            self.flush()

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Wait until every appended row is written (or counted as lost); False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._pending or self._in_flight:
                self._ensure_writer()
                self._urgent = True
                self._cond.notify_all()
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def _ensure_writer(self) -> None:
        """Start the writer thread (the first row, or the first one in a forked child); hold ``_cond``."""
        if self._writer is None or not self._writer.is_alive():
            self._writer = threading.Thread(target=self._drain, name="workbench-request-log", daemon=True)
            self._writer.start()

    def close(self) -> None:
        """Flush, then release the store's connections."""
        self.flush()
        if self.store is not None:
            self.store.close()

    def _drain(self) -> None:
        while True:
            with self._cond:
                while not self._pending:
                    self._cond.wait()
                if not self._urgent and len(self._pending) < self.max_batch:
                    self._cond.wait(self.batch_seconds)  # let a batch gather
                batch = [self._pending.popleft() for _ in range(min(len(self._pending), self.max_batch))]
                self._in_flight = len(batch)
                self._urgent = bool(self._pending) and self._urgent
            try:
                self._write_rows(batch)
            finally:
                with self._cond:
                    self._in_flight = 0
                    self._cond.notify_all()

    def _write_rows(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        store = self.open()
        if store is None:
            self.failed(self._open_error, len(rows))
            return
        try:
            store.log_requests(rows)
        except Exception:  # noqa: BLE001 - one bad row must not cost the batch: write them one by one
            self._write_one_by_one(store, rows)

    def _write_one_by_one(self, store: LogStore, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            try:
                store.log_requests([row])
            except Exception as e:  # noqa: BLE001
                self.failed(e)


@atexit.register
def _flush_all() -> None:
    """Write what is pending in every live log at interpreter exit."""
    for log in list(_LIVE):
        try:
            log.flush(timeout=10.0)
        except Exception:  # noqa: BLE001, S110 - exiting: nothing better to do
            pass


def _after_fork() -> None:
    """A forked child inherits the rows and locks but not the writer thread: the parent writes those rows; the
    child starts empty, with fresh locks, and starts its own writer on its first row."""
    for log in list(_LIVE):
        log._cond = threading.Condition()
        log._lock, log._opening = threading.Lock(), threading.Lock()
        log._pending, log._writer, log._in_flight, log._urgent = deque(), None, 0, False


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)
