"""A fault-injecting, OpenAI-compatible HTTP server for tests and benchmarks (loopback only, stdlib only).

It answers ``POST /v1/chat/completions`` (streaming too), ``POST /v1/embeddings``, ``GET /v1/models`` and
``GET /healthz`` deterministically, after an optional latency, and injects faults at given rates: 429 (with a
``Retry-After`` header), 500, a hang of ``timeout_s`` seconds, and a malformed (truncated JSON) body.

Point litellm at it::

    from workbench.testing import FaultServer
    import litellm

    with FaultServer(latency_ms=50, rate_500=0.1, seed=1) as server:
        r = litellm.completion(model="openai/fake", api_base=server.base_url, api_key="sk-fake",
                               messages=[{"role": "user", "content": "hi"}], max_retries=0, num_retries=0)
        server.configure(rate_500=0.0)       # faults can change while it runs
        print(server.stats)                  # {"requests": 1, "ok": 1, "429": 0, ...}

Through litellm the faults surface as: 429 -> ``litellm.RateLimitError`` (the header is in
``e.response.headers["retry-after"]`` and ``e.litellm_response_headers``); 500 ->
``litellm.InternalServerError``; hang -> ``litellm.Timeout`` (when the call's ``timeout`` is shorter than
``timeout_s``); malformed -> ``litellm.InternalServerError`` with status_code 500 (a ``json.JSONDecodeError``
in its ``__context__`` chain tells it from a real 500), and on ``stream=True`` an empty reply, no error.
``tests/test_fault_server.py`` pins this mapping (litellm 1.110).

Fault draws: one ``random.Random(seed)`` draw per POST request, under a lock, checked in order 429, 500,
timeout, malformed against cumulative rates, so each rate is honoured on its own (their sum must be <= 1).
Latency (plus uniform jitter) applies to every POST answer, faults included. ``stats`` counts POST requests.

CLI (serves until Ctrl-C)::

    python -m workbench.testing.fault_server --port 8765 --latency-ms 50 --rate-500 0.1
"""
from __future__ import annotations

import argparse
import base64
import contextlib
import dataclasses
import hashlib
import json
import random
import signal
import socket
import struct
import threading
import time
from collections.abc import Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
STAT_KEYS = ("requests", "ok", "429", "500", "timeout", "malformed")
EMBEDDING_DIMS = 8
CHAT_PATHS = frozenset({"/v1/chat/completions", "/chat/completions"})
EMBEDDING_PATHS = frozenset({"/v1/embeddings", "/embeddings"})


@dataclasses.dataclass(frozen=True)
class FaultConfig:
    """What the server does to each request; replaced as a whole by ``FaultServer.configure``."""

    latency_ms: float = 0.0
    """Base delay before every POST answer."""
    jitter_ms: float = 0.0
    """Extra uniform delay in ``[0, jitter_ms]``."""
    rate_429: float = 0.0
    """Share of requests answered 429 rate-limited."""
    rate_500: float = 0.0
    """Share of requests answered 500 server error."""
    rate_timeout: float = 0.0
    """Share of requests that hang ``timeout_s`` seconds before answering."""
    rate_malformed: float = 0.0
    """Share of requests answered 200 with a truncated JSON body."""
    retry_after: float | None = 0.05
    """Seconds sent in the ``Retry-After`` header of a 429; ``None`` sends no header."""
    timeout_s: float = 30.0
    """How long a timeout fault hangs (it wakes early when the server stops)."""

    def validate(self) -> FaultConfig:
        """Return self, or raise ``ValueError`` for a negative value or rates summing above 1."""
        rates = (self.rate_429, self.rate_500, self.rate_timeout, self.rate_malformed)
        if any(r < 0 for r in rates) or sum(rates) > 1.0 + 1e-9:
            raise ValueError(f"fault rates must be >= 0 and sum to <= 1, got {rates}")
        if min(self.latency_ms, self.jitter_ms, self.timeout_s) < 0:
            raise ValueError("latency_ms, jitter_ms and timeout_s must be >= 0")
        return self

    def pick_fault(self, u: float) -> str:
        """Map one uniform draw to ``"429"``, ``"500"``, ``"timeout"``, ``"malformed"`` or ``"ok"``."""
        edge = 0.0
        for name, rate in (("429", self.rate_429), ("500", self.rate_500),
                           ("timeout", self.rate_timeout), ("malformed", self.rate_malformed)):
            edge += rate
            if u < edge:
                return name
        return "ok"


