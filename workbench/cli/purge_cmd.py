"""``workbench purge --older-than-days N``: apply the retention period to every store that holds request text —
the log store (requests, resolved escalations), the runner's response and semantic caches, and the queue ledger's
done items (pending and leased items are never purged)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

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
    from ..store.logstore import LogStore, default_db_url

    seconds = args.older_than_days * 86400.0
    counts = {"log rows": LogStore(args.db or default_db_url()).purge(args.older_than_days)}
    folder = Path(args.cache_dir) if args.cache_dir else workspace("runner")
    counts["response cache entries"] = _exact(folder / "responses.sqlite", seconds)
    counts["semantic cache entries"] = _semantic(folder / "semantic.sqlite", seconds)
    counts["finished queue items"] = _ledger(args, seconds)
    print("purged " + ", ".join(f"{n} {what}" for what, n in counts.items())
          + f" older than {args.older_than_days:g} day(s)", file=sys.stderr)
    return 0


def _exact(path: Path, seconds: float) -> int:
    if not path.exists():
        return 0
    from ..caches.exact import ResponseCache

    return ResponseCache(path).purge(seconds)


def _semantic(path: Path, seconds: float) -> int:
    if not path.exists():
        return 0
    from ..caches.semantic import SemanticCache

    return SemanticCache(path).prune(seconds)


def _ledger(args: argparse.Namespace, seconds: float) -> int:
    from ..runner.ledger import Ledger
    from ..runner.queue import ledger_url, queue_url

    url = ledger_url(args.ledger_db or args.db, queue_url(args.queue))  # where `workbench worker` keeps it
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return 0
    return Ledger(url).purge(seconds)
