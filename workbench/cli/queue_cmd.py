"""``workbench queue status`` and ``workbench queue export --out out.jsonl``."""
from __future__ import annotations

import argparse
import json
import sys


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("queue", help="status of the durable queue, or export its results",
                       description="`status`: items per state (pending, leased, done) and tasks on the broker. "
                                   "`export`: one result line per enqueued item, in enqueue order, in the "
                                   "format of `workbench run` (unfinished items get a `pending`/`leased` line).")
    p.add_argument("action", choices=["status", "export"], help="status: counts per state; export: result lines")
    p.add_argument("--out", help="with export: output JSONL file (default: stdout)")
    p.add_argument("--queue", help="queue URL (default: $WORKBENCH_QUEUE_URL, else $WORKBENCH_HOME/queue/huey.db)")
    p.add_argument("--db", help="ledger database URL (default: $WORKBENCH_DB_URL, else ledger.db by the queue)")
    p.add_argument("--format", choices=["text", "json"], default="text", help="with status")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..runner.queue import WorkQueue

    queue = WorkQueue(args.queue, args.db)
    try:
        if args.action == "status":
            status = queue.status()
            if args.format == "json":
                print(json.dumps(status))
            else:
                broker = "unreachable" if status["broker_tasks"] is None else status["broker_tasks"]
                print(f"{status['queue']}: {status['pending']} pending, {status['leased']} leased, "
                      f"{status['done']} done ({status['total']} items; {broker} task(s) on the broker)")
            if status["broker_error"]:
                print(f"error [queue_unavailable]: {status['broker_error']}", file=sys.stderr)
            return 0 if status["broker_tasks"] is not None else 2
        if args.out:
            with open(args.out, "w", encoding="utf-8") as out:
                counts = queue.export(out)
        else:
            counts = queue.export(sys.stdout)
        print(f"exported {counts['done'] + counts['unfinished']} line(s): {counts['done']} done, "
              f"{counts['unfinished']} unfinished", file=sys.stderr)
        return 0
    finally:
        queue.close()