class FaultServer:
    """An OpenAI-compatible server on loopback that injects faults; see the module docstring."""

    def __init__(self, latency_ms: float = 0, jitter_ms: float = 0, rate_429: float = 0, rate_500: float = 0,
                 rate_timeout: float = 0, rate_malformed: float = 0, retry_after: float | None = 0.05,
                 timeout_s: float = 30.0, seed: int = 0, host: str = "127.0.0.1", port: int = 0) -> None:
        if host not in LOOPBACK_HOSTS:
            raise ValueError(f"FaultServer serves loopback only (127.0.0.1, localhost, ::1), not {host!r}")
        self._config = FaultConfig(latency_ms, jitter_ms, rate_429, rate_500, rate_timeout, rate_malformed,
                                   retry_after, timeout_s).validate()
        self._host, self._port = host, port
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._stats = dict.fromkeys(STAT_KEYS, 0)
        self._connections: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------------
    def start(self) -> Self:
        """Bind and serve in a background thread; returns self."""
        if self._httpd is not None:
            return self
        self._stopping.clear()
        self._httpd = _HTTPServer((self._host, self._port), _Handler, owner=self)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"FaultServer:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake hanging requests and close open connections; quick even with a pending hang."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=2.0)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- properties and controls -----------------------------------------------------------------------
    @property
    def port(self) -> int:
        """The bound port (the one asked for before ``start``)."""
        return self._httpd.server_address[1] if self._httpd is not None else self._port

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT/v1``, the ``api_base`` to give litellm or openai."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}/v1"

    @property
    def config(self) -> FaultConfig:
        """The current fault settings."""
        with self._lock:
            return self._config

    @property
    def stats(self) -> dict[str, int]:
        """A copy of the counters: requests, ok, 429, 500, timeout, malformed."""
        with self._lock:
            return dict(self._stats)

    def reset_stats(self) -> None:
        """Zero the counters."""
        with self._lock:
            self._stats = dict.fromkeys(STAT_KEYS, 0)

    def configure(self, **changes: Any) -> FaultConfig:
        """Change fault settings while running, e.g. ``configure(rate_500=0.3, latency_ms=0)``."""
        with self._lock:
            self._config = dataclasses.replace(self._config, **changes).validate()
            return self._config

    # -- used by the handler ---------------------------------------------------------------------------
    def _draw(self) -> tuple[str, float, FaultConfig]:
        """Draw this request's fault and delay (seconds), count it, and return them with the settings."""
        with self._lock:
            cfg = self._config
            fault = cfg.pick_fault(self._rng.random())
            jitter = self._rng.uniform(0.0, cfg.jitter_ms) if cfg.jitter_ms else 0.0
            self._stats["requests"] += 1
            self._stats[fault] += 1
        return fault, (cfg.latency_ms + jitter) / 1000.0, cfg

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            (self._connections.add if add else self._connections.discard)(conn)


class _HTTPServer(ThreadingHTTPServer):
    """Threaded, keep-alive friendly server that knows its ``FaultServer``."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 128
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type, owner: FaultServer) -> None:
        self.owner = owner
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet: clients that hang up (timeouts, stop) are expected here."""


class _Headers(dict[str, str]):
    """Request headers, keys lower-cased; ``get`` is case-insensitive like the stdlib's ``HTTPMessage``."""

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(key.lower(), default)


