"""One capture policy for every store that holds request text: plant secrets and personal data in an input's id,
its object keys, its question and its documents, run it through `workbench run` and through the queue, then search
every byte of every store (log store, response and semantic caches, queue ledger and broker) for them."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SECRETS = ["sk-proj-PLANTED0123456789abcdef", "jane.planted@example.com", "hunter2-Planted", "+33612345678",
           "FR7630006000011234567890189"]
DOC = ("Refunds are available within 30 days of the charge. Support contact: jane.planted@example.com, phone "
       "+33612345678. Internal note: password: hunter2-Planted")


def planted(i: int) -> dict:
    return {"id": f"jane.planted@example.com-{i}",
            "question": f"My key is sk-proj-PLANTED0123456789abcdef and IBAN FR7630006000011234567890189: how long "
                        f"is the refund window? ({i})",
            "documents": [{"id": "refunds.md", "text": DOC}],
            "meta": {"jane.planted@example.com": "object keys are text too"}}


def workbench(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "WORKBENCH_OFFLINE": "1", "WORKBENCH_HOME": str(tmp_path / "home")}
    return subprocess.run([sys.executable, "-m", "workbench", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=300)


def every_byte(folder: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_no_store_keeps_a_planted_secret(tmp_path):
    pytest.importorskip("huey")
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(planted(i)) + "\n" for i in range(3)), encoding="utf-8")
    stores = tmp_path / "stores"
    db, queue = f"sqlite:///{stores / 'log.db'}", f"sqlite:///{stores / 'q' / 'huey.db'}"
    stores.mkdir()
    r = workbench(tmp_path, "run", "--config", "configs/pipeline.yaml", "--input", str(src), "--out",
                  str(tmp_path / "out.jsonl"), "--db", db)
    assert r.returncode == 0, r.stderr
    for args in (["enqueue", "--config", "configs/pipeline.yaml", "--input", str(src)],
                 ["worker", "--config", "configs/pipeline.yaml", "--until-empty"]):
        r = workbench(tmp_path, *args, "--queue", queue, "--db", db)
        assert r.returncode == 0, r.stderr
    files = {**every_byte(stores), **every_byte(tmp_path / "home")}
    assert any(p.name == "responses.sqlite" for p in files) and any(p.name == "huey.db" for p in files)
    # the one exception, by design: the queue ledger returns results by id, so a done item keeps its id (as its key
    # and in its result line) until `workbench purge`; its input is kept redacted
    ids = [f"jane.planted@example.com-{i}".encode() for i in range(3)]
    leaks = {(p.name, s) for p, data in files.items() for s in SECRETS if s.encode() in _without(data, ids)}
    assert not leaks, leaks
    r = workbench(tmp_path, "purge", "--older-than-days", "0", "--db", db, "--queue", queue)
    assert r.returncode == 0 and "3 finished queue items" in r.stderr, r.stderr
    files = {**every_byte(stores), **every_byte(tmp_path / "home")}
    assert not {p.name for p, data in files.items() if b"jane.planted" in data}  # after the retention: nothing


def _without(data: bytes, ids: list[bytes]) -> bytes:
    for ident in ids:
        data = data.replace(ident, b"")
    return data
