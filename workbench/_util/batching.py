"""``BatchWriter``: hand items to a writer function on one background thread, in batches.

The way tracing SDKs export spans: ``append`` is a queue put; the thread calls ``write(batch)`` at most
``batch_seconds`` after the first waiting item arrived (sooner when ``max_batch`` items wait), whatever the traffic:
a lone item after an idle period is written as fast as one in a burst. ``flush()`` waits until every
appended item has been handed over; ``close()`` flushes; interpreter exit flushes every live writer. With
``max_pending`` items waiting, ``append`` waits for a flush (back-pressure, never loss). ``write`` must handle
its own errors: an exception from it is reported once on stderr and the batch counts as written.

    writer = BatchWriter(store.insert_rows, batch_seconds=0.2)
    writer.append(row)          # returns at once
    writer.flush()              # every row so far is in the store

With ``write_full_batches=True`` a full batch (``max_batch`` items) is written by the thread whose ``append`` filled
it, and the background thread keeps only the time bound (a lone item, a quiet period). For cheap writes (SQLite
rows): handing every batch to another thread made both threads fight over the GIL, and under a sustained stream of
runner requests the rows cost the process three times their own time (33 us a row instead of 11). Writes never
overlap and keep the order of ``append``; a caller that finds a write under way leaves its batch to the thread.

A forked child starts with an empty queue (the parent writes what it had) and its own thread. An idle thread
ends after ``IDLE_SECONDS``.
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
from typing import Generic, TypeVar

T = TypeVar("T")
FULL_BATCH = 128
"""The batch size of the runner's writers (request rows, response-cache entries): a full batch is written in about
1.5 ms with SQLite, reached from ~640 requests a second on."""
IDLE_SECONDS = 10.0
"""A writer's thread ends after this long with nothing to write (the next ``append`` starts a new one)."""
_LIVE: weakref.WeakSet[BatchWriter] = weakref.WeakSet()


class BatchWriter(Generic[T]):
    """Calls ``write(batch)`` from one background thread (a full batch from the appending thread with
    ``write_full_batches``); see the module docstring."""

    def __init__(self, write: Callable[[list[T]], None], *, batch_seconds: float = 0.2, max_batch: int = 500,
                 max_pending: int = 20_000, name: str = "workbench-writer", write_full_batches: bool = False):
        self.write, self.name = write, name
        self.batch_seconds, self.max_batch, self.max_pending = batch_seconds, max_batch, max_pending
        self.write_full_batches = write_full_batches
        self._reset()
        _LIVE.add(self)

    def _reset(self) -> None:
        self._pending: deque[T] = deque()
        self._cond = threading.Condition()
        self._writing = threading.Lock()
        """Held while a batch is taken and written: one write at a time, in the order of ``append``."""
        self._in_flight = 0
        self._urgent = False
        self._first_at = 0.0
        self._thread: threading.Thread | None = None
        self._complained = False

    def __len__(self) -> int:
        """Items appended and not yet handed to ``write``."""
        return len(self._pending) + self._in_flight

    def append(self, item: T) -> None:
        """Queue ``item``; returns at once unless ``max_pending`` items already wait."""
        with self._cond:
            if not self._pending:
                self._first_at = time.monotonic()  # the batch's clock starts with its first item
            self._pending.append(item)
            backlog = len(self._pending)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._drain, name=self.name, daemon=True)
                self._thread.start()
            full = backlog >= self.max_batch
            if backlog == 1 or (full and not self.write_full_batches):  # wake an idle thread, or hand it a batch
                self._cond.notify_all()
        if full and self.write_full_batches and self._writing.acquire(blocking=False):
            try:
                self._write_batch()
            finally:
                self._writing.release()
        if backlog >= self.max_pending:
            self.flush()

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Wait until every appended item has been written; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._pending or self._in_flight:
                self._urgent = True
                self._cond.notify_all()
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cond.wait(left)
        return True

    close = flush

    def _drain(self) -> None:
        while True:
            with self._cond:
                while not self._pending:
                    if not self._cond.wait(IDLE_SECONDS) and not self._pending:
                        self._thread = None  # idle: end, so an unused writer can be collected; append restarts it
                        return
                deadline = self._first_at + self.batch_seconds
                while not self._urgent and 0 < len(self._pending) < self.max_batch:  # let a batch gather, no longer
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
            with self._writing:
                self._write_batch()

    def _write_batch(self) -> None:
        """Take up to ``max_batch`` waiting items and write them (the caller holds ``_writing``)."""
        with self._cond:
            batch = [self._pending.popleft() for _ in range(min(len(self._pending), self.max_batch))]
            self._in_flight = len(batch)
            self._urgent = self._urgent and bool(self._pending)
        if not batch:
            return
        try:
            self.write(batch)
        except Exception as e:  # noqa: BLE001 - write() owns its errors; this is a bug in it, said once
            if not self._complained:
                self._complained = True
                print(f"workbench: background writer {self.name} failed: {type(e).__name__}: {e}", file=sys.stderr)
        finally:
            with self._cond:
                self._in_flight = 0
                self._cond.notify_all()


@atexit.register
def _flush_all() -> None:
    """Hand over what is pending in every live writer at interpreter exit."""
    for writer in list(_LIVE):
        writer.flush(timeout=10.0)


def _after_fork() -> None:
    for writer in list(_LIVE):
        writer._reset()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)
