"""SQLite files as the stores see them: where a URL's file is, whether a URL names no file at all (in memory), and
what a failure to open or write a file means, so every store's error gives the right repair:

- the folder (or the file) cannot be written (a read-only mount, permissions): make it writable, or move the
  workspace (``WORKBENCH_HOME``); moving the file aside would not help;
- the file is damaged (truncated, overwritten: ``file is not a database``, ``database disk image is malformed``):
  move it aside (``mv FILE FILE.broken``) and let the store make a new one;
- anything else: the caller's generic message.
"""
from __future__ import annotations

import os
import shlex
import sqlite3
from pathlib import Path

import sqlalchemy as sa

_DAMAGED_CODES = frozenset({"SQLITE_CORRUPT", "SQLITE_NOTADB"})
_DAMAGED_TEXTS = ("file is not a database", "database disk image is malformed", "malformed database schema")


def _parse(url: str) -> sa.URL | None:
    try:
        parsed = sa.engine.make_url(url)
    except Exception:  # noqa: BLE001 - a malformed URL is the caller's message
        return None
    return parsed if parsed.get_backend_name() == "sqlite" else None


def in_memory(url: str) -> bool:
    """True for a SQLite URL that names no file (``sqlite://``, ``sqlite:///:memory:``, a ``mode=memory`` URI):
    each connection to it gets a database of its own, empty, gone when it closes."""
    parsed = _parse(url)
    if parsed is None:
        return False
    database = parsed.database or ""
    return (database in ("", ":memory:") or database.startswith("file::memory:") or "mode=memory" in database
            or parsed.query.get("mode") == "memory")


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names; None for another database, an in-memory one or a malformed URL."""
    parsed = _parse(url)
    if parsed is None or in_memory(url):
        return None
    database = parsed.database or ""
    if database.startswith("file:"):  # a URI filename
        database = database.removeprefix("file:").split("?", 1)[0]
    return Path(database).expanduser()


def is_damaged(error: BaseException) -> bool:
    """True when ``error`` (SQLite's, or SQLAlchemy's around it) says the file is not a sound database."""
    cause = getattr(error, "orig", None) or error
    if not isinstance(cause, sqlite3.DatabaseError):
        return False
    return getattr(cause, "sqlite_errorname", None) in _DAMAGED_CODES or any(t in str(cause) for t in _DAMAGED_TEXTS)


def unwritable(path: Path) -> Path | None:
    """The folder holding ``path`` (its nearest existing one) when this process cannot create files in it — SQLite
    needs to, for ``-wal`` and ``-shm`` — or ``path`` itself when it cannot be written; None when both can (or the
    nearest existing ancestor is not a folder: not a permission problem)."""
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        return None
    if not os.access(folder, os.W_OK | os.X_OK):  # EROFS on a read-only mount, even for root
        return folder
    if path.exists() and not os.access(path, os.W_OK):
        return path
    return None


def reason(error: BaseException) -> str:
    """The driver's words for ``error``, on one line."""
    cause = getattr(error, "orig", None) or error
    return " ".join(str(getattr(cause, "strerror", None) or cause).split())[:200]


def explain(path: Path, error: BaseException, what: str, repair: str,
            elsewhere: str = "set WORKBENCH_HOME to a writable folder") -> tuple[str, str] | None:
    """``(message, hint)`` for a SQLite file that could not be opened or written because its place is read-only or
    it is damaged; None for any other cause. ``what`` names the file for the message (``"the queue ledger"``);
    ``repair`` says what moving a damaged file aside means and what to run next (``{broken}``: the moved file);
    ``elsewhere``: how to use another place instead."""
    blocked = unwritable(path)
    if blocked is not None:
        return (f"cannot write in {blocked} ({what} {path}: {reason(error)})",
                f"make {blocked} writable, or {elsewhere}")
    if is_damaged(error):
        broken = shlex.quote(f"{path}.broken")
        return (f"{what} {path} is damaged ({reason(error)})",
                f"move it aside (mv {shlex.quote(str(path))} {broken}); {repair.format(broken=broken)}")
    return None


def explain_url(url: str, error: BaseException, what: str, repair: str,
                elsewhere: str = "set --db / WORKBENCH_DB_URL (or WORKBENCH_HOME) to a writable place") -> \
        tuple[str, str] | None:
    """``explain`` for the SQLite file a database URL names; None for another database, or another cause."""
    path = sqlite_file(url)
    return None if path is None else explain(path, error, what, repair, elsewhere)
