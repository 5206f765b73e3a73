"""``workbench serve`` defends itself: body cap while reading, read timeouts, deep JSON, bearer tokens, request ids,
and no public bind without a token. A real server in a subprocess (the CLI), called over real sockets."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from test_queue import free_port, wait_for, write_config

pytest.importorskip("uvicorn")
ROOT = Path(__file__).resolve().parent.parent
QUESTION = {"id": "q1", "question": "How long is the refund window?",
            "documents": [{"id": "r", "text": "Refunds are available within 30 days of the charge."}]}


class Served:
    def __init__(self, tmp_path: Path, *args: str, env: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = write_config(tmp_path / "c.yaml")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "workbench", "serve", "--config", str(config), "--port", str(self.port),
             "--db", f"sqlite:///{tmp_path / 'log.db'}", "--log-level", "warning", *args],
            env={**os.environ, "WORKBENCH_OFFLINE": "1", "WORKBENCH_HOME": str(tmp_path / "home"), **(env or {})},
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

        def up() -> bool:
            try:
                return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        assert wait_for(up, timeout=60), self.proc.stderr.read() if self.proc.poll() is not None else "no server"

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(10)


@pytest.fixture
def served(tmp_path):
    s = Served(tmp_path)
    yield s
    s.stop()


def test_every_response_carries_a_request_id(served):
    ok = httpx.post(f"{served.url}/v1/run", json=QUESTION, timeout=30)
    mine = httpx.post(f"{served.url}/v1/run", json=QUESTION, headers={"X-Request-Id": "trace-42"}, timeout=30)
    bad = httpx.post(f"{served.url}/v1/run", content=b"{not json", timeout=30)
    missing = httpx.get(f"{served.url}/nope", timeout=30)
    assert ok.status_code == 200 and len(ok.headers["x-request-id"]) == 32
    assert mine.headers["x-request-id"] == "trace-42"
    assert bad.status_code == 400 and bad.headers["x-request-id"] and missing.headers["x-request-id"]
    hostile = httpx.post(f"{served.url}/v1/run", json=QUESTION, headers={"X-Request-Id": "x" * 500}, timeout=30)
    assert len(hostile.headers["x-request-id"]) == 32  # a header that is not a short token is replaced


def test_an_oversized_body_is_refused_from_its_length_and_while_streaming_without_buffering(served):
    before = served.rss_mb()
    with socket.create_connection(("127.0.0.1", served.port), timeout=30) as sock:  # announces 400 MB, sends 1 byte
        sock.sendall(b"POST /v1/run HTTP/1.1\r\nHost: x\r\nContent-Length: 419430400\r\n\r\nx")
        assert b" 413 " in sock.recv(4096).split(b"\r\n")[0]

    def stream():  # 400 MB announced by nothing: chunked
        block = b" " * (1024 * 1024)
        for _ in range(400):
            yield block

    start = time.perf_counter()
    try:
        r = httpx.post(f"{served.url}/v1/run", content=stream(), timeout=60)
        status = r.status_code
    except httpx.HTTPError:  # the server answered 413 and closed while we were still sending
        status = 413
    assert status == 413 and time.perf_counter() - start < 30
    assert served.rss_mb() - before < 60, (before, served.rss_mb())  # never the whole body in memory
    assert httpx.post(f"{served.url}/v1/run", json=QUESTION, timeout=30).status_code == 200


def test_deep_json_is_a_400_or_a_coded_rejection_never_a_500(served):
    for depth in (5_000, 100_000):
        r = httpx.post(f"{served.url}/v1/run", content=b"[" * depth + b"]" * depth, timeout=30)
        assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_json"
    body = '{"id": "d", "question": "q", "x": ' + "[" * 100 + "]" * 100 + "}"
    r = httpx.post(f"{served.url}/v1/run", content=body.encode(), timeout=30)
    assert r.status_code == 200 and r.json()["error"]["code"] == "too_deep"
    r = httpx.post(f"{served.url}/v1/run", content=b'{"id": "\\ud800", "question": "q"}', timeout=30)
    assert r.status_code == 200 and r.json()["error"]["code"] == "invalid_unicode" and r.json()["id"] == "\\ud800"


def test_a_client_that_sends_headers_slowly_is_disconnected(served, monkeypatch):
    with socket.create_connection(("127.0.0.1", served.port), timeout=30) as sock:
        sock.sendall(b"POST /v1/run HTTP/1.1\r\nHost: x\r\n")  # never finishes its headers
        start = time.perf_counter()
        sock.settimeout(30)
        data = sock.recv(1024)  # b"" when the server closes
        assert data == b"" and 5 < time.perf_counter() - start < 25


def test_a_client_that_stops_sending_its_body_gets_a_408(served):
    with socket.create_connection(("127.0.0.1", served.port), timeout=30) as sock:
        sock.sendall(b"POST /v1/run HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 1000\r\n\r\n{\"id\": ")
        sock.settimeout(30)
        start = time.perf_counter()
        data = sock.recv(4096)
        assert b" 408 " in data.split(b"\r\n")[0] and time.perf_counter() - start < 25


def test_a_token_is_required_when_set(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("s3cret-token-of-24-chars\n", encoding="utf-8")
    s = Served(tmp_path, "--token-file", str(token_file))
    try:
        assert httpx.post(f"{s.url}/v1/run", json=QUESTION, timeout=30).status_code == 401
        wrong = httpx.post(f"{s.url}/v1/run", json=QUESTION, headers={"Authorization": "Bearer nope"}, timeout=30)
        assert wrong.status_code == 401 and wrong.headers["www-authenticate"].startswith("Bearer")
        good = httpx.post(f"{s.url}/v1/run", json=QUESTION, headers={"Authorization": "Bearer s3cret-token-of-24-chars"},
                          timeout=30)
        assert good.status_code == 200 and good.json()["status"] == "ok"
        assert httpx.get(f"{s.url}/metrics", timeout=30).status_code == 401
        assert httpx.get(f"{s.url}/healthz", timeout=30).status_code == 200  # liveness probes need no token
    finally:
        s.stop()


def test_a_public_bind_without_a_token_is_refused(tmp_path):
    config = write_config(tmp_path / "c.yaml")
    env = {k: v for k, v in os.environ.items() if k != "WORKBENCH_API_TOKEN"}
    r = subprocess.run([sys.executable, "-m", "workbench", "serve", "--config", str(config), "--host", "0.0.0.0",
                        "--port", str(free_port())], capture_output=True, text=True, cwd=ROOT, timeout=60,
                       env={**env, "WORKBENCH_OFFLINE": "1", "WORKBENCH_HOME": str(tmp_path / "home")})
    assert r.returncode == 2 and "without authentication" in r.stderr and "WORKBENCH_API_TOKEN" in r.stderr
    assert json.dumps(r.stderr) and "Traceback" not in r.stderr


def test_a_short_or_empty_token_is_refused_before_serving(tmp_path, monkeypatch):
    """A 5-character token was accepted on a public interface, where it can be guessed (and the models spent on)."""
    import pytest

    from workbench.errors import UsageError
    from workbench.runner.http_guard import MIN_TOKEN_CHARS, resolve_token

    short, empty, good = tmp_path / "short", tmp_path / "empty", tmp_path / "good"
    short.write_text("short\n", encoding="utf-8")
    empty.write_text("\n", encoding="utf-8")
    good.write_text("x" * MIN_TOKEN_CHARS + "\n", encoding="utf-8")
    with pytest.raises(UsageError, match="5 characters: too short"):
        resolve_token(str(short))
    with pytest.raises(UsageError, match="is empty"):
        resolve_token(str(empty))
    assert resolve_token(str(good)) == "x" * MIN_TOKEN_CHARS
    monkeypatch.setenv("WORKBENCH_API_TOKEN", "abc")
    with pytest.raises(UsageError, match="WORKBENCH_API_TOKEN has 3 characters"):
        resolve_token()
    monkeypatch.delenv("WORKBENCH_API_TOKEN")
    assert resolve_token() is None


def test_ids_are_checked_as_workbench_run_checks_them_before_anything_runs(served):
    """An id of ``NaN`` was run and logged, then its answer could not be written: a 500 after the model was paid
    (and a retrying client paid again). ``NaN``/``Infinity`` are not JSON; an id that is there but not usable is
    refused as ``workbench run`` refuses its line; an input without an id is still run (over HTTP the id is
    optional)."""
    for constant in (b"NaN", b"Infinity", b"-Infinity"):
        r = httpx.post(f"{served.url}/v1/run", content=b'{"id": ' + constant + b', "question": "q"}', timeout=30)
        assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_json", r.text
    for bad in (1.5, True, "", "x" * 501, [1]):
        r = httpx.post(f"{served.url}/v1/run", json={**QUESTION, "id": bad}, timeout=30)
        line = r.json()
        assert r.status_code == 200 and line["status"] == "rejected" and line["error"]["code"] == "missing_id", line
        assert line["model"] is None
    r = httpx.post(f"{served.url}/v1/run", json={**QUESTION, "id": 1.5, "stream": True}, timeout=30)
    assert r.headers["content-type"].startswith("text/event-stream")  # asked for a stream: one ``result`` event
    event, data = r.text.strip().split("\n")
    assert event == "event: result" and json.loads(data.removeprefix("data: "))["error"]["code"] == "missing_id"
    r = httpx.post(f"{served.url}/v1/run", json={k: v for k, v in QUESTION.items() if k != "id"}, timeout=30)
    assert r.status_code == 200 and r.json()["status"] == "ok"


def _raw_exchange(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(4096):
            data += chunk
        return data


def test_requests_that_are_not_http_get_the_api_error_shape_and_a_request_id(served):
    """uvicorn answers bytes that are not an HTTP request itself, with plain text and no request id; and a WebSocket
    upgrade got its 403 the same way."""
    for request in (b"GARBAGE\r\n\r\n", b"POST /v1/run HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
                    b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"):
        data = _raw_exchange(served.port, request)
        head, _, body = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400") and b"x-request-id: " in head.lower(), data
        assert json.loads(body)["error"]["code"] == "bad_request"
    upgrade = (b"GET /v1/run HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
               b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
    with socket.create_connection(("127.0.0.1", served.port), timeout=30) as sock:
        sock.sendall(upgrade)
        head = sock.recv(4096).split(b"\r\n\r\n")[0]
    assert head.startswith(b"HTTP/1.1 405") and b"x-request-id: " in head.lower(), head


def test_tokens_no_client_could_send_are_refused_and_a_file_gives_its_first_line(tmp_path, monkeypatch):
    """A token file with a comment on its second line kept the newline in the token, a token of spaces or with a
    non-ASCII letter was taken: each started a server that answered every request 401."""
    from workbench.errors import UsageError
    from workbench.runner.http_guard import resolve_token

    two_lines = tmp_path / "two"
    two_lines.write_text("first-line-token-0123456789\n# made on Monday\n", encoding="utf-8")
    assert resolve_token(str(two_lines)) == "first-line-token-0123456789"
    monkeypatch.setenv("WORKBENCH_API_TOKEN", "  padded-token-0123456789  ")
    assert resolve_token() == "padded-token-0123456789"
    for bad in ("café-token-0123456789", "two words token 0123456789", "tab\there-token-0123456789"):
        monkeypatch.setenv("WORKBENCH_API_TOKEN", bad)
        with pytest.raises(UsageError, match="printable ASCII"):
            resolve_token()
    monkeypatch.setenv("WORKBENCH_API_TOKEN", " " * 20)  # blank is unset: a public bind is then refused
    assert resolve_token() is None
