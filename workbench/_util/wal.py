"""``use_wal``: switch a SQLite connection's file to write-ahead logging, waiting out other openers.

The switch needs the file to itself. When several processes open a file not yet in WAL mode at once (a new cache or
log file, three workers starting), SQLite can answer one of them ``database is locked`` at once, without waiting
out the busy timeout: two connections that each hold a shared lock and want an exclusive one cannot both wait. The
loser tries again a moment later and finds the file switched. Seen as a failed cache open under load: about one
round in a hundred of 12 caches opening one new file together.
"""
from __future__ import annotations

import sqlite3
import time
from typing import Any

RETRY_SECONDS = 0.01


def use_wal(db: Any, timeout: float = 30.0) -> None:
    """``PRAGMA journal_mode=WAL`` on ``db`` (a ``sqlite3`` connection), retried while the file is locked, for up
    to ``timeout`` seconds; any other error, or a lock that outlasts it, is raised."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() >= deadline:
                raise
        time.sleep(RETRY_SECONDS)
