"""What stands between the network and ``workbench serve``'s app: a request id on every response, bearer-token
authentication, a body cap enforced while reading, and read timeouts for slow clients.

- ``Guard`` (ASGI middleware): ``X-Request-Id`` on every response (the client's, when it is a short token, else a
  new one); ``Authorization: Bearer <token>`` required on everything but ``/healthz`` when a token is set (401
  otherwise); a body refused with 413 from its ``Content-Length``, or as soon as a streamed body passes the cap,
  so at most ``max_body`` bytes are buffered per request; 408 when the client stops sending its body for
  ``body_timeout`` seconds, or has not sent all of it within ``body_deadline`` (a byte every few seconds held a
  connection for ever); 503 while the bodies held by all requests together would pass ``max_buffered`` (forty
  clients trickling 10 MB bodies held 400 MB); a request that may not have a body (GET...) but announces one
  gets its answer with ``Connection: close`` (its body was never read, so no timer closed the connection).
- ``SlowHeadersH11``: uvicorn's h11 protocol with a header timeout: a connection that has not sent complete request
  headers within ``HEADER_TIMEOUT`` seconds of connecting (or of its previous response) is closed. uvicorn's own
  keep-alive timer stops at the first byte, so a client sending a header a byte at a time held a connection forever.
  Its 400 for a request that is not HTTP is JSON with a request id, like every other error.
- ``resolve_token`` / ``check_bind``: the token comes from ``WORKBENCH_API_TOKEN`` or a file (its first line);
  binding a non-loopback address without one is refused.
"""
from __future__ import annotations

import asyncio
import hmac
import ipaddress
import os
import re
import uuid
from pathlib import Path
from typing import Any

from ..errors import UsageError

TOKEN_VARIABLE = "WORKBENCH_API_TOKEN"
HEADER_TIMEOUT = 10.0
"""Seconds a connection may take to send complete request headers."""
BODY_TIMEOUT = 10.0
"""Seconds a client may pause while sending its body."""
BODY_DEADLINE = 60.0
"""Seconds a client may take to send its whole body (10 MB in a minute is ~170 KB/s)."""
BODIES_HELD = 8
"""How many bodies of the largest size all requests together may hold in memory at once (``Guard.max_buffered``)."""
_BODY_METHODS = ("POST", "PUT", "PATCH")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")
OPEN_PATHS = ("/healthz",)
"""Paths that need no token (liveness probes)."""


MIN_TOKEN_CHARS = 16
"""The shortest API token taken: a 5-character one was accepted on a public interface, where it can be guessed."""
_TOKEN_CHARS = re.compile(r"[!-~]+")
"""What a token may hold: printable ASCII without spaces (a header is read as Latin-1, so ``é`` never matched)."""


def resolve_token(token_file: str | None = None) -> str | None:
    """The API token: the first line of ``token_file``, else ``$WORKBENCH_API_TOKEN`` (white space around either
    dropped); None when neither is set. ``UsageError`` (exit 2) for an unreadable or empty file, or a token shorter
    than ``MIN_TOKEN_CHARS`` or holding anything but printable ASCII."""
    make_one = "make one with: python -c \"import secrets; print(secrets.token_urlsafe(32))\""
    if token_file:
        try:
            text = Path(token_file).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as e:
            raise UsageError(f"cannot read the token file {token_file}: {getattr(e, 'strerror', None) or e}") from None
        if not text:
            raise UsageError(f"the token file {token_file} is empty")
        token: str | None = text.splitlines()[0].strip()  # a comment on a second line was part of the token
    else:
        token = (os.environ.get(TOKEN_VARIABLE) or "").strip() or None
    where = f"the token file {token_file}" if token_file else TOKEN_VARIABLE
    if token is not None and not _TOKEN_CHARS.fullmatch(token):
        raise UsageError(f"the API token in {where} holds a space or a character outside printable ASCII: no client "
                         "could send it in an Authorization header", hint=make_one)
    if token is not None and len(token) < MIN_TOKEN_CHARS:
        raise UsageError(f"the API token in {where} has {len(token)} characters: too short to keep guessers out "
                         f"(at least {MIN_TOKEN_CHARS})", hint=make_one)
    return token


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """``UsageError`` (exit 2) when ``host`` is reachable from other machines and no token protects it."""
    if token is None and not is_loopback(host):
        raise UsageError(f"refusing to serve on {host} without authentication: anyone who can reach it could run "
                         "(and spend on) your models",
                         hint=f"set {TOKEN_VARIABLE} or pass --token-file; clients then send "
                              "'Authorization: Bearer <token>'. Or bind 127.0.0.1")


def _header(scope: dict[str, Any], name: bytes) -> bytes | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value
    return None


