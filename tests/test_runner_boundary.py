"""The runner is core-only: importing it, building a Runner and running one input imports nothing from the
notebook side (pandas, matplotlib, ipywidgets, datasets, ragas). Checked in a fresh interpreter."""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

FORBIDDEN = ("pandas", "matplotlib", "ipywidgets", "datasets", "ragas")

SCRIPT = textwrap.dedent("""
    import json, sys
    import workbench.config as wc
    import workbench.runner as wr
    config = wc.ProductionConfig(
        name="boundary", variants={"a": wc.PipelineConfig.build("grounded_qa", version=2, tier="medium")},
        split=wc.TrafficSplit(weights={"a": 1.0}),
        evidence=wc.Evidence(experiment="t", evalset_name="x", evalset_hash="sha256:0", variant="a")).with_hash()
    runner = wr.Runner.from_config(config, db_url=sys.argv[1], cache_path=sys.argv[2])
    line = runner.run({"id": "b1", "question": "How long is the refund window?",
                       "documents": [{"id": "d", "text": "Refunds are available within 30 days of the charge."}]}
                      ).to_line()
    runner.render_metrics()
    loaded = sorted({m.split(".")[0] for m in sys.modules} & set(FORBIDDEN))
    print(json.dumps({"status": line["status"], "loaded": loaded}))
""").replace("FORBIDDEN", repr(FORBIDDEN))


def test_runner_imports_no_notebook_dependency(tmp_path):
    out = subprocess.run([sys.executable, "-c", SCRIPT, f"sqlite:///{tmp_path / 'b.sqlite'}", str(tmp_path / "c")],
                         capture_output=True, text=True, timeout=300, check=False, env=dict(os.environ), cwd=os.getcwd())
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report == {"status": "ok", "loaded": []}


def test_no_environment_variable_imports_code_into_the_production_path(tmp_path, monkeypatch):
    """``WORKBENCH_RUNNER_FACTORY`` once let the environment pick a module to import as the runner: gone."""
    from test_queue import write_config

    from workbench.config import load_production_config
    from workbench.runner import Runner
    from workbench.runner.source import build_runner

    planted = tmp_path / "evil.py"
    planted.write_text("raise SystemExit('imported')\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("WORKBENCH_RUNNER_FACTORY", "evil:factory")
    config = load_production_config(write_config(tmp_path / "c.yaml"))
    runner = build_runner(config, db_url=f"sqlite:///{tmp_path / 'log.db'}")
    assert isinstance(runner, Runner)
    runner.close()
    src = (Path(__file__).resolve().parent.parent / "workbench").rglob("*.py")
    assert not [p for p in src if "RUNNER_FACTORY" in p.read_text(encoding="utf-8")]
