"""The ``workbench`` command.

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


def command_modules() -> list[str]:
    """The ``*_cmd`` modules of this package, sorted."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name.endswith("_cmd"))


def parser() -> argparse.ArgumentParser:
    """The argument parser with every ``*_cmd`` module's subcommand."""
    from .. import __version__

    p = argparse.ArgumentParser(prog="workbench", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=f"workbench {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name in command_modules():
        importlib.import_module(f".{name}", __name__).add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit code. A ``WorkbenchError`` prints its
    code and message on stderr instead of a traceback."""
    args = parser().parse_args(argv)
    if not getattr(args, "run", None):
        parser().print_help(sys.stderr)
        return 2
    try:
        return int(args.run(args) or 0)
    except WorkbenchError as e:
        print(f"error [{e.code}]: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
