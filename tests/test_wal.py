"""``use_wal`` waits out other openers: SQLite may refuse a switch to WAL at once ("database is locked") when several
connections open a new file together, which failed a cache open under load (``test_model_client``'s six openers)."""
from __future__ import annotations

import sqlite3

import pytest

from workbench._util.wal import use_wal


class Refusing:
    """A connection whose first ``n`` journal-mode switches fail with ``error``."""

    def __init__(self, n: int, error: str = "database is locked"):
        self.n, self.error, self.calls = n, error, 0

    def execute(self, sql: str):
        assert sql == "PRAGMA journal_mode=WAL"
        self.calls += 1
        if self.calls <= self.n:
            raise sqlite3.OperationalError(self.error)


def test_a_locked_switch_is_tried_again_until_it_passes():
    db = Refusing(3)
    use_wal(db, timeout=5.0)
    assert db.calls == 4


def test_a_lock_that_outlasts_the_timeout_is_raised():
    db = Refusing(10_000)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        use_wal(db, timeout=0.05)
    assert 1 < db.calls < 10_000


def test_any_other_error_is_raised_at_once():
    db = Refusing(1, "disk I/O error")
    with pytest.raises(sqlite3.OperationalError, match="disk I/O"):
        use_wal(db)
    assert db.calls == 1


def test_a_real_file_ends_in_wal_mode(tmp_path):
    path = tmp_path / "x.sqlite"
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.close()
    db = sqlite3.connect(path, isolation_level=None)
    use_wal(db)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
