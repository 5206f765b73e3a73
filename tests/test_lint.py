"""The project's ruff config (pyproject.toml) holds for the whole code base: docstrings on the public API,
complexity limits, import order, bugbear and the rest. A finding fails this test with ruff's own report."""
from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PATHS = ["workbench", "tests", "benchmarks", "scripts"]


def _ruff() -> list[str]:
    """The ruff installed with this interpreter (the dev extra), else one on PATH; skip when there is none."""
    if importlib.util.find_spec("ruff") is not None:
        return [sys.executable, "-m", "ruff"]
    found = shutil.which("ruff")
    if found is None:
        pytest.skip("ruff is not installed (it is in the dev extra: pip install -e '.[dev]')")
    return [found]


def test_ruff_check_passes_with_the_project_config():
    cmd = [*_ruff(), "check", "--no-cache", "--output-format", "concise", *PATHS]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, (f"ruff check {' '.join(PATHS)} failed (exit {proc.returncode}); run it from the "
                                  f"repository root for details, --fix for the fixable ones:\n"
                                  f"{proc.stdout}{proc.stderr}")
