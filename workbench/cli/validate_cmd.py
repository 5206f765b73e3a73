"""``workbench validate IN.jsonl --out OUT.jsonl [--policy P.yaml]``: one result line per input line, in order."""
from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterator
from typing import IO


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="validate, normalise and classify a JSONL file of inputs (step ①)",
                       description="Check every line of IN.jsonl (an object with an 'id') under an input policy; "
                                   "write one result per line, in order, also for blank or broken lines.")
    p.add_argument("input", metavar="IN.jsonl", help="JSON Lines file of objects with an 'id'")
    p.add_argument("--policy", metavar="P.yaml", help="input policy YAML (default: InputPolicy defaults)")
    p.add_argument("--out", metavar="OUT.jsonl", required=True, help="where to write the results ('-' = stdout)")
    p.set_defaults(run=run)


@contextlib.contextmanager
def _open_out(path: str) -> Iterator[IO[str]]:
    from ..errors import UsageError

    if path == "-":
        yield sys.stdout
        return
    try:
        f = open(path, "w", encoding="utf-8", newline="\n")  # noqa: SIM115 (closed below; error translated)
    except OSError as e:
        raise UsageError(f"cannot write {path}: {e.strerror}") from e
    with f:
        yield f


def run(args: argparse.Namespace) -> int:
    from ..errors import UsageError
    from ..inputs.jsonl import check_line, split_lines
    from ..inputs.policy import InputPolicy
    from .outputs import refuse_an_input_as_output

    refuse_an_input_as_output(args.out, [args.input])
    policy = InputPolicy.from_yaml(args.policy) if args.policy else InputPolicy()
    try:
        src = open(args.input, "rb")  # noqa: SIM115 (closed below; error translated)
    except OSError as e:
        raise UsageError(f"cannot read input file {args.input}: {e.strerror}") from e
    counts = {"accepted": 0, "flagged": 0, "rejected": 0}
    with src, _open_out(args.out) as out:
        for n, raw in split_lines(src):
            row = check_line(raw, n, policy)
            counts[row["status"]] += 1
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    total = sum(counts.values())
    print(f"validated {total} line{'s' * (total != 1)}: {counts['accepted']} accepted, {counts['flagged']} flagged, "
          f"{counts['rejected']} rejected -> {args.out}", file=sys.stderr)
    return 0