class Guard:
    """ASGI middleware: request ids, authentication, the body cap and the body read timeouts (module docstring).
    ``max_buffered`` defaults to ``BODIES_HELD`` bodies of ``max_body``."""

    def __init__(self, app: Any, *, token: str | None = None, max_body: int = 10 * 1024 * 1024,
                 body_timeout: float = BODY_TIMEOUT, body_deadline: float = BODY_DEADLINE,
                 max_buffered: int | None = None):
        self.app, self.token, self.max_body = app, token, max_body
        self.body_timeout, self.body_deadline = body_timeout, body_deadline
        self.max_buffered = BODIES_HELD * max_body if max_buffered is None else max_buffered
        self.buffered = 0
        """Bytes of request bodies held now, by all requests (read, or being read, and not yet answered)."""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Handle one ASGI connection scope."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = (_header(scope, b"x-request-id") or b"").decode("latin-1")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        extra = [(b"x-request-id", request_id.encode("latin-1"))]
        if scope.get("method") not in _BODY_METHODS and _announces_body(scope):
            extra.append((b"connection", b"close"))  # its body is never read: nothing else would end the connection

        async def send_with_id(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        refusal = self._refusal(scope)
        if refusal is not None:
            await self._error(send_with_id, *refusal)
            return
        if scope.get("method") not in _BODY_METHODS:
            await self.app(scope, receive, send_with_id)
            return
        held = [0]  # bytes this request added to ``buffered``
        try:
            body = await self._read_body(receive, send_with_id, held)
            if body is not None:
                await self.app(scope, _replay(body, receive), send_with_id)
        finally:
            self.buffered -= held[0]

    def _refusal(self, scope: dict[str, Any]) -> tuple[int, str, str] | None:
        if self.token is not None and scope.get("path") not in OPEN_PATHS:
            auth = (_header(scope, b"authorization") or b"").decode("latin-1")
            scheme, _, given = auth.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode("latin-1"),
                                                                     self.token.encode()):
                return 401, "unauthorized", "send 'Authorization: Bearer <token>'"
        length = _header(scope, b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            return 413, "too_large", f"the body is over {self.max_body} bytes"
        return None

    async def _read_body(self, receive: Any, send: Any, held: list[int]) -> bytes | None:
        """The whole body, or None after answering 413 (over the cap), 408 (a pause over ``body_timeout``, or the
        whole body not in within ``body_deadline``) or 503 (all requests' bodies together over ``max_buffered``);
        never more than the cap. What it holds is added to ``buffered`` and ``held[0]``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.body_deadline
        parts = []
        while True:
            left = deadline - loop.time()
            try:
                message = await asyncio.wait_for(receive(), min(self.body_timeout, max(left, 0.0)))
            except TimeoutError:
                late = left <= self.body_timeout
                await self._error(send, 408, "timeout", f"the body was not all sent within {self.body_deadline:.0f} s"
                                  if late else f"no body data for {self.body_timeout:.0f} s")
                return None
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            if held[0] + len(chunk) > self.max_body:
                await self._error(send, 413, "too_large", f"the body is over {self.max_body} bytes")
                return None
            if self.buffered + len(chunk) > self.max_buffered:
                await self._error(send, 503, "busy", "the server holds as many request bodies as it may now; retry "
                                  "in a moment", retry_after=1)
                return None
            self.buffered += len(chunk)
            held[0] += len(chunk)
            parts.append(chunk)
            if not message.get("more_body", False):
                return b"".join(parts)

    @staticmethod
    async def _error(send: Any, status: int, code: str, message: str, retry_after: int | None = None) -> None:
        import json

        body = json.dumps({"error": {"code": code, "message": message}}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                   (b"connection", b"close")]
        if status == 401:
            headers.append((b"www-authenticate", b'Bearer realm="workbench"'))
        if retry_after is not None:
            headers.append((b"retry-after", str(retry_after).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _announces_body(scope: dict[str, Any]) -> bool:
    """Whether the request says a body follows (a non-zero ``Content-Length``, or ``Transfer-Encoding``)."""
    length = _header(scope, b"content-length")
    return (length is not None and length.strip(b"0 ") != b"") or _header(scope, b"transfer-encoding") is not None


def _replay(body: bytes, receive: Any) -> Any:
    sent = False

    async def replay() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def slow_headers_protocol(header_timeout: float = HEADER_TIMEOUT) -> type:  # noqa: C901 - one small class
    """uvicorn's h11 protocol with a header timeout (module docstring)."""
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class SlowHeadersH11(H11Protocol):
        _header_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: Any) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self.conn.their_state is h11.IDLE:  # still waiting for (the rest of) a request's headers
                self._arm()
            else:
                self._disarm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            if self._header_timer is None:
                self._header_timer = self.loop.call_later(header_timeout, self._too_slow)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _too_slow(self) -> None:
            self._header_timer = None
            if self.conn.their_state is h11.IDLE and (self.cycle is None or self.cycle.response_complete):
                self.transport.close()

        def send_400_response(self, msg: str) -> None:
            """uvicorn's answer to bytes that are not an HTTP request, in the API's error shape, with an id."""
            import json

            body = json.dumps({"error": {"code": "bad_request", "message": msg}}).encode()
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                       (b"connection", b"close"), (b"x-request-id", uuid.uuid4().hex.encode())]
            for event in (h11.Response(status_code=400, headers=headers, reason=b"Bad Request"), h11.Data(data=body),
                          h11.EndOfMessage()):
                self.transport.write(self.conn.send(event))
            self.transport.close()

    return SlowHeadersH11
