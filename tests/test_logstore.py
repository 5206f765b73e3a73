"""The log store: schema migrations, retention, WAL, redaction, escalations — on SQLite and, when
``WORKBENCH_TEST_POSTGRES_URL`` is set, on Postgres."""
import json
import os
import threading

import pytest
import sqlalchemy as sa

from workbench.errors import LogStoreError
from workbench.evalsets.evalset import Sample
from workbench.store.escalation import (
    candidates,
    escalate,
    export_candidates,
    get_escalation,
    list_escalations,
    resolve,
    to_candidate_sample,
)
from workbench.store.logstore import MIGRATIONS, SCHEMA_VERSION, LogStore, default_db_url, safe_url
from workbench.store.requestlog import RequestLog, WriteBehind
from workbench.store.rows import captured, scrub

DAY = 86400.0
NOW = 1_750_000_000.0


SCHEMA = "wb_logstore_test"


def _schema(url, action):
    """Create or drop a private Postgres schema, so tests never touch other tables of a shared database."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        if action == "create":
            conn.exec_driver_sql(f"CREATE SCHEMA {SCHEMA}")
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'log.sqlite'}"
        return
    url = os.environ.get("WORKBENCH_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("WORKBENCH_TEST_POSTGRES_URL is not set")
    _schema(url, "create")
    yield sa.engine.make_url(url).update_query_dict({"options": f"-csearch_path={SCHEMA}"}).render_as_string(
        hide_password=False)
    _schema(url, "drop")


@pytest.fixture
def store(db_url):
    s = LogStore(db_url, clock=lambda: NOW)
    yield s
    s.close()


def test_fresh_store_is_at_the_current_version(store):
    assert store.version == SCHEMA_VERSION == len(MIGRATIONS) >= 2
    with store.engine.connect() as conn:
        versions = [r[0] for r in conn.execute(sa.text("SELECT version FROM schema_version ORDER BY version"))]
    assert versions == list(range(1, SCHEMA_VERSION + 1))


def test_batched_request_rows_read_back_exactly(store):
    """A batch goes through the driver's own INSERT; every value reads back as given: a status enum as its text, a
    missing flag as False, a missing ``ts`` as the store's clock, None as NULL."""
    from workbench.pipeline.records import Status

    rows = [{"ts": NOW - 5, "item_id": "a", "status": Status.OK, "cost_usd": 0.25, "input_tokens": 12,
             "fallback": 1, "cache": "miss", "raw_input": "é \u2603 text"},
            {"item_id": "b", "status": "failed", "error_code": "timeout", "unknown_key": "ignored"}]
    store.log_requests(rows)
    got = {r["item_id"]: r for r in store.requests()}
    a, b = got["a"], got["b"]
    assert (a["ts"], a["status"], a["cost_usd"], a["input_tokens"], a["cache"], a["raw_input"]) == \
        (NOW - 5, "ok", 0.25, 12, "miss", "é \u2603 text")
    assert (a["fallback"], a["degraded"], b["fallback"]) == (True, False, False)
    assert (b["ts"], b["status"], b["error_code"], b["cost_usd"], b["model"]) == (NOW, "failed", "timeout", None, None)


def test_numpy_numbers_in_a_row_are_written_as_numbers(store):
    """A token count or a cost computed with numpy is a number to the store, not a row lost to a binding error."""
    import numpy as np

    store.log_requests([{"ts": NOW, "item_id": "np", "status": "ok", "input_tokens": np.int64(7),
                         "cost_usd": np.float32(0.5), "latency_ms": np.float64(1.25), "fallback": np.bool_(True)}])
    row = store.requests()[0]
    assert (row["input_tokens"], row["cost_usd"], row["latency_ms"], row["fallback"]) == (7, 0.5, 1.25, True)


def test_upgrade_from_v1_keeps_rows_and_adds_columns(db_url):
    old = LogStore(db_url, schema_version=1, clock=lambda: NOW)
    assert old.version == 1
    with old.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO requests (ts, item_id, status, cache) VALUES (:ts, 'old', 'ok', 'miss')"),
                     {"ts": NOW})
        cols = {c["name"] for c in sa.inspect(conn).get_columns("requests")}
    assert "fallback" not in cols
    old.close()
    new = LogStore(db_url, clock=lambda: NOW)
    assert new.version == SCHEMA_VERSION
    rows = new.requests()
    assert rows[0]["item_id"] == "old" and rows[0]["fallback"] is False and rows[0]["escalated"] is False
    new.log_request({"item_id": "new", "status": "ok", "fallback": True})
    assert [r["fallback"] for r in new.requests()] == [False, True]
    reopened = LogStore(db_url)  # opening again is a no-op
    assert reopened.version == SCHEMA_VERSION and len(reopened.requests()) == 2
    new.close(), reopened.close()


