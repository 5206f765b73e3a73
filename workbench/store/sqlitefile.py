"""SQLite files as the stores see them: where a URL's file is, whether a URL names no file at all (in memory), and
what a failure to open or write a file means, so every store's error gives the right repair:

- the folder (or the file) cannot be written (a read-only mount, permissions): make it writable, or move the
  workspace (``WORKBENCH_HOME``); moving the file aside would not help;
- the file is damaged (truncated, overwritten: ``file is not a database``, ``database disk image is malformed``):
  move it aside (``mv FILE FILE.broken``) and let the store make a new one;
- the disk holding it is full (``database or disk is full``): free space;
- anything else: the caller's generic message.

A file can also fail a process that already has it open: SQLite trusts the pages it holds while nothing it can see
changed, so a file truncated, overwritten, moved or removed under it goes unnoticed until it writes (or for ever,
writing to a removed file). ``identity`` and ``problem`` let a long-running store look: is it still the same, sound
file?
"""
from __future__ import annotations

import errno
import os
import shlex
import sqlite3
import time
from pathlib import Path

import sqlalchemy as sa

_DAMAGED_CODES = frozenset({"SQLITE_CORRUPT", "SQLITE_NOTADB"})
_DAMAGED_TEXTS = ("file is not a database", "database disk image is malformed", "malformed database schema")
_HEADER = b"SQLite format 3\x00"


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


def is_full(error: BaseException, path: Path | None = None) -> bool:
    """True when ``error`` says the disk is full (``SQLITE_FULL``, ``ENOSPC``), or when the disk holding ``path`` has
    no space left (SQLite then often says only ``disk I/O error``: its ``-shm`` file could not grow)."""
    cause = getattr(error, "orig", None) or error
    if getattr(cause, "sqlite_errorname", None) == "SQLITE_FULL" or "database or disk is full" in str(cause):
        return True
    if isinstance(cause, OSError) and cause.errno == errno.ENOSPC:
        return True
    if path is None or not isinstance(cause, (sqlite3.OperationalError, OSError)):
        return False
    try:
        return os.statvfs(_nearest_folder(path)).f_bavail == 0
    except (OSError, AttributeError):  # no statvfs (Windows), or the folder went away
        return False


def _nearest_folder(path: Path) -> Path:
    """The nearest existing ancestor of ``path`` (its folder, or above when that does not exist yet)."""
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def identity(path: Path) -> tuple[int, int] | None:
    """``(device, inode)`` of the file at ``path`` now; None when there is none."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def problem(path: Path, opened: tuple[int, int] | None) -> tuple[str, str] | None:
    """What is wrong with a SQLite file a process opened as ``opened`` (its ``identity`` then), as ``(kind, words)``:
    ``moved`` (removed or moved away), ``replaced`` (another file at its path) or ``damaged`` (overwritten: no SQLite
    header; truncated: shorter than its header says, still after a moment, so a checkpoint growing it is not taken for
    damage); None when it looks sound. Cheap (a ``stat`` and 100 bytes read): fit to call between items."""
    now = identity(path)
    if now is None:
        return "moved", "removed or moved away while open"
    if opened is not None and now != opened:
        return "replaced", "replaced by another file while open"
    words = None
    for pause in (0.0, 0.02, 0.1, 0.3):
        time.sleep(pause)
        words, may_pass = _header_problem(path)
        if words is None or not may_pass:
            break
    return None if words is None else ("damaged", words)


def changed_under(path: Path, opened: tuple[int, int] | None, what: str, repair: str,
                  restart: str) -> tuple[str, str] | None:
    """``(message, hint)`` when the SQLite file a process opened as ``opened`` changed under it (``problem``): a
    damaged one is moved aside, then ``repair``; a moved or replaced one is ``restart``; None when it looks sound."""
    found = problem(path, opened)
    if found is None:
        return None
    kind, words = found
    if kind == "damaged":
        return damaged(path, words, what, repair)
    return f"{what} {path} was {words}", restart


def _header_problem(path: Path) -> tuple[str | None, bool]:
    """``(words, may_pass)``: what is wrong with the file's header (None: nothing), and whether it may pass (a file
    shorter than its header says while a checkpoint grows it)."""
    try:
        with open(path, "rb") as f:
            head = f.read(100)
            size = os.fstat(f.fileno()).st_size
    except OSError as e:
        return f"unreadable: {e.strerror or e}", False
    if not head:
        return "truncated while open: empty", False
    if not head.startswith(_HEADER):
        return "overwritten while open: no SQLite header", False
    expected = _header_size(head)
    if expected is None or size >= expected:
        return None, False
    return f"truncated while open: {size} of {expected} bytes", True


def _header_size(head: bytes) -> int | None:
    """The file size a SQLite header says (page size x pages), when the header's page count is valid."""
    if len(head) < 100:
        return 100
    page = int.from_bytes(head[16:18], "big")
    pages = int.from_bytes(head[28:32], "big")
    if pages == 0 or head[24:28] != head[92:96]:  # the count is valid only when written by a version that keeps it
        return None
    return (65536 if page == 1 else page) * pages


def unwritable(path: Path) -> Path | None:
    """The folder holding ``path`` (its nearest existing one) when this process cannot create files in it — SQLite
    needs to, for ``-wal`` and ``-shm`` — or ``path`` itself when it cannot be written; None when both can (or the
    nearest existing ancestor is not a folder: not a permission problem)."""
    folder = _nearest_folder(path)
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
    """``(message, hint)`` for a SQLite file that could not be opened or written because its place is read-only, it
    is damaged or its disk is full; None for any other cause. ``what`` names the file for the message (``"the queue ledger"``);
    ``repair`` says what moving a damaged file aside means and what to run next (``{broken}``: the moved file);
    ``elsewhere``: how to use another place instead."""
    blocked = unwritable(path)
    if blocked is not None:
        return (f"cannot write in {blocked} ({what} {path}: {reason(error)})",
                f"make {blocked} writable, or {elsewhere}")
    if is_damaged(error):
        return damaged(path, reason(error), what, repair)
    if is_full(error, path):
        return (f"no space left on the disk holding {what} {path} ({reason(error)})",
                f"free space there, or {elsewhere}")
    return None


def damaged(path: Path, why: str, what: str, repair: str) -> tuple[str, str]:
    """``(message, hint)`` for a damaged SQLite file: move it aside, then ``repair`` (``{broken}``: the moved file)."""
    return f"{what} {path} is damaged ({why})", move_aside(path, repair)


def move_aside(path: Path, repair: str) -> str:
    """The hint to move a SQLite file aside (``mv FILE FILE.broken``), then ``repair`` (``{broken}``: the moved
    file)."""
    broken = shlex.quote(f"{path}.broken")
    return f"move it aside (mv {shlex.quote(str(path))} {broken}); {repair.format(broken=broken)}"


def explain_url(url: str, error: BaseException, what: str, repair: str,
                elsewhere: str = "set --db / WORKBENCH_DB_URL (or WORKBENCH_HOME) to a writable place") -> \
        tuple[str, str] | None:
    """``explain`` for the SQLite file a database URL names; None for another database, or another cause."""
    path = sqlite_file(url)
    return None if path is None else explain(path, error, what, repair, elsewhere)
