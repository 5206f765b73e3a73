"""The main job: execute every notebook end to end on the offline tier, then run the exported config through the
production runner and the CI gate.

    .venv/bin/python scripts/demo.py [--only 00_model_layer]

Executed notebooks go to ``$WORKBENCH_HOME/notebooks`` (default ``build/notebooks``); notebook 05 exports
``$WORKBENCH_HOME/configs/pipeline.yaml``, which ``workbench run`` then answers 20 eval-set inputs with (output in
``$WORKBENCH_HOME/runner/demo_out.jsonl``) and ``workbench gate`` checks. Exits non-zero when a step fails.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OFFLINE_ENV = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_OFFLINE_MODE": "true", "RAGAS_DO_NOT_TRACK": "true",
    "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_UPDATE_DOWNLOAD_COUNTS": "0",
    "TRANSFORMERS_OFFLINE": "1", "WORKBENCH_OFFLINE": "1",
    "WORKBENCH_PROGRESS": "plain",  # progress bars as text in the executed copies, ending at their final state
}


def execute(notebook: Path, out_dir: Path) -> float:
    """Run one notebook in a fresh kernel (IPC transport: no "running over TCP without encryption" warning),
    showing "cell n of m" as it goes; save the executed copy signed (trusted: JupyterLab renders its widgets)."""
    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient
    from nbformat.sign import NotebookNotary

    nb = nbformat.read(notebook, as_version=4)
    total, done = sum(c.cell_type == "code" for c in nb.cells), 0
    interactive = sys.stderr.isatty()

    def progress(cell: Any, cell_index: int, execute_reply: Any) -> None:
        nonlocal done
        done += 1
        line = f"    {notebook.stem}: cell {done} of {total}"
        if interactive:
            print(f"\r{line}", end="", file=sys.stderr, flush=True)
        elif done == total or done % 10 == 0:
            print(line, file=sys.stderr, flush=True)

    start = time.perf_counter()
    sockets = Path(tempfile.mkdtemp(prefix="wb-kernel-"))  # absolute: the kernel runs in notebooks/, we do not
    km = KernelManager(kernel_name="python3", transport="ipc", ip=str(sockets / "ipc"))
    try:
        NotebookClient(nb, km=km, timeout=1200, kernel_name="python3", store_widget_state=True,
                       on_cell_executed=progress, resources={"metadata": {"path": str(notebook.parent)}}).execute()
    finally:
        if km.has_kernel:
            km.shutdown_kernel(now=False)
        shutil.rmtree(sockets, ignore_errors=True)
    if interactive:
        print(file=sys.stderr)
    NotebookNotary().sign(nb)
    nbformat.write(nb, out_dir / notebook.name)
    return time.perf_counter() - start


def run_exported_config(home: Path) -> int:
    """The exported config through ``workbench run`` (20 eval inputs and one broken line) and ``workbench gate``."""
    config = home / "configs" / "pipeline.yaml"
    if not config.exists():
        print(f"skipped the runner: {config} was not exported (run notebook 05)", file=sys.stderr)
        return 0
    evalset = ROOT / "evalsets" / "northwind_qa.jsonl"
    lines = [json.loads(x) for x in evalset.read_text(encoding="utf-8").splitlines()[:: 12]][:20]
    inputs = home / "runner" / "demo_in.jsonl"
    inputs.parent.mkdir(parents=True, exist_ok=True)
    inputs.write_text("".join(json.dumps({"id": s["id"], **s["inputs"]}) + "\n" for s in lines) + "not json\n",
                      encoding="utf-8")
    out = home / "runner" / "demo_out.jsonl"
    steps = [["run", "--config", str(config), "--input", str(inputs), "--out", str(out)],
             ["gate", "--config", str(config), "--evalset", str(evalset)]]
    for step in steps:
        r = subprocess.run([sys.executable, "-m", "workbench", *step], capture_output=True, text=True, check=False)
        print((r.stdout + r.stderr).strip()[-1500:])
        if r.returncode != 0:
            print(f"FAILED workbench {step[0]} (exit {r.returncode})", file=sys.stderr)
            return 1
    statuses = [json.loads(x)["status"] for x in out.read_text(encoding="utf-8").splitlines()]
    print(f"ok  runner answered {len(statuses)} lines: " +
          ", ".join(f"{s} {statuses.count(s)}" for s in sorted(set(statuses))) + f"  -> {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--only", action="append", help="run only notebooks whose name starts with this")
    opts = args.parse_args(argv)
    for k, v in OFFLINE_ENV.items():
        os.environ.setdefault(k, v)
    os.environ["WORKBENCH_HOME"] = str(Path(os.environ.get("WORKBENCH_HOME") or ROOT / "build").resolve())
    out_dir = Path(os.environ["WORKBENCH_HOME"]) / "notebooks"
    out_dir.mkdir(parents=True, exist_ok=True)
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if opts.only:
        notebooks = [n for n in notebooks if any(n.name.startswith(p) for p in opts.only)]
    for nb in notebooks:
        try:
            seconds = execute(nb, out_dir)
        except Exception as e:  # nbclient's CellExecutionError names the cell and the traceback
            print(f"FAILED {nb.name}: {e}", file=sys.stderr)
            return 1
        print(f"ok  {nb.name:<40} {seconds:6.1f} s  -> {out_dir / nb.name}")
    print(f"{len(notebooks)} notebooks executed; outputs in {out_dir}")
    return 0 if opts.only else run_exported_config(Path(os.environ["WORKBENCH_HOME"]))


if __name__ == "__main__":
    sys.exit(main())
