"""``executemany_atomically``: the caches' writes, many rows in one SQLite transaction, all or none."""
from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any


def executemany_atomically(db: sqlite3.Connection, sql: str, rows: Iterable[Any]) -> None:
    """``db.executemany(sql, rows)`` between BEGIN and COMMIT (``db`` in autocommit mode); rolled back, then raised,
    on any error."""
    db.execute("BEGIN")
    try:
        db.executemany(sql, rows)
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
