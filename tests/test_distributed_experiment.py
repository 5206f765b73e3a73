"""`workbench experiment SPEC --queue URL`: cells spread over queue workers, collected into the run folder."""
import subprocess
import sys
import time
from pathlib import Path

from workbench.evalsets.evalset import EvalSet
from workbench.experiments import ExperimentResults
from workbench.runner.queue import WorkQueue

ROOT = Path(__file__).resolve().parent.parent
DOC = "# Refunds\n\nRefunds are available within 30 days of the charge.\n"


def test_cells_run_on_workers_exactly_once(tmp_path):
    rows = [{"id": f"s{i}", "inputs": {"question": "How many days after a charge can I get a refund?",
                                         "documents": [{"id": "r.md", "text": DOC}]},
             "expected": ["30 days"], "criteria": [{"scorer": "contains_any"}]} for i in range(10)]
    EvalSet.from_records(rows, name="tiny").save(tmp_path / "tiny.jsonl")
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"name: tiny\nevalset: {tmp_path / 'tiny.jsonl'}\nbase: {{version: 2}}\n"
                    "grid: {tier: [small, medium]}\n")
    queue, out = f"sqlite:///{tmp_path / 'q' / 'huey.db'}", tmp_path / "out"
    cmd = [sys.executable, "-m", "workbench"]
    submit = subprocess.Popen([*cmd, "experiment", str(spec), "--queue", queue, "--out", str(out), "--timeout",
                               "240", "--no-progress"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and submit.poll() is None:  # workers start once the cells are queued
        ledger = tmp_path / "q" / "ledger.db"
        if ledger.exists():
            queue_obj = WorkQueue(queue)
            pending = queue_obj.ledger.counts()["pending"]
            queue_obj.close()
            if pending == 20:
                break
        time.sleep(0.5)
    workers = [subprocess.Popen([*cmd, "worker", "--config", str(ROOT / "configs/pipeline.yaml"), "--queue", queue,
                                 "--until-empty"],
                                stderr=(tmp_path / f"worker{i}.log").open("w"), text=True)
               for i in range(2)]
    stdout, stderr = submit.communicate(timeout=300)
    for w in workers:
        w.wait(timeout=120)
    logs = "".join((tmp_path / f"worker{i}.log").read_text()[-1500:] for i in range(2))
    assert submit.returncode == 0, stderr[-2000:] + logs
    assert "model calls:" in stdout, stdout + logs
    records = ExperimentResults(out).records
    assert len(records) == 20 and len({(r.variant, r.sample_id) for r in records}) == 20
    again = subprocess.run([*cmd, "experiment", str(spec), "--queue", queue, "--out", str(out), "--timeout", "5",
                            "--no-progress"], capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "model calls: 0" in again.stdout
