"""``workbench monitor --db URL --config C [--baseline EVALSET] [--since 7d] [--format json|text]``: the monitoring
report over the log store — operations, sampled quality, drift, costs, A/B — and its alerts.

Exit 0 no alert, 1 an alert fired (stored in the ``alerts`` table, logged, POSTed to ``--webhook`` /
``$WORKBENCH_WEBHOOK_URL``), 2 the report cannot be made (unreadable store or config, bad ``--since``).
"""
from __future__ import annotations

import argparse
import json
import logging
import sys


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("monitor", help="monitoring report over the log store; exit 1 when an alert fires",
                       description="Operations, sampled quality, drift, cost anomalies and A/B over a window of the "
                                   "runner's log store. Exit 0 no alert, 1 an alert fired, 2 error.")
    p.add_argument("--db", help="log store URL (default $WORKBENCH_DB_URL, else the workspace SQLite file)")
    p.add_argument("--config", required=True, help="the exported pipeline config the runner runs")
    p.add_argument("--baseline", help="eval set JSONL to compare inputs with (default: the window before --since)")
    p.add_argument("--since", default="24h", help="window start: 30m, 1h, 7d, 2w or ISO-8601 (default 24h)")
    p.add_argument("--format", choices=["text", "json"], default="text",
                   help="the report as text, or as JSON on stdout (keys in docs/monitoring.md)")
    p.add_argument("--webhook", help="POST the alerts as JSON here (default $WORKBENCH_WEBHOOK_URL)")
    p.add_argument("--candidates", help="write candidate eval samples (drifted inputs, resolved escalations) "
                                        "to this JSONL")
    p.add_argument("--no-store-alerts", action="store_true",
                   help="store nothing: no alerts in the alerts table, and the A/B makes a one-off look instead "
                        "of continuing its stored sequential experiment")
    p.add_argument("--judge", nargs="?", const="judge", metavar="TIER",
                   help="also score the captured outputs with the LLM judge of this tier (default tier: judge)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..errors import UsageError
    from ..monitoring.candidates import export_candidates
    from ..monitoring.report import AlertDelivery, Window, monitor
    from ..store.logstore import default_db_url

    if args.baseline and not Path(args.baseline).is_file():
        raise UsageError(f"no eval set at {args.baseline}", hint="give the path of an eval-set JSONL")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("workbench monitor: %(message)s"))
    logger = logging.getLogger("workbench.monitoring")
    logger.addHandler(handler)
    try:
        extra = None
        if args.judge:
            from ..monitoring.quality import judge_scorer

            extra = {"judge": judge_scorer(args.judge)}
        delivery = AlertDelivery(store=not args.no_store_alerts, webhook=args.webhook)
        report = monitor(args.db or default_db_url(), args.config, baseline=args.baseline,
                         window=Window(since=args.since), delivery=delivery, extra_scorers=extra)
    finally:
        logger.removeHandler(handler)
    if args.candidates:
        export_candidates(report.candidates, args.candidates)
    print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False, default=str) if args.format == "json"
          else report.to_text())
    return report.exit_code
