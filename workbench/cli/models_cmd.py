"""``workbench models``: tiers, the model that answers each one now, stand-ins and prices per 1M tokens."""
from __future__ import annotations

import argparse
import json


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list tiers, what answers each now and why, stand-ins and prices",
                       description="For each tier: its model, its offline stand-in, what answers now and why (a key "
                                   "found, offline mode, or a missing key), its price per 1M tokens and cost basis.")
    p.add_argument("--tiers", help="tiers file (default: configs/tiers.yaml)")
    p.add_argument("--format", choices=["text", "json"], default="text", help="a table, or JSON rows")
    p.set_defaults(run=run)


def _money(x: float | None) -> str:
    return "unpriced" if x is None else f"${x:,.2f}"


def run(args: argparse.Namespace) -> int:
    from ..models.catalog import describe_models, mode_line

    table = describe_models(args.tiers)
    if args.format == "json":
        print(json.dumps(table, indent=2))
        return 0
    print(mode_line() + "\n")
    print(f"{'tier':<9} {'model':<24} {'stand-in':<18} {'answers now':<24} {'in/1M':>9} {'out/1M':>9}  "
          f"{'basis':<10} why")
    for r in (r for r in table if r["tier"]):
        print(f"{r['tier']:<9} {r['model']:<24} {r['stand_in'] or '-':<18} {r['answers_now']:<24} "
              f"{_money(r['input_per_1m']):>9} {_money(r['output_per_1m']):>9}  {r['cost_basis']:<10} {r['why']}")
    print("\noffline models (heuristics that ship with workbench; deterministic, free):")
    for r in (r for r in table if not r["tier"]):
        print(f"  {r['model']:<20} {r['description']}")
    return 0
