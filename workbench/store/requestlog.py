"""``RequestLog``: the runner's failure-tolerant, write-behind access to its ``LogStore``.

Request rows go to a ``batching.BatchWriter``: one background thread writes them in batches (one transaction per
batch, at most ``batch_seconds`` after a row arrives), the way tracing SDKs export spans, so a request pays for
building its row, not for a database round trip. ``flush()`` waits until every appended row is written
(``Runner.store``, ``Runner.close()`` and interpreter exit call it); ``write_behind=None`` writes each row at
once.
What can be lost: rows not yet written when the process is killed (at most ``batch_seconds`` of traffic); the
results themselves are returned or recorded elsewhere (the output file, the queue's ledger) either way.

An error never reaches the caller: the store is opened on first use (and again at most every ``retry_seconds``
after a failure); a failed batch is retried row by row so one bad row costs only itself; every row that cannot be
written is counted (``errors``, ``on_error``) and the first error is said on stderr.
"""
from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._util.batching import FULL_BATCH, BatchWriter
from ..errors import LogStoreError
from .logstore import LogStore, default_db_url, safe_url


@dataclass(frozen=True)
class WriteBehind:
    """How request rows are written behind the requests: in batches, within ``batch_seconds``, by one background
    thread (with SQLite, a full batch by the request that filled it)."""

    batch_seconds: float = 0.2
    """How long a row may wait to be written with others."""
    max_batch: int = FULL_BATCH
    """Rows written in one transaction at most; with SQLite a full batch is written by the request that filled it."""
    max_pending: int = 20_000
    """Rows waiting that make ``append`` wait for them to be written (back-pressure, not loss)."""


class RequestLog:
    """Appends request rows to a log store in the background; runs other writes (escalations) at once."""

    def __init__(self, url: str | None = None, *, retention_days: int | None = None,
                 clock: Callable[[], float] = time.time, on_error: Callable[[int], None] | None = None,
                 retry_seconds: float = 30.0, write_behind: WriteBehind | None = WriteBehind()):
        """``on_error(n)`` is called with the number of rows (or writes) lost to each error; ``retry_seconds``
        is the wait before opening a store that failed to open again; ``write_behind=None`` writes each row at
        once, in the caller's thread."""
        self.url, self.retention_days, self.clock = url or default_db_url(), retention_days, clock
        self.on_error, self.retry_seconds = on_error, retry_seconds
        self.errors = 0
        self.store: LogStore | None = None
        self._retry_at = 0.0
        self._open_error: BaseException = LogStoreError("not opened yet")
        self._lock, self._opening = threading.Lock(), threading.Lock()
        self._writer = None if write_behind is None else BatchWriter(
            self._write_rows, batch_seconds=write_behind.batch_seconds, max_batch=write_behind.max_batch,
            max_pending=write_behind.max_pending, name="workbench-request-log",
            # SQLite: a full batch is written by the request that filled it (a local file, ~1.5 ms). A server
            # database's connect timeout must never hold a request: there the thread writes every batch
            write_full_batches=self.url.startswith("sqlite"))

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

    @property
    def open_error(self) -> BaseException:
        """Why the store could not be opened (the last attempt)."""
        return self._open_error

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
        """Queue one request row for the background writer (``write_behind=None``: write it now)."""
        if self._writer is None:
            self._write_rows([row])
        else:
            self._writer.append(row)

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Wait until every appended row is written (or counted as lost); False on timeout."""
        return True if self._writer is None else self._writer.flush(timeout)

    def close(self) -> None:
        """Flush, then release the store's connections."""
        self.flush()
        if self.store is not None:
            self.store.close()

    def _write_rows(self, rows: list[dict[str, Any]]) -> None:
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
