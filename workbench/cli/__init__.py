"""The workbench command: an LLM pipeline from eval set to production.

The flow: build an eval set (evalset import/check) -> compare chunking, prompts and tiers (chunk, prompt,
experiment, report) -> export one config (notebook 05) and gate it (gate) -> run it (run, validate, serve,
enqueue/worker/queue, rollout) -> monitor it (monitor, escalations, purge). `workbench COMMAND --help` for each;
`workbench models` says what answers each tier now.

Each subcommand is a small module ``<name>_cmd.py`` in this package with ``add_parser(subparsers)`` and
``run(args) -> int``; they are found by name, and import their heavy dependencies inside ``run`` so
``workbench --help`` stays fast.

Exit codes everywhere: 0 success, 1 a check failed (gate, alert, invalid input file), 2 usage or environment
error. A ``WorkbenchError`` prints its message and hint on stderr, never a traceback.
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from ..errors import WorkbenchError

OFFLINE_HELP = ("offline mode: the heuristic stand-ins (local/*) answer for every tier, no keys and no network "
                "(the same as WORKBENCH_OFFLINE=1)")


def command_modules() -> list[str]:
    """The ``*_cmd`` modules of this package, sorted."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name.endswith("_cmd"))


def parser() -> argparse.ArgumentParser:
    """The argument parser with every ``*_cmd`` module's subcommand."""
    from .. import __version__

    p = argparse.ArgumentParser(prog="workbench", description="\n\n".join(__doc__.split("\n\n")[:2]),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"workbench {__version__}")
    p.add_argument("--offline", dest="offline_first", action="store_true", help=OFFLINE_HELP)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name in command_modules():
        importlib.import_module(f".{name}", __name__).add_parser(sub)
    for command in sub.choices.values():  # `--offline` works before or after any command
        command.add_argument("--offline", action="store_true", help=OFFLINE_HELP)
    _describe(sub)
    return p


def _describe(sub: argparse._SubParsersAction) -> None:
    """A (sub)command without its own description shows its one-line help at the top of its --help."""
    helps = {a.dest: a.help for a in sub._choices_actions}
    for name, command in sub.choices.items():
        if not command.description:
            command.description = helps.get(name)
        for action in command._actions:
            if isinstance(action, argparse._SubParsersAction):
                _describe(action)


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit code. A ``WorkbenchError`` prints its
    code and message on stderr instead of a traceback."""
    args = parser().parse_args(argv)
    if getattr(args, "offline", False) or getattr(args, "offline_first", False):
        from ..models.credentials import set_offline

        set_offline(True)
    if not getattr(args, "run", None):
        parser().print_help(sys.stderr)
        return 2
    try:
        return int(args.run(args) or 0)
    except WorkbenchError as e:
        print(f"error [{e.code}]: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt as e:  # Ctrl-C, or a signal a command turned into a stop (``run_cmd.Stopped``)
        print("interrupted", file=sys.stderr)
        return 128 + getattr(e, "signum", 2)  # 130 after Ctrl-C (SIGINT), 143 after SIGTERM
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
