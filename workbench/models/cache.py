"""A persistent exact-match response cache on disk (SQLite).

The key hashes exactly what changes the output: the model's identity (model id, endpoint, output-affecting
parameters), the messages, and the call's output-affecting settings. Transport settings (keys, timeouts,
retry counts) are not part of it.
"""
from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from ..hashing import content_hash
from ..paths import workspace
from .records import Completion


def cache_key(identity: dict[str, Any], messages: list[dict[str, Any]], settings: dict[str, Any]) -> str:
    from .litellm_model import TRANSPORT_PARAMS

    return content_hash({"model": identity, "messages": messages,
                         "settings": {k: v for k, v in settings.items() if k not in TRANSPORT_PARAMS}})


class ResponseCache:
    """Completions by key in one SQLite file (WAL mode; safe across threads and processes)."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else workspace("cache", "responses.sqlite")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._conn() as db:
            db.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, completion TEXT NOT NULL,"
                       " created REAL NOT NULL)")

    def _conn(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    def get(self, key: str) -> Completion | None:
        row = self._conn().execute("SELECT completion FROM responses WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        try:
            return Completion.from_dict(json.loads(row[0]))
        except (ValueError, TypeError):  # a corrupt entry is a miss, not a crash
            return None

    def put(self, key: str, completion: Completion) -> None:
        self._conn().execute("INSERT OR REPLACE INTO responses VALUES (?, ?, ?)",
                             (key, json.dumps(completion.to_dict(), ensure_ascii=False), time.time()))

    def __len__(self) -> int:
        return self._conn().execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    def clear(self) -> None:
        self._conn().execute("DELETE FROM responses")

    def __repr__(self) -> str:
        return f"ResponseCache({str(self.path)!r})"
