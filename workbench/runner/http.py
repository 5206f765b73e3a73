"""The HTTP front of the runner (starlette + uvicorn; the ``serve`` extra): ``workbench serve``.

    POST /v1/run   one input object -> the result line (the format of ``workbench run``); with ``"stream": true``
                   in the body or ``Accept: text/event-stream``: server-sent events, the output in ``chunk``
                   events ``{"text": ...}``, then one ``result`` event with the full line
    GET  /healthz  200 {"status": "ok", "name", "config_hash"} (503 when no config can be loaded)
    GET  /metrics  the runner's Prometheus metrics

Errors are JSON ``{"error": {"code", "message"}}`` with 400 (bad JSON, JSON nested too deeply to parse, not an
object), 401, 404, 405, 408, 413 or 503; never a traceback. A rejected or failed *input* is still a 200 whose line
has ``status`` and ``error``. Every response carries ``X-Request-Id``; authentication, the body cap (enforced while
reading) and the read timeouts are ``http_guard``'s.
The config comes from a ``ConfigSource``: a fixed file, or the rollout store's active pointer, re-read per request.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from ..errors import WorkbenchError
from ..inputs.jsonl import MAX_LINE_BYTES, id_refusal, no_constants

MAX_BODY_BYTES = MAX_LINE_BYTES
"""An input is at most 10 MB, as a JSONL line or as a request body."""
LARGE_BODY_BYTES = 64 * 1024
"""A body this large is parsed, and its input prepared and logged, in the ``LARGE_THREADS`` threads kept for large
inputs: eight 7.5 MB inputs at once held every thread of the default pool (6 on two cores), and a small request
waited 6 s behind them."""
LARGE_THREADS = 2
CHUNK_WORDS = 8


def error_response(status: int, code: str, message: str) -> JSONResponse:
    """The one error shape of the API."""
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def sse(event: str, data: Any) -> bytes:
    """One server-sent event with a JSON payload."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def chunks(text: str, words: int = CHUNK_WORDS) -> list[str]:
    """``text`` in pieces of about ``words`` words that concatenate back to exactly ``text``."""
    import re

    tokens = re.findall(r"\S+\s*|\s+", text)
    return ["".join(tokens[i:i + words]) for i in range(0, len(tokens), words)]


async def _run(runner: Any, inputs: dict[str, Any], executor: Executor | None = None) -> dict[str, Any]:
    if not hasattr(runner, "arun"):
        result = await run_in_threadpool(runner.run, inputs)
    elif executor is not None:
        result = await runner.arun(inputs, executor=executor)
    else:
        result = await runner.arun(inputs)
    return result.to_line()


async def _stream(runner: Any, inputs: dict[str, Any], running: set[asyncio.Task],
                  executor: Executor | None = None) -> AsyncIterator[bytes]:
    """The result as server-sent events. The run is a task of its own, shielded: starlette cancels a streaming
    response when the client goes away, which cut the run short with no log row, cache entry or metric (12 of 20
    clients that hung up early), though the model may already have been paid. It now runs to its end; ``running``
    holds it until then (the app's shutdown waits for it)."""
    task = asyncio.ensure_future(_run(runner, inputs, executor))
    running.add(task)
    task.add_done_callback(running.discard)
    try:
        line = await asyncio.shield(task)
    except Exception as e:  # noqa: BLE001 - the runner never raises; if it does, the stream ends with an error event
        yield sse("error", {"error": {"code": "internal", "message": f"{type(e).__name__}: {e}"}})
        return
    output = line.get("output")
    text = output if isinstance(output, str) else (json.dumps(output, ensure_ascii=False) if output else "")
    for piece in chunks(text):
        yield sse("chunk", {"text": piece})
    yield sse("result", line)


def _line_response(line: dict[str, Any], stream: bool) -> Response:
    """A result line known at once: JSON, or for a client that asked for a stream, the one ``result`` event."""
    if not stream:
        return JSONResponse(line)

    async def events() -> AsyncIterator[bytes]:
        yield sse("result", line)

    return _event_stream(events())


