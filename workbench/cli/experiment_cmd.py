"""``workbench experiment SPEC.yaml --out DIR``: run a grid headless; ``workbench experiment list``."""
from __future__ import annotations

import argparse
import json
import sys

from .argtypes import positive_seconds


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("experiment", help="run an experiment spec, or list runs",
                       description="Run a grid of variants over an eval set (resumable), or `list` runs.")
    p.add_argument("spec", help="an experiment spec YAML, or `list`")
    p.add_argument("--out", help="run folder (default: $WORKBENCH_HOME/runs/<spec name>-<eval-set hash>)")
    p.add_argument("--confirm", action="store_true", help="run even when the estimate is over the budget")
    p.add_argument("--allow-unpriced", action="store_true",
                   help="with a budget, run although some cells are unpriced (refused otherwise)")
    p.add_argument("--estimate", action="store_true", help="print the cost estimate and stop")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr (e.g. in CI logs)")
    p.add_argument("--root", help="with `list`: where run folders are (default: $WORKBENCH_HOME/runs)")
    p.add_argument("--format", choices=["text", "json"], default="text",
                   help="the run's summary as text, or as JSON on stdout")
    p.add_argument("--queue", help="spread the cells over `workbench worker`s on this queue URL; waits for them")
    p.add_argument("--db", help="with --queue: the ledger database URL (default: $WORKBENCH_DB_URL or next to it)")
    p.add_argument("--timeout", type=positive_seconds, default=3600.0, help="with --queue: seconds to wait for the workers")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.spec == "list":
        return _list(args)
    from ..experiments import Experiment, ExperimentResults, ExperimentSpec

    spec = ExperimentSpec.load(args.spec)
    if args.allow_unpriced:
        spec = spec.model_copy(update={"allow_unpriced": True})
    exp = Experiment.from_spec(spec, args.out)
    out = exp.out
    estimate = exp.estimate()
    print(f"{spec.name}: {len(exp.variants)} variants x {len(exp.evalset)} samples x {spec.repeats} repeats; "
          f"{estimate}", file=sys.stderr)
    if args.estimate:
        print(json.dumps({"cells": estimate.cells, "pending": estimate.pending, "input_tokens": estimate.input_tokens,
                          "cost_usd": estimate.cost_usd, "unpriced_cells": estimate.unpriced_cells}))
        return 0
    summary = _distributed(exp, args) if args.queue else exp.run(confirm=args.confirm,
                                                                 progress=not args.no_progress)
    table = ExperimentResults(out).summary()
    if not table.empty:
        print(table.to_string(float_format=lambda x: f"{x:.4g}"))
    print(summary)
    if args.queue and exp.pending():
        print(f"error: {len(exp.pending())} cells are still pending after {args.timeout:g} s: start more "
              f"`workbench worker --queue {args.queue}` processes, then run this command again", file=sys.stderr)
        return 1
    return 0


def _distributed(exp, args: argparse.Namespace):
    """Submit the pending cells to the queue, wait for the workers, collect their records."""
    import time

    from ..experiments.distributed import run_distributed
    from ..experiments.engine import RunSummary
    from ..runner.queue import WorkQueue

    start = time.perf_counter()
    if not args.confirm:
        exp.check_budget()
    skipped = len(exp.cells()) - len(exp.pending())
    queue = WorkQueue(args.queue, args.db)
    try:
        submitted, records = run_distributed(exp, args.spec, queue, timeout=args.timeout)
    finally:
        queue.close()
    print(f"submitted {submitted} cells to {queue.url}; {len(exp.pending())} still pending", file=sys.stderr)
    errors: dict[str, int] = {}
    for r in records:
        if r.get("error"):
            errors[r["error"]["code"]] = errors.get(r["error"]["code"], 0) + 1
    return RunSummary(len(records), skipped, sum(r.get("model_calls", 0) for r in records), errors,
                      time.perf_counter() - start, exp.out)


def _list(args: argparse.Namespace) -> int:
    from ..experiments import list_runs

    runs = list_runs(args.root)
    if args.format == "json":
        print(json.dumps(runs, indent=2))
        return 0
    for r in runs:
        print(f"{r['run']:<36} {r['created'] or '-':<22} {r['evalset'] or '-':<16} {r['variants']:>3} variants "
              f"{r['records']:>6} records  {r['path']}")
    if not runs:
        print("no runs yet", file=sys.stderr)
    return 0
