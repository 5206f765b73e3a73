"""``workbench experiment SPEC.yaml --out DIR``: run a grid headless; ``workbench experiment list``."""
from __future__ import annotations

import argparse
import json
import sys


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("experiment", help="run an experiment spec, or list runs",
                       description="Run a grid of variants over an eval set (resumable), or `list` runs.")
    p.add_argument("spec", help="an experiment spec YAML, or `list`")
    p.add_argument("--out", help="run folder (default: $WORKBENCH_HOME/runs/<spec name>-<eval-set hash>)")
    p.add_argument("--confirm", action="store_true", help="run even when the estimate is over the budget")
    p.add_argument("--estimate", action="store_true", help="print the cost estimate and stop")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--root", help="with `list`: where run folders are (default: $WORKBENCH_HOME/runs)")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.spec == "list":
        return _list(args)
    from ..experiments import Experiment, ExperimentResults, ExperimentSpec

    spec = ExperimentSpec.load(args.spec)
    exp = Experiment.from_spec(spec, args.out)
    out = exp.out
    estimate = exp.estimate()
    print(f"{spec.name}: {len(exp.variants)} variants x {len(exp.evalset)} samples x {spec.repeats} repeats; "
          f"{estimate}", file=sys.stderr)
    if args.estimate:
        print(json.dumps({"cells": estimate.cells, "pending": estimate.pending, "input_tokens": estimate.input_tokens,
                          "cost_usd": estimate.cost_usd, "unpriced_cells": estimate.unpriced_cells}))
        return 0
    summary = exp.run(confirm=args.confirm, progress=not args.no_progress)
    table = ExperimentResults(out).summary()
    if not table.empty:
        print(table.to_string(float_format=lambda x: f"{x:.4g}"))
    print(summary)
    return 0


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
