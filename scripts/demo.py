"""The main job: execute every notebook end to end on the offline tier, executed copies under the workspace.

    .venv/bin/python scripts/demo.py [--only 00_model_layer]

Executed notebooks go to ``$WORKBENCH_HOME/notebooks`` (default ``build/notebooks``). Exits non-zero when a
notebook fails, naming the cell.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OFFLINE_ENV = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_OFFLINE_MODE": "true", "RAGAS_DO_NOT_TRACK": "true",
    "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_UPDATE_DOWNLOAD_COUNTS": "0",
    "TRANSFORMERS_OFFLINE": "1", "WORKBENCH_OFFLINE": "1",
}


def execute(notebook: Path, out_dir: Path) -> float:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(notebook, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=1200, kernel_name="python3",
                   resources={"metadata": {"path": str(notebook.parent)}}).execute()
    nbformat.write(nb, out_dir / notebook.name)
    return time.perf_counter() - start


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
    return 0


if __name__ == "__main__":
    sys.exit(main())
