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


class _Line:
    def __init__(self, line: dict[str, Any]):
        self.line = line

    def to_line(self) -> dict[str, Any]:
        return self.line


class _ThreadRecorder:
    """A runner that answers at once and says which thread it was prepared in (as ``Runner.arun`` does)."""

    def __init__(self) -> None:
        self.threads: list[str] = []

    def current(self) -> tuple[Any, Any]:
        return None, self

    async def arun(self, inputs: dict[str, Any], *, executor: Any = None) -> _Line:
        import asyncio

        name = await asyncio.get_running_loop().run_in_executor(executor, lambda: threading.current_thread().name)
        self.threads.append(name)
        return _Line({"id": inputs.get("id"), "status": "ok"})


def test_large_inputs_are_prepared_in_threads_of_their_own():
    """Eight 7.5 MB inputs at once held every thread of the default pool (6 on two cores): a small request waited
    6 s. Bodies of at least ``LARGE_BODY_BYTES`` now go to the two threads kept for them."""
    from workbench.runner.http import LARGE_BODY_BYTES, create_app

    runner = _ThreadRecorder()
    with ServerThread(create_app(runner)) as s:
        small = httpx.post(f"{s.url}/v1/run", json={"id": "s", "question": "q"})
        large = httpx.post(f"{s.url}/v1/run", json={"id": "l", "question": "q", "pad": "x" * LARGE_BODY_BYTES})
        streamed = httpx.post(f"{s.url}/v1/run", json={"id": "l2", "question": "q", "stream": True,
                                                       "pad": "x" * LARGE_BODY_BYTES})
    assert small.status_code == large.status_code == streamed.status_code == 200
    assert not runner.threads[0].startswith("workbench-large")
    assert runner.threads[1].startswith("workbench-large") and runner.threads[2].startswith("workbench-large")


def _guarded(**limits: Any) -> Any:
    """``Guard`` around an app that reads a POST's body and answers its size (a GET's body it never reads)."""
    from workbench.runner.http_guard import Guard

    async def app(scope: dict, receive: Any, send: Any) -> None:
        size, more = 0, scope["method"] == "POST"
        while more:
            message = await receive()
            size, more = size + len(message.get("body", b"")), message.get("more_body", False)
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": str(size).encode()})

    return Guard(app, **limits)


def _status(sock: Any) -> int:
    return int(sock.recv(4096).split(b"\r\n")[0].split()[1])


def test_a_body_trickled_without_pausing_long_enough_still_gets_a_408():
    """A byte every 5 s never met the 10 s pause timeout: a 10 MB body could take months. The whole body now has a
    deadline too."""
    import socket

    with ServerThread(_guarded(body_timeout=2.0, body_deadline=1.5)) as s, \
            socket.create_connection(("127.0.0.1", s.port), timeout=20) as sock:
        sock.sendall(b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
        start = time.perf_counter()
        sock.settimeout(0.4)
        answer = b""
        while not answer and time.perf_counter() - start < 15:
            try:
                sock.sendall(b"x")
                answer = sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                break
        assert b" 408 " in answer.split(b"\r\n")[0] and b"not all sent within" in answer
        assert time.perf_counter() - start < 6


def test_the_bodies_held_by_all_requests_together_are_bounded():
    """Forty clients trickling 10 MB bodies held 400 MB: each one was under the cap. While the bodies held would pass
    ``max_buffered``, a new one gets a 503 with ``Retry-After``; once they are answered there is room again."""
    import socket

    with ServerThread(_guarded(max_body=1000, max_buffered=1500)) as s, \
            socket.create_connection(("127.0.0.1", s.port), timeout=20) as slow:
        slow.sendall(b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + b"a" * 900)
        time.sleep(0.3)
        refused = httpx.post(f"{s.url}/x", content=b"b" * 1000)
        assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
        assert refused.json()["error"]["code"] == "busy" and refused.headers["x-request-id"]
        slow.sendall(b"a" * 100)
        assert _status(slow) == 200
    with ServerThread(_guarded(max_body=1000, max_buffered=1500)) as s:
        for _ in range(3):  # what each request held is given back
            assert httpx.post(f"{s.url}/x", content=b"c" * 1000).text == "1000"


def test_a_request_that_announces_a_body_it_may_not_have_is_answered_and_closed():
    """``GET /healthz`` with a ``Content-Length`` and a body sent a byte at a time was never timed out: the body is
    never read, uvicorn's keep-alive timer stops at the first byte, and 1,100 such connections starved the server."""
    import socket

    with ServerThread(_guarded()) as s, socket.create_connection(("127.0.0.1", s.port), timeout=20) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\nx")
        sock.settimeout(5)
        data = b""
        while chunk := sock.recv(4096):  # b"" once the server closes; TimeoutError (a failure) if it never does
            data += chunk
        assert data.startswith(b"HTTP/1.1 200") and b"connection: close" in data.lower()
        plain = httpx.get(f"{s.url}/healthz")  # without a body: kept alive as before
        assert plain.status_code == 200 and plain.headers.get("connection") != "close"