def test_concurrent_opens_migrate_once(db_url):
    errors, stores = [], []

    def open_one():
        try:
            stores.append(LogStore(db_url))
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert errors == [] and {s.version for s in stores} == {SCHEMA_VERSION}
    for s in stores:
        s.close()


def test_retention_purges_old_requests_on_open_and_on_demand(db_url):
    clock = {"now": NOW}
    s = LogStore(db_url, clock=lambda: clock["now"])
    for age in (40, 31, 5, 0):
        s.log_request({"ts": NOW - age * DAY, "item_id": f"age-{age}", "status": "ok"})
    assert s.purge(35) == 1 and len(s.requests()) == 3
    s.close()
    s = LogStore(db_url, retention_days=30, clock=lambda: clock["now"])  # purge on open
    assert [r["item_id"] for r in s.requests()] == ["age-5", "age-0"]
    assert [r["item_id"] for r in s.requests(since=NOW - DAY)] == ["age-0"]
    clock["now"] += 26 * DAY
    assert s.purge() == 1 and len(s.requests(limit=5)) == 1
    s.close()


def test_escalations_round_trip(store, tmp_path):
    eid = escalate(store, item_id=7, reason="invalid_output", inputs={"id": 7, "question": "Call +1 415 555 0100?",
                                                                      "documents": ["Refunds: 30 days."]},
                   output="bad answer, mail bob@example.org")
    row = get_escalation(store, eid)
    assert row["status"] == "open" and row["item_id"] == "7" and "[PHONE]" in row["input"]
    assert "bob@example.org" not in row["output"]
    assert [r["id"] for r in list_escalations(store)] == [eid] and list_escalations(store, "resolved") == []
    resolve(store, eid, "answered", human_answer="30 days")
    other = escalate(store, item_id="x", reason="failed:timeout", inputs={"question": "q"})
    resolve(store, other, "spam")  # no answer: not a candidate
    assert [c["id"] for c in candidates(store)] == [f"escalation-{eid}"]
    sample = Sample(**to_candidate_sample(get_escalation(store, eid)))
    assert sample.expected == ["30 days"] and sample.inputs.documents[0].text == "Refunds: 30 days."
    assert export_candidates(store, tmp_path / "c.jsonl") == 1
    assert json.loads((tmp_path / "c.jsonl").read_text())["tags"] == ["from-escalation"]
    with pytest.raises(Exception, match="no escalation"):
        resolve(store, 9999, "x")


def test_sqlite_uses_wal(tmp_path):
    s = LogStore(f"sqlite:///{tmp_path / 'w.sqlite'}")
    with s.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    s.close()


def test_unwritable_path_is_a_log_store_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(LogStoreError, match="cannot open the log store"):
        LogStore(f"sqlite:///{blocker}/sub/db.sqlite")
    log = RequestLog(f"sqlite:///{blocker}/sub/db.sqlite")
    assert log.write(lambda s: s.log_request({"status": "ok"})) is None and log.errors == 1


def test_secrets_are_scrubbed_even_without_pii_redaction():
    text = "key sk-abcdefghijklmnopqrstuvwx1234 mail ann@example.com"
    assert scrub(text, redact_pii=False) == "key [SECRET] mail ann@example.com"
    assert scrub(text) == "key [SECRET] mail [EMAIL]"


def test_capture_sample_is_deterministic_and_proportional():
    hashes = [f"sha256:{i:064x}" for i in range(2000)]
    picked = [h for h in hashes if captured(h, 0.1)]
    assert picked == [h for h in hashes if captured(h, 0.1)] and 120 < len(picked) < 280
    assert not any(captured(h, 0.0) for h in hashes[:50]) and all(captured(h, 1.0) for h in hashes[:50])


def test_urls_and_passwords_are_not_shown(monkeypatch, tmp_path):
    assert "secret" not in safe_url("postgresql+psycopg://u:secret@db.example/x")
    monkeypatch.setenv("WORKBENCH_DB_URL", f"sqlite:///{tmp_path / 'env.sqlite'}")
    assert default_db_url().endswith("env.sqlite")
    monkeypatch.delenv("WORKBENCH_DB_URL")
    assert default_db_url().startswith("sqlite:///") and default_db_url().endswith("runner/runner.sqlite")