class _Handler(BaseHTTPRequestHandler):
    """Routes requests; the answer bodies are built by the module's pure functions."""

    protocol_version = "HTTP/1.1"
    wbufsize = -1  # buffer headers and body into one send; flushed after each request / SSE event
    server: _HTTPServer

    def parse_request(self) -> bool:
        """A lean replacement of the stdlib's (which runs the slow ``email`` parser on every request)."""
        self.requestline = self.raw_requestline.decode("iso-8859-1").rstrip("\r\n")
        words = self.requestline.split()
        if len(words) != 3 or not words[2].startswith("HTTP/1."):
            self.close_connection = True
            self.send_error(400, f"Bad request line {self.requestline!r}")
            return False
        self.command, self.path, self.request_version = words
        self.headers = _Headers()
        while (line := self.rfile.readline(65537)) not in (b"\r\n", b"\n", b""):
            key, _, value = line.decode("iso-8859-1").partition(":")
            self.headers[key.strip().lower()] = value.strip()
        conn = self.headers.get("connection", "").lower()
        self.close_connection = conn == "close" or (words[2] == "HTTP/1.0" and conn != "keep-alive")
        if self.headers.get("expect", "").lower() == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.wfile.flush()
        return True

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.owner._track(self.connection, add=True)

    def finish(self) -> None:
        self.server.owner._track(self.connection, add=False)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request log."""

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/healthz":
            self._send_json(200, {"status": "ok"})
        elif path in ("/v1/models", "/models"):
            self._send_json(200, {"object": "list", "data": [
                {"id": "fake", "object": "model", "created": 0, "owned_by": "fault-server"}]})
        else:
            self._send_json(404, error_body(f"no route GET {path}", "invalid_request_error", "not_found"))

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0]
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        if path not in CHAT_PATHS and path not in EMBEDDING_PATHS:
            self._send_json(404, error_body(f"no route POST {path}", "invalid_request_error", "not_found"))
            return
        try:
            request = json.loads(raw or b"{}")
        except ValueError:
            self._send_json(400, error_body("request body is not JSON", "invalid_request_error", None))
            return
        fault, delay, cfg = self.server.owner._draw()
        if not self._wait(delay + (cfg.timeout_s if fault == "timeout" else 0.0)):
            self.close_connection = True
            return
        if fault in ("429", "500", "malformed"):
            self._send_fault(fault, cfg)
        elif path in EMBEDDING_PATHS:
            self._send_json(200, embeddings_body(request))
        elif request.get("stream"):
            self._send_stream(request)
        else:
            self._send_json(200, chat_body(request))

    # -- helpers -----------------------------------------------------------------------------------
    def _wait(self, seconds: float) -> bool:
        """Sleep, waking early when the server stops; False when it stopped."""
        stopping = self.server.owner._stopping
        if seconds > 0:
            stopping.wait(seconds)
        return not stopping.is_set()

    def _send_fault(self, fault: str, cfg: FaultConfig) -> None:
        if fault == "429":
            headers = {} if cfg.retry_after is None else {"Retry-After": f"{cfg.retry_after:g}"}
            body = error_body("Rate limit reached (injected by FaultServer)", "rate_limit_error",
                              "rate_limit_exceeded")
            self._send_json(429, body, headers)
        elif fault == "500":
            self._send_json(500, error_body("Internal server error (injected by FaultServer)",
                                            "server_error", None))
        else:
            self._send_bytes(200, malformed_bytes(), "application/json")

    def _send_json(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        self._send_bytes(status, json.dumps(body).encode(), "application/json", headers)

    def _send_bytes(self, status: int, data: bytes, content_type: str,
                    headers: dict[str, str] | None = None) -> None:
        head = {"Content-Type": content_type, "Content-Length": str(len(data)), **(headers or {})}
        self.wfile.write(response_head(status, head) + data)

    def _send_stream(self, request: dict[str, Any]) -> None:
        """Server-sent events, one HTTP chunk per event, so the connection stays keep-alive."""
        self.wfile.write(response_head(200, {"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
                                             "Transfer-Encoding": "chunked"}))
        for event in stream_events(request):
            data = f"data: {event}\n\n".encode()
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")


# -- pure answer builders ---------------------------------------------------------------------------------
def response_head(status: int, headers: dict[str, str]) -> bytes:
    """The status line and headers of an HTTP/1.1 response, blank line included."""
    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}", "Server: workbench-fault-server"]
    lines += [f"{key}: {value}" for key, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("iso-8859-1")


def error_body(message: str, type_: str, code: str | None) -> dict[str, Any]:
    """An OpenAI-style error body."""
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}


def malformed_bytes() -> bytes:
    """A chat.completion body cut off mid-way: valid start, invalid JSON."""
    full = json.dumps({"id": "chatcmpl-malformed", "object": "chat.completion", "created": 0,
                       "model": "fake", "choices": [{"index": 0, "message": {
                           "role": "assistant", "content": "this reply was cut off"}}]})
    return full[: len(full) // 2].encode()


def text_of(content: Any) -> str:
    """The text of a message ``content``: a string, or the text parts of a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def approx_tokens(text: str) -> int:
    """A cheap token estimate: ``len(text) // 4 + 1``."""
    return len(text) // 4 + 1


def reply_text(request: dict[str, Any]) -> str:
    """The deterministic reply: ``echo: `` + the last user message's first 60 chars (JSON when asked)."""
    messages = request.get("messages") or []
    last_user = next((m for m in reversed(messages) if m.get("role") == "user"), {})
    answer = "echo: " + text_of(last_user.get("content"))[:60]
    fmt = request.get("response_format") or {}
    if isinstance(fmt, dict) and fmt.get("type") in ("json_object", "json_schema"):
        return json.dumps({"answer": answer})
    return answer


def usage_of(request: dict[str, Any], reply: str) -> dict[str, int]:
    """Approximate usage for a chat request and its reply."""
    prompt = approx_tokens("".join(text_of(m.get("content")) for m in request.get("messages") or []))
    completion = approx_tokens(reply)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def completion_id(model: str, reply: str) -> str:
    """A deterministic id derived from the model and the reply."""
    return "chatcmpl-" + hashlib.sha256(f"{model}\n{reply}".encode()).hexdigest()[:24]


