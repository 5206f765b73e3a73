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