# ---- the runner's write-behind request log ------------------------------------------------------------------
def test_request_log_writes_rows_in_the_background_and_flush_waits(tmp_path):
    url = f"sqlite:///{tmp_path / 'wb.sqlite'}"
    log = RequestLog(url, write_behind=WriteBehind(batch_seconds=5.0, max_batch=1000))
    for i in range(50):
        log.append({"item_id": f"r{i}", "status": "ok"})
    assert log.flush(timeout=10) is True  # flush does not wait for batch_seconds
    rows = LogStore(url).requests()
    assert [r["item_id"] for r in rows] == [f"r{i}" for i in range(50)]
    assert all(r["fallback"] is False and r["ts"] > 0 for r in rows)
    log.close()


def test_request_log_one_bad_row_costs_only_itself(tmp_path):
    url = f"sqlite:///{tmp_path / 'bad.sqlite'}"
    lost = []
    log = RequestLog(url, on_error=lost.append, write_behind=WriteBehind(batch_seconds=0.01))
    log.append({"item_id": "ok-1", "status": "ok"})
    log.append({"item_id": "no-status", "status": None})  # NOT NULL: refused by the database
    log.append({"item_id": "ok-2", "status": "ok"})
    log.flush()
    assert [r["item_id"] for r in log.store.requests()] == ["ok-1", "ok-2"]
    assert log.errors == 1 and lost == [1]
    log.close()


def test_request_log_counts_every_row_lost_to_an_unavailable_store(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    log = RequestLog(f"sqlite:///{blocker}/sub/db.sqlite", write_behind=WriteBehind(batch_seconds=0.01))
    for i in range(3):
        log.append({"item_id": f"r{i}", "status": "ok"})
    log.flush()
    assert log.errors == 3 and capsys.readouterr().err.count("log store error") == 1


def test_request_log_appends_from_many_threads_lose_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'threads.sqlite'}"
    small = WriteBehind(batch_seconds=0.005, max_batch=7, max_pending=40)  # small: batches and back-pressure
    log = RequestLog(url, write_behind=small)

    def worker(k):
        for i in range(100):
            log.append({"item_id": f"{k}-{i}", "status": "ok"})

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    log.close()
    ids = [r["item_id"] for r in LogStore(url).requests()]
    assert sorted(ids) == sorted(f"{k}-{i}" for k in range(4) for i in range(100)) and log.errors == 0


def test_request_log_rows_pending_at_exit_are_written(tmp_path):
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'exit.sqlite'}"
    code = ("from workbench.store.requestlog import RequestLog, WriteBehind\n"
            f"log = RequestLog({url!r}, write_behind=WriteBehind(batch_seconds=60.0))\n"
            "for i in range(20): log.append({'item_id': str(i), 'status': 'ok'})\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    assert len(LogStore(url).requests()) == 20


def test_an_id_of_any_length_is_logged_bounded_and_distinct(store):
    """A 5,000-character id (over HTTP nothing limits it) failed Postgres's VARCHAR(512) and the row was lost;
    SQLite took it whole. Both now keep its start and a hash of the whole, in the column's width."""
    from workbench.store.rows import ID_COLUMN_CHARS, stored_id

    long_a, long_b = "a" * 5000, "a" * 4999 + "b"
    assert stored_id("short") == "short" and stored_id(None) is None
    assert len(stored_id(long_a)) <= ID_COLUMN_CHARS and stored_id(long_a) != stored_id(long_b)
    store.log_requests([{"ts": NOW, "item_id": stored_id(i), "status": "ok"} for i in (long_a, long_b)])
    kept = [r["item_id"] for r in store.requests()]
    assert kept == [stored_id(long_a), stored_id(long_b)] and kept[0].startswith("a" * 400)
    eid = escalate(store, item_id=long_a, reason="failed:timeout", inputs={"question": "q"})
    assert get_escalation(store, eid)["item_id"] == stored_id(long_a)


def test_only_a_sqlite_log_writes_full_batches_on_the_request_thread(tmp_path):
    """A full batch of rows is written by the request that filled it only for a local SQLite file: a server
    database's connect timeout must never hold a request, so there the background thread writes every batch."""
    assert RequestLog(f"sqlite:///{tmp_path / 'log.sqlite'}")._writer.write_full_batches
    assert not RequestLog("postgresql+psycopg://u@127.0.0.1:1/db")._writer.write_full_batches
