import json
import subprocess
import sys

from workbench.cli import main


def run(*args):
    return subprocess.run([sys.executable, "-m", "workbench", *args], capture_output=True, text=True)


def test_version():
    r = run("--version")
    assert r.returncode == 0 and r.stdout.startswith("workbench ")


def test_models_lists_tiers_and_two_local_models(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "small" in out and "local/extractive" in out and "local/keyword" in out and "simulated" in out


def test_models_json(capsys):
    assert main(["models", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    tiers = {r["tier"]: r for r in rows if r["tier"]}
    assert tiers["medium"]["input_per_1m"] > 0 and tiers["medium"]["answers_now"] == "local/extractive"


def test_usage_errors_exit_2():
    assert run("no-such-command").returncode == 2
    assert run().returncode == 2


def test_workbench_error_exits_with_its_code_and_no_traceback(tmp_path):
    bad = tmp_path / "tiers.yaml"
    bad.write_text("tiers: {small: {model: 3, nope: 1}}")
    r = run("models", "--tiers", str(bad))
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and "error [config]" in r.stderr
