"""``workbench run --config C --input IN.jsonl --out OUT.jsonl [--db URL]``: the production runner over a batch.

One output line per input line, in order, each with exactly the keys of ``RunnerResult.to_line()``. A line that is
not strict UTF-8, not JSON, not an object or has no usable ``id`` is a ``rejected`` line and the batch goes on.
"""
from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
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
    p.add_argument("--resume", action="store_true",
                   help="append to OUT.jsonl and skip the inputs whose id is already in it (after a failed write)")
    add_evidence_flag(p)
    p.set_defaults(run=run)


def add_evidence_flag(p: argparse.ArgumentParser) -> None:
    """``--allow-stand-in-evidence``, shared by the commands that run an exported config."""
    p.add_argument("--allow-stand-in-evidence", action="store_true",
                   help="let real models answer a config whose thresholds were measured on offline stand-ins "
                        "(refused otherwise; the override is said on stderr and kept in the log store)")


@dataclass
class Tally:
    """What a batch did: statuses, what was paid and saved, unpriced answers, who answered."""

    statuses: Counter[str] = field(default_factory=Counter)
    models: Counter[str] = field(default_factory=Counter)
    bases: Counter[str] = field(default_factory=Counter)
    cost: float = 0.0
    saved: float = 0.0
    unpriced: int = 0

    def add(self, result: Any) -> None:
        """Count one ``RunnerResult``."""
        self.statuses[result.status] += 1
        self.models[result.answered_by or "(no model)"] += 1
        if result.cost_basis:
            self.bases[result.cost_basis] += 1
        if result.cost_usd is None:
            self.unpriced += 1
        else:
            self.cost += result.cost_usd
        self.saved += result.saved_usd or 0.0


def _input(path: str) -> Any:
    from ..errors import UsageError

    if path == "-":
        return sys.stdin.buffer
    try:
        return open(path, "rb")  # noqa: SIM115 - closed in run()
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror}") from e


def run(args: argparse.Namespace) -> int:
    with _stop_between_lines() as stop:
        return _run(args, stop)


def _run(args: argparse.Namespace, stop: _Stop) -> int:
    from ..inputs.jsonl import read_lines
    from ..runner.runner import Runner
    from .outputs import refuse_an_input_as_output
    from .results_file import ResultsFile

    refuse_an_input_as_output(args.out, [args.input])
    # a bad or tampered config, missing credentials, stand-in evidence, an unusable --db: exit 2 before any line
    runner = Runner.from_config(args.config, db_url=args.db, allow_stand_in_evidence=args.allow_stand_in_evidence)
    tally = Tally()
    try:
        runner.check_log_store()
        runner.warm_up()
        src = _input(args.input)
        out = ResultsFile(args.out, resume=args.resume)
        try:
            for line in read_lines(src):
                if out.skip(line.shown_id, None if line.problem is None else line.problem.code):
                    continue
                with stop.line():  # a signal meanwhile stops the run after this line, not inside it
                    result = runner.run(line.obj) if line.problem is None else runner.reject(line.shown_id,
                                                                                              **line.error())
                    out.write(result.to_line())
                    tally.add(result)
        except KeyboardInterrupt:  # Ctrl-C: the results so far are kept (flushed and fsynced); say how to go on
            out.close()
            if args.out != "-":
                print(f"interrupted: {out.safe + out.resumed} result(s) are in {args.out}; run the same command "
                      "with --resume to answer the rest", file=sys.stderr)
            raise
        finally:
            if src is not sys.stdin.buffer:
                src.close()
            out.close()
    finally:
        runner.close()
    _summary(tally, runner.log_errors, args.out)
    return 0


class Stopped(KeyboardInterrupt):
    """A stop asked for by a signal: the command exits ``128 + signum`` (130 after Ctrl-C, 143 after SIGTERM, as a
    shell reports a process the signal ended), so a scheduler can tell its own stop from a user's."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@dataclass
class _Stop:
    """When a signal stops the run. While a line is being answered, SIGTERM and Ctrl-C only ask for a stop, taken
    once the line is answered, logged and written: an interrupt inside it could leave a result logged but not
    written, or a background writer's lock held (a SIGTERM test hung 60 s in CI). Between lines (reading the input,
    perhaps waiting on stdin) and at a second Ctrl-C, the stop is immediate."""

    busy: bool = False
    requested: int = 0
    """The signal that asked for a stop (0: none)."""

    @contextlib.contextmanager
    def line(self) -> Iterator[None]:
        self.busy = True
        try:
            yield
        finally:
            self.busy = False
        if self.requested:
            raise Stopped(self.requested)

    def signalled(self, signum: int, _frame: Any) -> None:
        if not self.busy or (self.requested and signum == signal.SIGINT):
            raise Stopped(signum)
        self.requested = signum
        print("stopping after the current line (Ctrl-C again to stop at once)", file=sys.stderr)


@contextlib.contextmanager
def _stop_between_lines() -> Iterator[_Stop]:
    """SIGTERM (a scheduler stopping the job) stops the run as Ctrl-C does, and both wait for the line in progress
    (``_Stop``): the results so far written and fsynced, the pending log rows and cache entries written, the resume
    hint said. By default SIGTERM would end the process at once, losing the last moments' lines, rows and cache
    entries (a resume would pay for those answers again)."""
    stop = _Stop()
    if threading.current_thread() is not threading.main_thread():  # signals can only be set from the main thread
        yield stop
        return
    previous = {sig: signal.signal(sig, stop.signalled) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _summary(tally: Tally, log_errors: int, out: str) -> None:
    from ..pipeline import Status

    total = sum(tally.statuses.values())
    parts = ", ".join(f"{tally.statuses[s]} {s}" for s in Status)
    print(f"ran {total} line{'s' * (total != 1)}: {parts} -> {out}", file=sys.stderr)
    unpriced = f" + {tally.unpriced} answer(s) unpriced (no known price: not counted as $0)" if tally.unpriced else ""
    bases = ", ".join(f"{b} {n}" for b, n in sorted(tally.bases.items()))
    print(f"cost ${tally.cost:.6f}{unpriced}; saved by caches ${tally.saved:.6f}; cost basis: {bases or 'none'}",
          file=sys.stderr)
    print("answered by: " + ", ".join(f"{m} {n}" for m, n in tally.models.most_common()), file=sys.stderr)
    if log_errors:
        print(f"{log_errors} log store error(s): the results are complete, the log is not", file=sys.stderr)
