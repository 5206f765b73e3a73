"""``workbench serve``: a real uvicorn server on a free loopback port, called with httpx."""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any, Self

import httpx
import pytest
from test_queue import fake_factory, free_port, write_config

uvicorn = pytest.importorskip("uvicorn")


class ServerThread:
    """uvicorn in a background thread; ``url`` once it accepts connections."""

    def __init__(self, app: Any):
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Self:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def sse_events(text: str) -> list[tuple[str, Any]]:
    events = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields["event"], json.loads(fields["data"])))
    return events


@pytest.fixture
def server(tmp_path, monkeypatch) -> Iterator[ServerThread]:
    from workbench.runner.http import create_app
    from workbench.runner.source import ConfigSource

    monkeypatch.setattr("workbench.runner.source.build_runner", fake_factory)
    monkeypatch.setenv("WORKBENCH_FAKE_DELAY", "0")
    config = write_config(tmp_path / "c.yaml", name="served")
    with ServerThread(create_app(ConfigSource(path=config))) as s:
        s.config = config
        yield s


def test_run_returns_the_result_line(server):
    r = httpx.post(f"{server.url}/v1/run", json={"id": "q1", "question": "Refund window?"})
    assert r.status_code == 200
    line = r.json()
    assert line["id"] == "q1" and line["status"] == "ok" and line["output"] == "echo: Refund window?"
    assert set(line) == {"id", "status", "output", "variant", "model", "tier", "cost_usd", "cost_basis",
                         "latency_ms", "cache", "error"}


@pytest.mark.parametrize("how", ["body", "accept"])
def test_stream_sends_chunks_then_the_line(server, how):
    question = " ".join(f"word{i}" for i in range(30))
    body: dict[str, Any] = {"id": "s1", "question": question}
    headers = {}
    if how == "body":
        body["stream"] = True
    else:
        headers["Accept"] = "text/event-stream"
    with httpx.stream("POST", f"{server.url}/v1/run", json=body, headers=headers) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        text = r.read().decode()
    events = sse_events(text)
    chunks = [data["text"] for kind, data in events if kind == "chunk"]
    assert len(chunks) > 1 and "".join(chunks) == f"echo: {question}"
    assert events[-1][0] == "result" and events[-1][1]["output"] == f"echo: {question}"
    assert events[-1][1]["id"] == "s1"


@pytest.mark.parametrize("body,code", [(b"{not json", "invalid_json"), (b"[1, 2]", "not_object"),
                                       (b"\xff\xfe", "invalid_json"), (b"", "invalid_json")])
def test_bad_bodies_are_400_json_errors(server, body, code):
    r = httpx.post(f"{server.url}/v1/run", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["code"] == code and err["message"] and "Traceback" not in r.text


def test_unknown_route_and_method_are_json(server):
    r = httpx.get(f"{server.url}/nope")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = httpx.get(f"{server.url}/v1/run")
    assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"


def test_healthz_and_metrics(server):
    from workbench.config.production import load_production_config

    config = load_production_config(server.config)
    r = httpx.get(f"{server.url}/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "name": "served", "config_hash": config.config_hash}
    httpx.post(f"{server.url}/v1/run", json={"id": "m1", "question": "x"})
    r = httpx.get(f"{server.url}/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert "requests_total" in r.text and 'status="ok"' in r.text


def test_a_runner_that_raises_is_a_500_without_traceback(tmp_path):
    from workbench.runner.http import create_app

    class Broken:
        def current(self):
            class R:
                def run(self, inputs):
                    raise RuntimeError("boom")
            return None, R()

    with ServerThread(create_app(Broken())) as s:
        r = httpx.post(f"{s.url}/v1/run", json={"id": "x"})
        assert r.status_code == 500 and r.json()["error"] == {"code": "internal", "message": "RuntimeError: boom"}
        with httpx.stream("POST", f"{s.url}/v1/run", json={"id": "x", "stream": True}) as r:
            events = sse_events(r.read().decode())
        assert events == [("error", {"error": {"code": "internal", "message": "RuntimeError: boom"}})]


def test_no_active_config_is_503(tmp_path):
    from workbench.runner.http import create_app
    from workbench.runner.source import ConfigSource

    with ServerThread(create_app(ConfigSource.from_args(None, str(tmp_path / "store"), None))) as s:
        r = httpx.get(f"{s.url}/healthz")
        assert r.status_code == 503 and "no active config" in r.json()["error"]["message"]


def test_serve_with_the_real_runner(tmp_path, monkeypatch):
    pytest.importorskip("workbench.runner.runner")
    from workbench.runner.http import create_app
    from workbench.runner.source import ConfigSource

    config = write_config(tmp_path / "c.yaml")
    text = "Refunds are available within 30 days of the charge. Contact support to request one."
    with ServerThread(create_app(ConfigSource(path=config, db_url=f"sqlite:///{tmp_path / 'log.db'}"))) as s:
        r = httpx.post(f"{s.url}/v1/run", timeout=60, json={
            "id": "real", "question": "How long do customers have to ask for a refund?",
            "documents": [{"id": "refunds.md", "text": text}]})
        assert r.status_code == 200
        line = r.json()
        assert line["id"] == "real" and line["status"] in ("ok", "degraded") and line["variant"] == "current"
        assert httpx.get(f"{s.url}/metrics").status_code == 200


def test_a_streamed_run_whose_client_hangs_up_still_ends_logged_and_counted(tmp_path):
    """starlette cancels a streaming response when its client goes away; that cut the run short inside the model
    call, with no log row, cache entry or metric (12 of 20 clients that hung up early), though a provider may
    already have been paid. The run now goes on to its end, and the server's shutdown waits for it."""
    import socket

    from workbench.runner.http import create_app
    from workbench.runner.source import ConfigSource
    from workbench.store import LogStore

    config, db = write_config(tmp_path / "c.yaml"), f"sqlite:///{tmp_path / 'log.db'}"
    text = "Refunds are available within 30 days of the charge. Contact support to request one."
    source = ConfigSource(path=config, db_url=db)
    with ServerThread(create_app(source)) as s:
        for i in range(10):
            body = json.dumps({"id": f"gone-{i}", "question": "How long do I have to ask for a refund?",
                               "documents": [{"id": "refunds.md", "text": text}], "stream": True}).encode()
            with socket.create_connection(("127.0.0.1", s.port)) as c:
                c.sendall(b"POST /v1/run HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                          b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            # closed at once: the server sees the client gone before the run reaches the model
        assert httpx.post(f"{s.url}/v1/run", json={"id": "stays", "question": "How long?", "documents": [text]},
                          timeout=60).status_code == 200
    logged = sorted(r["item_id"] for r in LogStore(db).requests())
    assert logged == sorted([f"gone-{i}" for i in range(10)] + ["stays"])