def _event_stream(events: AsyncIterator[bytes]) -> StreamingResponse:
    return StreamingResponse(events, media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


def _parse_input(body: bytes) -> dict[str, Any] | Response:
    """The input object in a request body, or the error response that refuses the body. ``NaN`` and ``Infinity``
    are not JSON (an id of ``NaN`` was run, then its answer could not be written: a 500 after the model was paid)."""
    try:
        inputs = json.loads(body, parse_constant=no_constants)
    except RecursionError:
        return error_response(400, "invalid_json", "the body is nested too deeply to parse")
    except (ValueError, UnicodeDecodeError) as e:
        return error_response(400, "invalid_json", f"the body is not valid JSON: {e}")
    if not isinstance(inputs, dict):
        return error_response(400, "not_object", "the body must be one JSON object (an input)")
    return inputs


class _Endpoints:
    """The request handlers over one config source (bound methods: starlette calls them with the request)."""

    def __init__(self, source: Any) -> None:
        self.source = source
        self.running: set[asyncio.Task] = set()
        """Streamed runs still going (their client may be gone)."""
        self.large = ThreadPoolExecutor(LARGE_THREADS, thread_name_prefix="workbench-large")
        """Where large inputs are parsed, prepared and logged (``LARGE_BODY_BYTES``)."""

    async def current(self) -> tuple[Any, Any]:
        return await run_in_threadpool(self.source.current)

    async def run_endpoint(self, request: Request) -> Response:
        body = await request.body()
        # a large body is parsed in a thread of its own (8 MB: ~50 ms), so other requests are served meanwhile
        large = self.large if len(body) >= LARGE_BODY_BYTES else None
        inputs = _parse_input(body) if large is None else await asyncio.get_running_loop().run_in_executor(
            large, _parse_input, body)
        if isinstance(inputs, Response):
            return inputs
        stream = inputs.pop("stream", False) is True or "text/event-stream" in request.headers.get("accept", "")
        try:
            _, runner = await self.current()
        except WorkbenchError as e:
            return error_response(503, e.code, e.message)
        if "id" in inputs and (why := id_refusal(inputs["id"])) is not None and hasattr(runner, "reject"):
            # as ``workbench run`` refuses the line: never run (nor paid for) an answer that cannot be written back
            refused = await run_in_threadpool(runner.reject, None, "missing_id", why)
            return _line_response(refused.to_line(), stream)
        if stream:
            return _event_stream(_stream(runner, inputs, self.running, large))
        try:
            return JSONResponse(await _run(runner, inputs, large))
        except Exception as e:  # noqa: BLE001 - the runner never raises; if it does, answer without a traceback
            return error_response(500, "internal", f"{type(e).__name__}: {e}")

    async def healthz(self, request: Request) -> Response:
        try:
            config, _ = await self.current()
        except WorkbenchError as e:
            return error_response(503, e.code, e.message)
        return JSONResponse({"status": "ok", "name": config.name, "config_hash": config.config_hash})

    async def metrics(self, request: Request) -> Response:
        from .metrics import render_metrics

        try:
            _, runner = await self.current()
        except WorkbenchError as e:
            return error_response(503, e.code, e.message)
        content_type, payload = render_metrics(runner)
        return Response(payload, headers={"Content-Type": content_type})


async def _http_error(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 500)
    codes = {404: "not_found", 405: "method_not_allowed"}
    return error_response(status, codes.get(status, "http_error"), str(getattr(exc, "detail", exc)))


async def _internal_error(request: Request, exc: Exception) -> Response:
    return error_response(500, "internal", f"{type(exc).__name__}: {exc}")


def create_app(source: Any, *, token: str | None = None) -> Any:
    """The ASGI app for a ``runner.source.ConfigSource`` (anything with ``current() -> (config, runner)``), behind
    ``http_guard.Guard`` (request ids, the body cap, the body timeout, and ``token`` when given)."""
    from .http_guard import Guard

    endpoints = _Endpoints(source)
    routes = [Route("/v1/run", endpoints.run_endpoint, methods=["POST"]),
              Route("/healthz", endpoints.healthz, methods=["GET"]),
              Route("/metrics", endpoints.metrics, methods=["GET"])]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error, Exception: _internal_error},
                    lifespan=_closing(source, endpoints))
    return Guard(app, token=token, max_body=MAX_BODY_BYTES)


def _closing(source: Any, endpoints: _Endpoints) -> Any:
    """The app's lifespan: at shutdown (SIGTERM, Ctrl-C), once the open requests are answered and the streamed runs
    whose client left are done (at most 60 s), close the source's runner so its pending log rows and cache entries
    are written. uvicorn then re-raises the signal, which ends the process without running ``atexit``: without
    this, the rows of the last 0.2 s were lost."""
    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        yield
        if endpoints.running:
            await asyncio.wait(set(endpoints.running), timeout=60)
        endpoints.large.shutdown(wait=False)
        close = getattr(source, "close", None)
        if close is not None:
            await run_in_threadpool(close)

    return lifespan


def serve(source: Any, host: str = "127.0.0.1", port: int = 8000, log_level: str = "info",
          token: str | None = None) -> None:
    """Run the app with uvicorn until interrupted (h11 with a header timeout: ``http_guard``)."""
    import uvicorn

    from .http_guard import check_bind, slow_headers_protocol

    check_bind(host, token)
    uvicorn.run(create_app(source, token=token), host=host, port=port, log_level=log_level,
                http=slow_headers_protocol(), ws="none")  # an upgrade is a plain request: a 404 with a request id
