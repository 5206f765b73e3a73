"""run, serve and worker load the model layer at start (Runner.warm_up), so the first request does not wait
seconds for litellm's import (measured before: 6.35 s for the first request through `serve`, 6.3 ms the median)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
import json, statistics, sys, time
from workbench.runner.runner import Runner
r = Runner.from_config("configs/pipeline.yaml", db_url=sys.argv[1])
assert "litellm" not in sys.modules
warm = r.warm_up()
assert "litellm" in sys.modules
times = []
for i in range(11):
    x = {"id": f"q{i}", "question": f"How long do refunds take for order {i}?",
         "documents": [{"id": "d", "text": "Refunds take 30 days from the charge."}]}
    t = time.perf_counter(); result = r.run(x); times.append(time.perf_counter() - t)
    assert result.status == "ok", result
r.close()
print(json.dumps({"warm": warm, "first": times[0], "median": statistics.median(times[1:])}))
"""


def test_the_first_request_does_not_pay_for_loading_the_model_layer(tmp_path):
    env = {**os.environ, "WORKBENCH_OFFLINE": "1", "WORKBENCH_HOME": str(tmp_path / "home")}
    out = subprocess.run([sys.executable, "-c", SCRIPT, f"sqlite:///{tmp_path / 'log.db'}"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    m = json.loads(out.stdout.strip().splitlines()[-1])
    assert m["warm"] > m["first"]  # the loading happened in warm_up, not in the first request
    assert m["first"] < 1.0, m     # measured 0.05-0.1 s; without warm_up ~6 s
