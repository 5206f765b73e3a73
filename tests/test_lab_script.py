"""scripts/lab starts JupyterLab on the notebooks, also as root (where jupyter lab alone refuses to start): a real
server on loopback, asked for its status and its notebook list."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(not (ROOT / ".venv" / "bin" / "jupyter").exists() or shutil.which("bash") is None,
                    reason="needs the lab extra in .venv")
def test_lab_script_serves_the_notebooks_as_the_current_user(tmp_path):
    port = free_port()
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg")}
    proc = subprocess.Popen([str(ROOT / "scripts" / "lab"), "--no-browser", "--ip", "127.0.0.1", "--port", str(port),
                             "--ServerApp.token=t"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        deadline, status = time.monotonic() + 60, None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token=t", timeout=2) as r:
                    status = json.loads(r.read())
                break
            except OSError:
                time.sleep(0.5)
        assert status is not None, proc.stdout.read() if proc.poll() is not None else "no answer in 60 s"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents?token=t", timeout=5) as r:
            names = {item["name"] for item in json.loads(r.read())["content"]}
        assert "03_prompt_variants_across_tiers.ipynb" in names  # rooted at notebooks/, whatever the cwd
    finally:
        proc.terminate()
        proc.wait(timeout=20)
