"""``workbench models``: tiers, the model that answers each one now, stand-ins and prices per 1M tokens."""
from __future__ import annotations

import argparse
import json


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list tiers, models, offline stand-ins and prices")
    p.add_argument("--tiers", help="tiers file (default: configs/tiers.yaml)")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(run=run)


def rows(tiers_path: str | None = None) -> list[dict]:
    """One row per tier, then one per offline model."""
    from ..models.heuristics import OFFLINE_MODELS
    from ..models.pricing import price_for
    from ..models.tiers import load_tiers, route
    from ..errors import MissingKeyError

    out = []
    for t in load_tiers(tiers_path).tiers.values():
        try:
            r = route(t.model, t.stand_in)
            answers, basis = r.call, {"key": "provider", "stand-in": "simulated", "local": "offline"}[r.reason]
        except MissingKeyError:
            answers, basis = "(no key, no stand-in)", "-"
        price = price_for(t.model) if not t.model.startswith("local/") else None
        per_1m = price.per_million() if price else (None, None)
        out.append({"tier": t.name, "model": t.model, "stand_in": t.stand_in, "answers_now": answers,
                    "cost_basis": basis, "input_per_1m": per_1m[0], "output_per_1m": per_1m[1],
                    "priced": price is not None or t.model.startswith("local/"), "description": t.description})
    for name, desc in OFFLINE_MODELS.items():
        out.append({"tier": None, "model": f"local/{name}", "stand_in": None, "answers_now": f"local/{name}",
                    "cost_basis": "offline", "input_per_1m": 0.0, "output_per_1m": 0.0, "priced": True,
                    "description": desc})
    return out


def _money(x: float | None) -> str:
    return "unpriced" if x is None else f"${x:,.2f}"


def run(args: argparse.Namespace) -> int:
    table = rows(args.tiers)
    if args.format == "json":
        print(json.dumps(table, indent=2))
        return 0
    print(f"{'tier':<9} {'model':<24} {'stand-in':<18} {'answers now':<18} {'in/1M':>9} {'out/1M':>9}  basis")
    for r in (r for r in table if r["tier"]):
        print(f"{r['tier']:<9} {r['model']:<24} {r['stand_in'] or '-':<18} {r['answers_now']:<18} "
              f"{_money(r['input_per_1m']):>9} {_money(r['output_per_1m']):>9}  {r['cost_basis']}")
    print("\noffline models (heuristics that ship with workbench; deterministic, free):")
    for r in (r for r in table if not r["tier"]):
        print(f"  {r['model']:<20} {r['description']}")
    return 0
