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

STATUSES = ("ok", "degraded", "escalated", "rejected", "failed")
_BOM = b"\xef\xbb\xbf"


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


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _valid_id(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, str) and value.strip() != "")


def parse_line(raw: bytes, line_no: int) -> tuple[dict[str, Any] | None, dict[str, str] | None]:
    """``(object, None)`` for a usable line, else ``(object_or_None, {"code", "message"})``."""
    raw = raw[:-1] if raw.endswith(b"\r") else raw
    raw = raw[len(_BOM):] if line_no == 1 and raw.startswith(_BOM) else raw
    if not raw.strip():
        return None, {"code": "invalid_json", "message": f"line {line_no} is blank, not a JSON object"}
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return None, {"code": "invalid_utf8", "message": f"line {line_no} is not valid UTF-8 (byte {e.start})"}
    try:
        obj = json.loads(text, parse_constant=_no_constants)
    except (ValueError, RecursionError) as e:
        reason = "nested too deeply" if isinstance(e, RecursionError) else str(e).split(":")[0]
        return None, {"code": "invalid_json", "message": f"line {line_no} is not valid JSON ({reason})"}
    if not isinstance(obj, dict):
        return None, {"code": "not_object", "message": f"line {line_no} is a JSON {type(obj).__name__}, "
                                                       "not an object"}
    if not _valid_id(obj.get("id")):
        return obj, {"code": "missing_id", "message": f"line {line_no} has no usable 'id' "
                                                      "(a non-empty string or an integer)"}
    return obj, None


def _open(path: str, mode: str) -> Any:
    from ..errors import UsageError

    if path == "-":
        return (sys.stdin.buffer if "r" in mode else sys.stdout)
    try:
        return open(path, mode, **({} if "b" in mode else {"encoding": "utf-8", "newline": "\n"}))
    except OSError as e:
        raise UsageError(f"cannot {'read' if 'r' in mode else 'write'} {path}: {e.strerror}") from e


def run(args: argparse.Namespace) -> int:
    from ..runner.runner import Runner

    runner = Runner.from_config(args.config, db_url=args.db)  # a bad or tampered config: exit 2
    counts: Counter[str] = Counter()
    cost = 0.0
    src, out = _open(args.input, "rb"), _open(args.out, "w")
    try:
        for n, raw in enumerate(src, 1):
            obj, problem = parse_line(raw[:-1] if raw.endswith(b"\n") else raw, n)
            result = runner.run(obj) if problem is None else runner.reject(None, problem["code"], problem["message"])
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
    total = sum(counts.values())
    parts = ", ".join(f"{counts[s]} {s}" for s in STATUSES)
    note = f"; {log_errors} log store error(s): the results are complete, the log is not" if log_errors else ""
    print(f"ran {total} line{'s' * (total != 1)}: {parts}; cost ${cost:.6f} -> {out}{note}", file=sys.stderr)
