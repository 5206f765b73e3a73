"""The fault server's HTTP plumbing: a threaded loopback server and the request handler (stdlib only).

The handler parses requests leanly, asks its ``FaultServer`` (``server.owner``) for this request's fault and
delay, waits, then answers with the fault or with a body from ``openai_wire``: JSON, or SSE sent as one HTTP
chunk per event so keep-alive connections survive streaming.
"""
from __future__ import annotations

import contextlib
import json
import socket
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from .openai_wire import chat_body, embeddings_body, error_body, malformed_bytes, stream_events

if TYPE_CHECKING:
    from .fault_server import FaultConfig, FaultServer

CHAT_PATHS = frozenset({"/v1/chat/completions", "/chat/completions"})
EMBEDDING_PATHS = frozenset({"/v1/embeddings", "/embeddings"})


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
    """Routes requests; the answer bodies are built by ``openai_wire``'s pure functions."""

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
        with contextlib.suppress(OSError):
            super().finish()

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
        self.server.owner._record(path, {k.lower(): v for k, v in self.headers.items()}, request)
        fault, delay, cfg = self.server.owner._draw()
        if not self._wait(delay + (cfg.timeout_s if fault == "timeout" else 0.0)):
            self.close_connection = True
            return
        if fault == "ok" and str(request.get("model")) in cfg.fail_models:
            fault = "500"
        if fault in ("429", "500", "malformed"):
            self._send_fault(fault, cfg)
        elif path in EMBEDDING_PATHS:
            self._send_json(200, embeddings_body(request))
        elif request.get("stream"):
            self._send_stream(request)
        else:
            self._send_json(200, chat_body(request, usage=not cfg.omit_usage))

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


def response_head(status: int, headers: dict[str, str]) -> bytes:
    """The status line and headers of an HTTP/1.1 response, blank line included."""
    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}", "Server: workbench-fault-server"]
    lines += [f"{key}: {value}" for key, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("iso-8859-1")
