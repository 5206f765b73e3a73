"""``workbench escalations list|resolve|export``: the human review queue of the production runner.

    workbench escalations list [--status open|resolved|all] [--format json]
    workbench escalations resolve ID --answer TEXT [--note TEXT]
    workbench escalations export --out candidates.jsonl      # resolved with an answer -> candidate eval samples
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("escalations", help="review what the runner escalated; export candidate eval samples",
                       description=__doc__.splitlines()[0])
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    lst = actions.add_parser("list", help="list escalations")
    lst.add_argument("--status", choices=("open", "resolved", "all"), default="open",
                     help="which escalations (default: open)")
    lst.add_argument("--format", choices=("table", "json"), default="table", help="a table, or JSON rows")
    res = actions.add_parser("resolve", help="resolve one escalation, optionally with the right answer")
    res.add_argument("id", type=int, metavar="ID", help="the escalation's id (from list)")
    res.add_argument("--answer", help="the answer a human gives (becomes a candidate eval sample)")
    res.add_argument("--note", help="what was done (default: 'answered' with --answer)")
    exp = actions.add_parser("export", help="write candidate eval samples (JSONL) from resolved escalations")
    exp.add_argument("--out", required=True, metavar="OUT.jsonl", help="where to write the candidate samples")
    for q in (lst, res, exp):
        q.add_argument("--db", metavar="URL", help="log store URL (default: $WORKBENCH_DB_URL, else the workspace's)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..store import escalation
    from ..store.logstore import LogStore

    store = LogStore(args.db)
    try:
        if args.action == "list":
            return _list(escalation.list_escalations(store, None if args.status == "all" else args.status),
                         args.format)
        if args.action == "resolve":
            return _resolve(store, args)
        n = escalation.export_candidates(store, args.out)
        print(f"exported {n} candidate sample{'s' * (n != 1)} -> {args.out}", file=sys.stderr)
        return 0
    finally:
        store.close()


def _resolve(store: Any, args: argparse.Namespace) -> int:
    from ..errors import UsageError
    from ..store import escalation

    if not args.answer and not args.note:
        raise UsageError("give --answer TEXT and/or --note TEXT", hint="--answer becomes a candidate eval sample")
    row = escalation.resolve(store, args.id, args.note or "answered", human_answer=args.answer)
    print(f"escalation {row['id']} resolved{' with an answer' if args.answer else ''}", file=sys.stderr)
    return 0


def _list(rows: list[dict[str, Any]], fmt: str) -> int:
    if fmt == "json":
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        return 0
    print(f"{'id':>5}  {'status':<9} {'reason':<28} {'item':<20} input")
    for r in rows:
        text = " ".join((r.get("input") or "").split())
        print(f"{r['id']:>5}  {r['status']:<9} {str(r['reason'])[:28]:<28} {str(r['item_id'])[:20]:<20} "
              f"{text[:60]}{'…' if len(text) > 60 else ''}")
    print(f"{len(rows)} escalation{'s' * (len(rows) != 1)}", file=sys.stderr)
    return 0
