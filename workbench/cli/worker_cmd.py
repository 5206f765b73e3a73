"""``workbench worker``: run queued items with the production runner, each exactly once."""
from __future__ import annotations

import argparse
import signal
import sys

from .argtypes import positive_int, positive_seconds
from .run_cmd import add_evidence_flag


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("worker", help="process the durable queue with the production runner",
                       description="Lease items from the queue ledger, run them, store one result per item. "
                                   "Without --config (or with --config active) the worker follows the rollout "
                                   "store's active config and switches between items when it changes.")
    p.add_argument("--config", help="exported config file, or `active` (default) to follow `workbench rollout`")
    p.add_argument("--store", help="rollout store folder (default: $WORKBENCH_HOME/configs)")
    p.add_argument("--queue", help="queue URL (default: $WORKBENCH_QUEUE_URL, else $WORKBENCH_HOME/queue/huey.db)")
    p.add_argument("--db", help="database URL for the ledger and log store (default: $WORKBENCH_DB_URL)")
    p.add_argument("--concurrency", type=positive_int, default=1, help="items in flight (threads); default 1")
    p.add_argument("--lease-seconds", type=positive_seconds, default=300.0,
                   help="how long an item stays leased before another worker may take it (default 300)")
    stop = p.add_mutually_exclusive_group()
    stop.add_argument("--max-items", type=positive_int, help="stop after processing this many items")
    stop.add_argument("--until-empty", action="store_true", help="stop when nothing is pending or leased")
    add_evidence_flag(p)
    p.set_defaults(run=run)


def _run_cell(inputs: dict) -> dict:
    """An experiment cell (``workbench experiment SPEC --queue URL``); the experiment side loads only here."""
    from ..experiments.distributed import run_cell_item

    return run_cell_item(inputs)


def run(args: argparse.Namespace) -> int:
    from .._util.heap import freeze_startup_heap
    from ..runner.queue import WorkQueue
    from ..runner.source import ConfigSource
    from ..runner.worker import Worker, WorkerOptions

    source = ConfigSource.from_args(args.config, args.store, args.db, args.allow_stand_in_evidence)
    config, runner = source.current()  # fail early on a bad config
    if hasattr(runner, "warm_up"):
        runner.warm_up()  # the model library and tokenizers load now, not during the first item
    freeze_startup_heap()  # a full garbage collection no longer walks litellm's ~400k objects (0.22 s, GIL held)
    queue = WorkQueue(args.queue, args.db)
    options = WorkerOptions(concurrency=args.concurrency, lease_seconds=args.lease_seconds,
                            max_items=args.max_items, until_empty=args.until_empty)
    worker = Worker(queue, source, options=options, handlers={"cell": _run_cell})
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    print(f"worker {worker.owner}: {config.name} {config.config_hash[:19]} on {queue.url}"
          f"{' (following the active config)' if source.following else ''}", file=sys.stderr)
    try:
        report = worker.run()
    finally:
        queue.close()
        source.close()
    print(f"worker {worker.owner}: processed {report.processed}, skipped {report.skipped} duplicate(s), "
          f"re-enqueued {report.reaped}, queued {report.requeued} transient failure(s) for later", file=sys.stderr)
    return 0