def chat_body(request: dict[str, Any]) -> dict[str, Any]:
    """A complete ``chat.completion`` answer."""
    reply, model = reply_text(request), str(request.get("model", "fake"))
    return {"id": completion_id(model, reply), "object": "chat.completion", "created": int(time.time()),
            "model": model, "system_fingerprint": "fault-server",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": reply},
                         "logprobs": None, "finish_reason": "stop"}],
            "usage": usage_of(request, reply)}


def stream_events(request: dict[str, Any]) -> list[str]:
    """The SSE ``data:`` payloads of a streamed answer, ``[DONE]`` last."""
    reply, model = reply_text(request), str(request.get("model", "fake"))
    base = {"id": completion_id(model, reply), "object": "chat.completion.chunk", "created": int(time.time()),
            "model": model, "system_fingerprint": "fault-server"}
    words = reply.split(" ")
    pieces = [w if i == 0 else " " + w for i, w in enumerate(words)]
    deltas = [{"role": "assistant", "content": ""}] + [{"content": p} for p in pieces]
    events = [{**base, "choices": [{"index": 0, "delta": d, "logprobs": None, "finish_reason": None}]}
              for d in deltas]
    events.append({**base, "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}]})
    if (request.get("stream_options") or {}).get("include_usage"):
        events.append({**base, "choices": [], "usage": usage_of(request, reply)})
    return [json.dumps(e) for e in events] + ["[DONE]"]


def embedding_vector(text: str) -> list[float]:
    """A deterministic unit vector of ``EMBEDDING_DIMS`` floats from the text's hash."""
    digest = hashlib.sha256(text.encode()).digest()
    raw = [b / 127.5 - 1.0 for b in digest[:EMBEDDING_DIMS]]
    norm = sum(x * x for x in raw) ** 0.5 or 1.0
    return [x / norm for x in raw]


def embeddings_body(request: dict[str, Any]) -> dict[str, Any]:
    """An ``embeddings`` list answer; base64 float32 when ``encoding_format == "base64"`` (openai's default)."""
    inputs = request.get("input", "")
    texts = [inputs] if isinstance(inputs, str) else [str(t) for t in inputs]
    as_b64 = request.get("encoding_format") == "base64"
    data = []
    for i, text in enumerate(texts):
        vec: Any = embedding_vector(text)
        if as_b64:
            vec = base64.b64encode(struct.pack(f"<{len(vec)}f", *vec)).decode()
        data.append({"object": "embedding", "index": i, "embedding": vec})
    tokens = sum(approx_tokens(t) for t in texts)
    return {"object": "list", "data": data, "model": request.get("model", "fake"),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}


# -- CLI ----------------------------------------------------------------------------------------------------

@contextlib.contextmanager
def running(latency_ms: float = 0, *, in_process: bool = False) -> Iterator[str]:
    """A FaultServer at ``latency_ms`` in a thread, or (default) in its own process so it does not share the
    caller's GIL — what benchmarks want; yields its base URL and stops it on exit."""
    if in_process:
        with FaultServer(latency_ms=latency_ms) as server:
            yield server.base_url
        return
    import subprocess
    import sys
    import urllib.request

    cmd = [sys.executable, "-m", "workbench.testing.fault_server", "--port", "0", "--latency-ms", str(latency_ms)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        url = line.split()[2] if line.startswith("FaultServer on ") else ""
        if not url:
            raise RuntimeError(f"fault server did not start: {line!r}")
        with urllib.request.urlopen(url.removesuffix("/v1") + "/healthz", timeout=5):
            pass
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)

def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m workbench.testing.fault_server", description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--latency-ms", type=float, default=0.0)
    p.add_argument("--jitter-ms", type=float, default=0.0)
    for fault in ("429", "500", "timeout", "malformed"):
        p.add_argument(f"--rate-{fault}", type=float, default=0.0)
    p.add_argument("--retry-after", type=float, default=0.05)
    p.add_argument("--timeout-s", type=float, default=30.0)
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    """Serve until Ctrl-C (or SIGTERM), printing the counters on exit."""
    a = _parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    server = FaultServer(a.latency_ms, a.jitter_ms, a.rate_429, a.rate_500, a.rate_timeout, a.rate_malformed,
                         a.retry_after, a.timeout_s, a.seed, a.host, a.port).start()
    print(f"FaultServer on {server.base_url} ({server.config}); Ctrl-C to stop", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        print(f"stopped; stats {server.stats}", flush=True)


if __name__ == "__main__":
    main()
