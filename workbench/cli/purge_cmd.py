"""``workbench purge --older-than-days N``: apply the retention period to every store that holds request text —
the log store (requests, resolved escalations), the runner's response and semantic caches, and the queue ledger's
done items (pending and leased items are never purged).

Deleted text is overwritten in the database files (``secure_delete``), and each SQLite store's write-ahead log is
then folded back and truncated, so the text does not stay in a ``-wal`` either while other processes (a worker, a
server) keep the stores open. One thing SQLite does not allow: a checkpoint cannot pass the snapshot of a reader
still inside a transaction; then the log is folded when that process closes the store (said on stderr). A store
that cannot be purged (damaged, read-only) is said with its repair, exit 2, after the others are purged."""
from __future__ import annotations

import argparse
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import UsageError
from .argtypes import days


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("purge", help="delete request text older than the retention period from every store",
                       description="Delete log rows, cache entries and finished queue items older than N days.")
    p.add_argument("--older-than-days", type=days, required=True, metavar="N", help="the retention period")
    p.add_argument("--db", help="log store URL (default: $WORKBENCH_DB_URL, else the workspace's)")
    p.add_argument("--queue", help="queue URL whose ledger to purge (default: $WORKBENCH_QUEUE_URL, else the "
                                   "workspace's)")
    p.add_argument("--ledger-db", help="the ledger's database URL (default: --db, as `workbench worker` uses it)")
    p.add_argument("--cache-dir", help="the runner's cache folder (default: $WORKBENCH_HOME/runner)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from .._util.paths import workspace
    from ..errors import WorkbenchError

    seconds = args.older_than_days * 86400.0
    folder = Path(args.cache_dir) if args.cache_dir else workspace("runner")
    stores: dict[str, Callable[[], tuple[int, str | None]]] = {
        "log rows": lambda: _log(args.db, args.older_than_days),
        "response cache entries": lambda: _exact(folder / "responses.sqlite", seconds),
        "semantic cache entries": lambda: _semantic(folder / "semantic.sqlite", seconds),
        "finished queue items": lambda: _ledger(args, seconds),
    }
    counts: dict[str, int] = {}
    problems: list[WorkbenchError] = []
    for what, purge in stores.items():  # every store is purged, whatever happened to the others
        try:
            counts[what], unfolded = purge()
        except WorkbenchError as e:
            problems.append(e)
            continue
        if unfolded is not None:
            print(f"note: the write-ahead log of {unfolded} could not be folded back now: another process is reading "
                  "it (a checkpoint cannot pass a reader's snapshot); the purged text leaves it when that process "
                  "closes the store, or at the next purge", file=sys.stderr)
    print("purged " + (", ".join(f"{n} {what}" for what, n in counts.items()) or "nothing")
          + f" older than {args.older_than_days:g} day(s)"
          + (f"; {len(problems)} store(s) could not be purged" if problems else ""), file=sys.stderr)
    for problem in problems[:-1]:
        print(f"error [{problem.code}]: {problem}", file=sys.stderr)
    if problems:
        raise problems[-1]
    return 0


def _log(url: str | None, days: float) -> tuple[int, str | None]:
    """Purge the log store: ``(rows deleted, the store when its write-ahead log could not be folded)``."""
    import sqlalchemy as sa

    from ..store.logstore import LogStore, default_db_url, open_error, safe_url

    url = url or default_db_url()
    store = LogStore(url)  # a read-only place, a damaged file, an in-memory URL: LogStoreError with its repair
    try:
        return store.purge(days), None if store.fold_wal() else safe_url(url)
    except (sa.exc.SQLAlchemyError, OSError) as e:  # a file damaged past its first pages
        raise open_error(url, e) from None
    finally:
        store.close()


def _exact(path: Path, seconds: float) -> tuple[int, str | None]:
    from ..caches.exact import ResponseCache

    return _cache(path, "the response cache", lambda: ResponseCache(path), lambda cache: cache.purge(seconds))


def _semantic(path: Path, seconds: float) -> tuple[int, str | None]:
    from ..caches.semantic import SemanticCache

    return _cache(path, "the semantic cache", lambda: SemanticCache(path), lambda cache: cache.prune(seconds))


def _cache(path: Path, what: str, open_cache: Callable[[], Any], purge: Callable[[Any], int]) -> tuple[int, str | None]:
    """Purge one cache file (none there: nothing to do), fold its write-ahead log and close it."""
    if not path.exists():
        return 0, None
    try:
        cache = open_cache()
        try:
            return purge(cache), None if cache.fold_wal() else str(path)
        finally:
            cache.close()
    except (sqlite3.Error, OSError) as e:
        raise _cache_error(path, e, what) from None


def _cache_error(path: Path, e: BaseException, what: str) -> UsageError:
    from ..store.sqlitefile import explain, reason

    known = explain(path, e, what, "it is only a cache: a new one is made on the next run",
                    "set --cache-dir (or WORKBENCH_HOME) to a writable folder")
    if known is not None:
        return UsageError(known[0], hint=known[1], code="cache_store")
    return UsageError(f"cannot purge {what} {path}: {reason(e)}", hint="check --cache-dir, the disk space and "
                      "permissions", code="cache_store")


def _ledger(args: argparse.Namespace, seconds: float) -> tuple[int, str | None]:
    import sqlalchemy as sa

    from ..runner.ledger import Ledger, ledger_error
    from ..runner.queue import ledger_url, queue_url
    from ..store.logstore import safe_url

    url = ledger_url(args.ledger_db or args.db, queue_url(args.queue))  # where `workbench worker` keeps it
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return 0, None
    ledger = Ledger(url)  # a read-only place, a damaged file, an in-memory URL: QueueUnavailableError with its repair
    try:
        return ledger.purge(seconds), None if ledger.fold_wal() else safe_url(url)
    except (sa.exc.SQLAlchemyError, OSError) as e:
        raise ledger_error(url, e) from None
    finally:
        ledger.close()
