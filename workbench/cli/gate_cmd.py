"""``workbench gate --config C --evalset E``: does an exported config still meet its own thresholds?

Exit 0 when every gated variant meets every threshold, 1 when one is below (the failed criteria and the gaps are
printed), 2 when the gate cannot run (unreadable or tampered config, missing or malformed eval set, an LLM judge
below the minimum kappa).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .argtypes import positive_int


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gate", help="run an eval set through an exported config and check its gate thresholds",
                       description="Run an eval set through an exported config's pipeline(s) and check its gate "
                       "thresholds. Exit 0 pass, 1 below a threshold, 2 usage error.")
    p.add_argument("--config", required=True, help="an exported pipeline config (configs/pipeline.yaml)")
    p.add_argument("--evalset", required=True, help="the eval set JSONL")
    p.add_argument("--limit", type=int, help="only the first N samples, stratified by category: a smoke check "
                                             "without the full gate's statistical power")
    p.add_argument("--allow-stand-in-evidence", action="store_true",
                   help="gate real models against thresholds measured on offline stand-ins (refused otherwise; "
                        "recorded in the report)")
    p.add_argument("--format", choices=["text", "json"], default="text",
                   help="the report as text, or as JSON on stdout")
    p.add_argument("--judge-labels", help="human labels to calibrate an LLM-judge criterion on "
                                          "(default evalsets/judge/judge_labels.jsonl)")
    p.add_argument("--concurrency", type=positive_int, default=16, help="model calls in flight (default 16)")
    p.add_argument("--progress", action="store_true", help="show a progress bar on stderr")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import DataError, UsageError
    from ..experiments import RunOptions
    from ..release.gate import GateOptions, run_gate

    if not Path(args.evalset).is_file():
        raise UsageError(f"no eval set at {args.evalset}", hint="give the path of an eval-set JSONL")
    try:
        report = run_gate(args.config, args.evalset, options=GateOptions(
            limit=args.limit, judge_labels=args.judge_labels, run=RunOptions(concurrency=args.concurrency),
            progress=args.progress, allow_stand_in_evidence=args.allow_stand_in_evidence))
    except DataError as e:  # the gate could not run: not the same as "below the thresholds"
        print(f"error [{e.code}]: {e}", file=sys.stderr)
        return 2
    print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) if args.format == "json" else report.to_text())
    return report.exit_code
