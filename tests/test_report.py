"""`workbench report`: notebook 03 executed with a spec's parameters (papermill), rendered to HTML."""
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = "notebooks/03_prompt_variants_across_tiers.ipynb"


def report(*args, cwd=ROOT, env=None):
    return subprocess.run([sys.executable, "-m", "workbench", "report", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=900)


def test_report_renders_tables_and_plots(tmp_path):
    spec = tmp_path / "small.yaml"
    spec.write_text(f"name: small-report\nevalset: {ROOT / 'evalsets/northwind_qa.jsonl'}\nlimit: 24\n"
                    "base: {prompt: grounded_qa, version: 2, tier: medium}\ngrid: {tier: [small, medium, large]}\n")
    out = tmp_path / "report.html"
    r = report(str(spec), "--out", str(out), "--run-dir", str(tmp_path / "run"))
    assert r.returncode == 0, r.stderr[-2000:]
    html = out.read_text()
    assert "grounded_qa@v2 · small" in html and "<img" in html and "McNemar" in html
    assert (tmp_path / "run" / "records.jsonl").exists()
    # offline: no widget JavaScript from a CDN; the failure browser is a static snapshot of what it showed
    assert [cdn for cdn in ("jsdelivr", "unpkg", "html-manager", "embed-amd", "widget-view+json") if cdn in html] == []
    assert re.findall(r"<script[^>]+src=[^>]*>", html) == []  # one self-contained file: no script from anywhere
    assert "cells did not pass" in html and "Static snapshot of the widget" in html and "VBox(children=" not in html


def test_malformed_spec_fails_before_a_kernel_starts(tmp_path):
    spec = tmp_path / "bad.yaml"
    spec.write_text("name: bad\nevalset: x.jsonl\nrepeats: many\n")
    r = report(str(spec), "--out", str(tmp_path / "r.html"))
    assert r.returncode == 2 and "repeats" in r.stderr and "Traceback" not in r.stderr


def test_report_on_a_finished_run_makes_no_model_calls_whatever_the_current_folder(tmp_path):
    """The workspace is the project root's build/, also from notebooks/ and inside the report's kernel: a report on
    a run the CLI finished reads its records and calls no model (with real keys it would otherwise pay twice)."""
    project = tmp_path / "proj"
    (project / "notebooks").mkdir(parents=True)
    (project / "pyproject.toml").write_text('[project]\nname = "p"\n\n[tool.workbench]\nworkspace = "build"\n')
    for shared in ("prompts", "configs", "corpus", "evalsets"):
        (project / shared).symlink_to(ROOT / shared)
    spec = project / "small.yaml"
    spec.write_text(f"name: finished\nevalset: {ROOT / 'evalsets/northwind_qa.jsonl'}\nlimit: 12\n"
                    "base: {prompt: grounded_qa, version: 2, tier: medium}\ngrid: {tier: [small, medium]}\n")
    env = {k: v for k, v in os.environ.items() if k != "WORKBENCH_HOME"}
    first = subprocess.run([sys.executable, "-m", "workbench", "experiment", str(spec)], capture_output=True,
                           text=True, cwd=project, env=env, timeout=900)
    assert first.returncode == 0 and "model calls: 24" in first.stdout + first.stderr, first.stderr[-2000:]
    runs = list((project / "build" / "runs").iterdir())
    assert len(runs) == 1 and runs[0].name.startswith("finished-")
    out = tmp_path / "report.html"
    r = report(str(spec), "--out", str(out), "--notebook", str(ROOT / NOTEBOOK), cwd=project / "notebooks", env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    html = out.read_text()
    assert "0 cells computed, 24 already done" in html and "model calls: 0" in html
    assert not (project / "notebooks" / "build").exists() and list((project / "build" / "runs").iterdir()) == runs
