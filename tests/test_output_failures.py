"""Results survive output failures: `workbench run` writes as it goes and stops with exit 2 on a write failure,
saying how many results are safe and how to resume; unusable stores and workspaces are exit 2 before any work."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ["How long is the refund window?", "When does account credit expire?", "How long do refunds take?",
             "Can I get a refund after 40 days?"]


def inputs(tmp_path: Path) -> Path:
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps({"id": f"q{i}", "question": q}) + "\n" for i, q in enumerate(QUESTIONS)),
                    encoding="utf-8")
    return path


def workbench(tmp_path: Path, *args: str, home: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "WORKBENCH_OFFLINE": "1", "WORKBENCH_HOME": home or str(tmp_path / "home")}
    return subprocess.run([sys.executable, "-m", "workbench", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=300)


def run(tmp_path: Path, out: str, *extra: str, db: str | None = None) -> subprocess.CompletedProcess:
    return workbench(tmp_path, "run", "--config", "configs/pipeline.yaml", "--input", str(inputs(tmp_path)),
                     "--out", out, "--db", db or f"sqlite:///{tmp_path / 'log.db'}", *extra)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_disk_stops_the_run_with_exit_2_saying_how_to_resume(tmp_path):
    r = run(tmp_path, "/dev/full")
    assert r.returncode == 2 and "No space left on device" in r.stderr and "Traceback" not in r.stderr
    assert "0 result(s) are safely in it" in r.stderr and "--resume" in r.stderr
    from workbench.store import LogStore

    answered = LogStore(f"sqlite:///{tmp_path / 'log.db'}").requests()
    assert 1 <= len(answered) < len(QUESTIONS)  # stopped early: not every item answered and paid for unwritten


def test_resume_skips_the_ids_already_written(tmp_path):
    out = tmp_path / "out.jsonl"
    first = run(tmp_path, str(out))
    assert first.returncode == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    out.write_text("\n".join(lines[:2]) + "\n" + lines[2][:25], encoding="utf-8")  # killed mid-line
    again = run(tmp_path, str(out), "--resume")
    assert again.returncode == 0 and "ran 2 lines" in again.stderr, again.stderr
    rows = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]  # the torn line was cut
    assert [r["id"] for r in rows] == ["q0", "q1", "q2", "q3"]


def test_a_bad_db_url_is_exit_2_before_any_work(tmp_path):
    out = tmp_path / "out.jsonl"
    r = run(tmp_path, str(out), db="nosuchdialect://x")
    assert r.returncode == 2 and "log store" in r.stderr and "--db" in r.stderr and "Traceback" not in r.stderr
    assert not out.exists()


def test_an_in_memory_db_is_exit_2_before_any_work(tmp_path):
    """`--db sqlite://` was accepted, then every log row was lost (each connection gets its own memory database:
    "no such table: requests") while the run exited 0."""
    out = tmp_path / "out.jsonl"
    r = run(tmp_path, str(out), db="sqlite://")
    assert r.returncode == 2 and "in-memory log store" in r.stderr and "Traceback" not in r.stderr
    assert "sqlite:////" in r.stderr and not out.exists()  # the hint gives a file URL


def test_an_unusable_workspace_is_exit_2(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    r = workbench(tmp_path, "run", "--config", "configs/pipeline.yaml", "--input", str(inputs(tmp_path)), "--out",
                  str(tmp_path / "o.jsonl"), home=str(blocker / "home"))
    assert r.returncode == 2 and "WORKBENCH_HOME" in r.stderr and "Traceback" not in r.stderr


def test_a_damaged_queue_file_says_how_to_repair_and_loses_nothing(tmp_path):
    pytest.importorskip("huey")
    q = tmp_path / "q"
    queue, db = f"sqlite:///{q / 'huey.db'}", f"sqlite:///{q / 'ledger.db'}"
    args = ("--queue", queue, "--db", db)
    assert workbench(tmp_path, "enqueue", "--config", "configs/pipeline.yaml", "--input", str(inputs(tmp_path)),
                     *args).returncode == 0
    broken = (q / "huey.db").read_bytes()[:3000]
    (q / "huey.db").write_bytes(broken)  # truncated
    for cmd in (["queue", "status"], ["worker", "--config", "configs/pipeline.yaml", "--until-empty"]):
        r = workbench(tmp_path, *cmd, *args)
        assert r.returncode == 2 and "damaged" in r.stderr and "mv " in r.stderr and "Traceback" not in r.stderr
    (q / "huey.db").rename(q / "huey.db.broken")  # the repair the message gives
    r = workbench(tmp_path, "worker", "--config", "configs/pipeline.yaml", "--until-empty", *args)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "export.jsonl"
    assert workbench(tmp_path, "queue", "export", "--out", str(out), *args).returncode == 0
    assert sorted(json.loads(x)["id"] for x in out.read_text(encoding="utf-8").splitlines()) == \
        ["q0", "q1", "q2", "q3"]


def test_sigterm_stops_a_run_as_ctrl_c_does_keeping_every_answer(tmp_path):
    """A scheduler's SIGTERM used to end the run at once: the last moments' result lines (flushed every 0.5 s) and
    log rows (written every 0.2 s) were lost, and a resume paid for those answers again. Now every answer the log
    store holds is in the output file too, the message says how to resume, and the resume completes the file."""
    import signal
    import time

    from workbench.store import LogStore

    src = tmp_path / "many.jsonl"
    src.write_text("".join(json.dumps({"id": f"m{i}", "question": f"How long is the refund window, case {i}?"})
                           + "\n" for i in range(100_000)), encoding="utf-8")
    out, db = tmp_path / "out.jsonl", f"sqlite:///{tmp_path / 'log.db'}"
    args = ["run", "--config", "configs/pipeline.yaml", "--input", str(src), "--out", str(out), "--db", db]
    env = {**os.environ, "WORKBENCH_OFFLINE": "1", "WORKBENCH_HOME": str(tmp_path / "home")}
    proc = subprocess.Popen([sys.executable, "-m", "workbench", *args], env=env, cwd=ROOT, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.monotonic() + 120
    while (not out.exists() or out.stat().st_size < 20_000) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    err = proc.communicate(timeout=60)[1]
    assert proc.returncode == 143 and "Traceback" not in err, err[-1500:]  # 128 + SIGTERM, as a shell reports it
    written = [json.loads(x)["id"] for x in out.read_text(encoding="utf-8").splitlines()]
    assert f"interrupted: {len(written)} result(s) are in" in err and "--resume" in err
    logged = sorted(r["item_id"] for r in LogStore(db).requests())
    assert 0 < len(written) < 100_000 and logged == sorted(written)  # nothing answered is missing from either


def test_the_count_of_results_kept_after_a_failed_write_is_what_the_file_holds(tmp_path):
    """A flush that fails on a full disk may already have written part of its buffer: the message said 97 results
    were safe while the file held 113 complete lines (``--resume`` skips all 113)."""
    from workbench.cli.results_file import ResultsFile
    from workbench.errors import UsageError

    out = tmp_path / "out.jsonl"
    out.write_text('{"id": "old"}\n', encoding="utf-8")
    results = ResultsFile(str(out), resume=True)
    flushes = []

    def flush_then_fail(original=results._flush):
        flushes.append(1)
        if len(flushes) == 1:
            return original()
        results._f.flush()  # the data reached the file, then the disk filled up
        raise OSError(28, "No space left on device")

    results._flush = flush_then_fail
    with pytest.raises(UsageError, match="34 result"):  # the second flush (33 lines in) fails after writing
        for i in range(40):
            results.write({"id": f"q{i}"})
    assert out.read_text(encoding="utf-8").count("\n") == 34  # 1 resumed + 33; only 2 were counted before


def test_serve_with_an_in_memory_db_says_how_to_repair_it(tmp_path):
    """``serve`` refused a store that cannot be opened with a generic "check --db" in place of the store's own
    repair (here: a file URL instead of an in-memory one)."""
    pytest.importorskip("uvicorn")
    r = workbench(tmp_path, "serve", "--config", "configs/pipeline.yaml", "--db", "sqlite://", "--port", "1")
    assert r.returncode == 2 and "in-memory log store" in r.stderr and "sqlite:////" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
