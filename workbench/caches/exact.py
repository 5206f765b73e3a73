"""A persistent exact-match response cache on disk (SQLite).

The key hashes exactly what changes the output: the model's identity (model id, endpoint, output-affecting
parameters), the messages, and the call's output-affecting settings. Transport settings (keys, timeouts,
retry counts) are not part of it.
"""
from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from .._util.batching import FULL_BATCH, BatchWriter
from .._util.paths import workspace
from .._util.unicode import is_valid_unicode
from ..models.records import Completion
from .transaction import executemany_atomically


class ResponseCache:
    """Completions by key in one SQLite file (WAL mode; safe across threads and processes).

    ``write_behind_seconds`` (the runner sets it) makes ``put`` return at once: the entry is served from memory
    and written with others by a background thread (``batching.BatchWriter``); ``flush()`` waits for the writes.
    Another process sees an entry once it is written; one killed meanwhile loses those entries (only a cache)."""

    def __init__(self, path: str | Path | None = None, *, write_behind_seconds: float | None = None,
                 keep: Callable[[Completion], bool] | None = None):
        """``keep``: the capture policy, a completion it refuses is never stored (the runner refuses answers that
        hold personal data or secrets; None: keep everything)."""
        self.keep = keep
        self.path = Path(path) if path else workspace("cache", "responses.sqlite")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._conn() as db:
            db.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, completion TEXT NOT NULL,"
                       " created REAL NOT NULL)")
        self._unwritten: dict[str, Completion] = {}
        self._unwritten_lock = threading.Lock()
        self._writer = None if write_behind_seconds is None else BatchWriter(
            self._write, batch_seconds=write_behind_seconds, max_batch=FULL_BATCH, name="workbench-response-cache",
            write_full_batches=True)

    def _conn(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA secure_delete=ON")  # a purged entry is overwritten, not left in free pages
            self._local.db = db
        return db

    def get(self, key: str, max_age: float | None = None) -> Completion | None:
        """The completion stored under ``key``; None when there is none, it is older than ``max_age`` seconds, or
        the entry is unreadable."""
        unwritten = self._unwritten.get(key)
        if unwritten is not None:
            return unwritten
        row = self._conn().execute("SELECT completion, created FROM responses WHERE key = ?", (key,)).fetchone()
        if row is None or (max_age is not None and time.time() - row[1] > max_age):
            return None
        try:
            return Completion.from_dict(json.loads(row[0]))
        except (ValueError, TypeError):  # a corrupt entry is a miss, not a crash
            return None

    def put(self, key: str, completion: Completion) -> None:
        """Store ``completion`` under ``key``, replacing what was there (written at once, or by the background writer
        with ``write_behind_seconds``); not at all when the capture policy ``keep`` refuses it."""
        if self.keep is not None and not self.keep(completion):
            return
        if self._writer is None:
            with contextlib.suppress(UnicodeEncodeError):  # a lone surrogate in the answer: not cached (below)
                self._conn().execute("INSERT OR REPLACE INTO responses VALUES (?, ?, ?)", _row(key, completion))
        else:
            with self._unwritten_lock:
                self._unwritten[key] = completion
            self._writer.append(key)

    def flush(self) -> None:
        """Wait until every ``put`` so far is on disk (at once without ``write_behind_seconds``)."""
        if self._writer is not None:
            self._writer.flush()

    def _write(self, keys: list[str]) -> None:
        """The background writer's batch, in one transaction. A batch that fails (a full disk) is dropped: later
        lookups of those keys miss, as a failed ``put`` without write-behind would make them."""
        batch = {k: self._unwritten[k] for k in keys if k in self._unwritten}
        rows = [_row(k, c) for k, c in batch.items()]
        try:
            self._insert(rows)
        except UnicodeEncodeError:  # an answer holding a lone surrogate, which UTF-8 cannot carry: the others are kept
            with contextlib.suppress(sqlite3.Error):
                self._insert([r for r in rows if is_valid_unicode(r[1])])
        except sqlite3.Error:
            pass
        with self._unwritten_lock:
            for k, c in batch.items():
                if self._unwritten.get(k) is c:  # a newer put of the same key waits for its own batch
                    del self._unwritten[k]

    def _insert(self, rows: list[tuple[str, str, float]]) -> None:
        executemany_atomically(self._conn(), "INSERT OR REPLACE INTO responses VALUES (?, ?, ?)", rows)

    def purge(self, older_than_seconds: float) -> int:
        """Delete entries older than this (the retention period); returns how many."""
        self.flush()
        return self._conn().execute("DELETE FROM responses WHERE created < ?",
                                    (time.time() - older_than_seconds,)).rowcount

    def __len__(self) -> int:
        self.flush()
        return self._conn().execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    def clear(self) -> None:
        """Delete every entry (pending writes are flushed first)."""
        self.flush()
        self._conn().execute("DELETE FROM responses")

    def __repr__(self) -> str:
        return f"ResponseCache({str(self.path)!r})"


def _row(key: str, completion: Completion) -> tuple[str, str, float]:
    return key, json.dumps(completion.to_dict(), ensure_ascii=False), time.time()
