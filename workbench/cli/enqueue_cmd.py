"""``workbench enqueue --input in.jsonl``: put inputs on the durable queue (idempotent by input id)."""
from __future__ import annotations

import argparse
import sys


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("enqueue", help="put JSONL inputs on the durable queue for `workbench worker`",
                       description="Record each input in the queue ledger (pending) and push its id to the queue. "
                                   "Ids already enqueued are kept as they are. Exit 2 when the queue is unreachable "
                                   "(the recorded items stay pending and are pushed later).")
    p.add_argument("--input", required=True, help="JSONL file, one input object with an `id` per line")
    p.add_argument("--config", help="exported config to check before enqueueing (workers choose what runs)")
    p.add_argument("--queue", help="redis://host:port/db or a SQLite file (default: $WORKBENCH_QUEUE_URL, "
                                   "else $WORKBENCH_HOME/queue/huey.db)")
    p.add_argument("--db", help="ledger database URL (default: $WORKBENCH_DB_URL, else ledger.db by the queue)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..runner.queue import WorkQueue, iter_inputs

    if args.config:
        from ..config.production import load_production_config

        load_production_config(args.config)
    errors: list[str] = []
    items = iter_inputs(args.input, errors)  # read as the ledger takes them: a file of any size fits in memory
    queue = WorkQueue(args.queue, args.db)
    try:  # a ledger that cannot be written (a full disk, a read-only file, a database down): QueueUnavailableError
        report = queue.submit(items)
    finally:
        queue.close()
        for message in errors:
            print(f"error: {message}", file=sys.stderr)
    print(f"enqueued {report.added} item(s) on {queue.url} ({report.known} already known, "
          f"{report.pushed} pushed, {len(errors)} line(s) refused)", file=sys.stderr)
    return 1 if errors else 0
