"""``workbench run --config C --input IN.jsonl --out OUT.jsonl [--db URL]``: the production runner over a batch.

One output line per input line, in order, each with exactly the keys of ``RunnerResult.to_line()``. A line that is
not strict UTF-8, not JSON, not an object or has no usable ``id`` is a ``rejected`` line and the batch goes on.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from typing import Any


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run an exported pipeline config over a JSONL file of inputs (step ⑧)",
                       description="Run every line of IN.jsonl (an object with an 'id' and the pipeline's input "
                                   "fields) through the production runner; write one result line per input line.")
    p.add_argument("--config", required=True, metavar="C.yaml", help="exported pipeline config (hash-checked)")
    p.add_argument("--input", required=True, metavar="IN.jsonl", help="JSON Lines of inputs ('-' = stdin)")
    p.add_argument("--out", required=True, metavar="OUT.jsonl", help="where to write the results ('-' = stdout)")
    p.add_argument("--db", metavar="URL", help="log store URL (default: $WORKBENCH_DB_URL, else SQLite in the "
                                               "workspace)")
    p.set_defaults(run=run)


def _open(path: str, mode: str) -> Any:
    from ..errors import UsageError

    if path == "-":
        return (sys.stdin.buffer if "r" in mode else sys.stdout)
    try:
        return open(path, mode, **({} if "b" in mode else {"encoding": "utf-8", "newline": "\n"}))
    except OSError as e:
        raise UsageError(f"cannot {'read' if 'r' in mode else 'write'} {path}: {e.strerror}") from e


def run(args: argparse.Namespace) -> int:
    from ..inputs.jsonl import read_lines
    from ..runner.runner import Runner

    runner = Runner.from_config(args.config, db_url=args.db)  # a bad or tampered config: exit 2
    counts: Counter[str] = Counter()
    cost = 0.0
    src, out = _open(args.input, "rb"), _open(args.out, "w")
    try:
        for line in read_lines(src):
            result = runner.run(line.obj) if line.problem is None else runner.reject(None, **line.error())
            out.write(json.dumps(result.to_line(), ensure_ascii=False) + "\n")
            counts[result.status] += 1
            cost += result.cost_usd or 0.0
    finally:
        for f in (src, out):
            if f not in (sys.stdin.buffer, sys.stdout):
                f.close()
        runner.close()
    _summary(counts, cost, runner.log_errors, args.out)
    return 0


def _summary(counts: Counter[str], cost: float, log_errors: int, out: str) -> None:
    from ..pipeline import Status

    total = sum(counts.values())
    parts = ", ".join(f"{counts[s]} {s}" for s in Status)
    note = f"; {log_errors} log store error(s): the results are complete, the log is not" if log_errors else ""
    print(f"ran {total} line{'s' * (total != 1)}: {parts}; cost ${cost:.6f} -> {out}{note}", file=sys.stderr)
