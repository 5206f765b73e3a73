"""Every command and option of `workbench` says what it does, and the top-level help shows the flow."""
from __future__ import annotations

import argparse
import subprocess
import sys

from workbench.cli import parser


def walk(p: argparse.ArgumentParser, path: tuple[str, ...] = ("workbench",)):
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, command in action.choices.items():
                yield path + (name,), "command", helps.get(name), command.description
                yield from walk(command, path + (name,))
        elif not isinstance(action, argparse._HelpAction | argparse._VersionAction):
            yield path, action.option_strings or action.dest, action.help, None


def test_every_command_and_option_has_help():
    items = list(walk(parser()))
    assert len(items) > 100
    missing = [(path, what) for path, what, help_, _ in items if not help_]
    undescribed = [path for path, what, _, description in items if what == "command" and not description]
    assert missing == [] and undescribed == []


def test_top_level_help_shows_the_flow():
    out = subprocess.run([sys.executable, "-m", "workbench", "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    text = " ".join(out.stdout.split())
    for step in ("build an eval set", "compare chunking, prompts and tiers", "export one config", "gate",
                 "run it", "monitor it"):
        assert step in text, step
    assert text.index("eval set") < text.index("export") < text.index("monitor")


IMPOSSIBLE = [  # (arguments, what the error names); each used to hang, crash with a traceback or be taken
    (["gate", "--config", "c.yaml", "--evalset", "e.jsonl", "--concurrency", "0"], "at least 1"),  # hung
    (["worker", "--concurrency", "-2"], "at least 1"),
    (["worker", "--lease-seconds", "0"], "above 0"),  # a lease of 0 s: any worker may take a leased item
    (["worker", "--max-items", "0"], "at least 1"),
    (["serve", "--port", "99999"], "not a port"),  # OverflowError traceback
    (["experiment", "s.yaml", "--timeout", "nan"], "above 0"),
    (["purge", "--older-than-days", "inf"], "number of days"),
    (["purge", "--older-than-days", "-1"], "number of days"),
]


def test_impossible_numbers_are_refused_when_the_arguments_are_read(capsys):
    import pytest

    for args, says in IMPOSSIBLE:
        with pytest.raises(SystemExit) as stop:
            parser().parse_args(args)
        assert stop.value.code == 2 and says in capsys.readouterr().err, args
    ok = parser().parse_args(["serve", "--port", "0"])
    assert ok.port == 0


def test_a_since_older_than_the_epoch_means_everything():
    """``--since 999999999d`` ended ``workbench monitor`` in ``ValueError: year -2735881 is out of range``."""
    from workbench.monitoring.logdata import iso, parse_since

    assert parse_since("999999999d", now=1_800_000_000.0) == 0.0
    assert parse_since("1800-01-01T00:00:00Z", now=1_800_000_000.0) == 0.0
    assert iso(parse_since("999999999d", now=1_800_000_000.0)) == "1970-01-01T00:00:00Z"
    assert parse_since("1h", now=7200.0) == 3600.0
