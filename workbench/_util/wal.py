"""``use_wal``: switch a SQLite connection's file to write-ahead logging, waiting out other openers; ``fold_wal``:
fold the log back into the file and truncate it.

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


def fold_wal(db: Any) -> bool:
    """Fold a SQLite file's write-ahead log back into it and truncate it (``PRAGMA wal_checkpoint(TRUNCATE)``) on
    ``db`` (a ``sqlite3`` connection, or a driver connection around one), so no old page (an entry or row since
    purged) stays in ``-wal``; True when done. False when it could not finish: another connection, perhaps in
    another process, reads an older snapshot (a checkpoint cannot pass it), or a disk error; the last connection to
    close folds it. Outside a transaction only: inside one SQLite refuses (``database table is locked``)."""
    try:
        cursor = db.cursor()
        try:
            row = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            cursor.close()
    except sqlite3.Error:
        return False
    return row is None or row[0] == 0
