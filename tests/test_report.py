"""`workbench report`: notebook 03 executed with a spec's parameters (papermill), rendered to HTML."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def report(*args):
    return subprocess.run([sys.executable, "-m", "workbench", "report", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=900)


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


def test_malformed_spec_fails_before_a_kernel_starts(tmp_path):
    spec = tmp_path / "bad.yaml"
    spec.write_text("name: bad\nevalset: x.jsonl\nrepeats: many\n")
    r = report(str(spec), "--out", str(tmp_path / "r.html"))
    assert r.returncode == 2 and "repeats" in r.stderr and "Traceback" not in r.stderr
