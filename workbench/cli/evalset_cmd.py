"""``workbench evalset check PATH``: validate an eval set; print ``{"total", "by_category"}`` as JSON."""
from __future__ import annotations

import argparse
import json


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evalset", help="check eval sets")
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True)
    c = verbs.add_parser("check", help="validate a file; exit 1 naming file, line and field on any error")
    c.add_argument("path")
    c.set_defaults(run=run_check)


def run_check(args: argparse.Namespace) -> int:
    from ..evalsets.evalset import load_evalset

    es = load_evalset(args.path)
    print(json.dumps({"name": es.name, "version": es.version, "total": len(es), "by_category": es.by_category(),
                      "hash": es.hash}))
    return 0
