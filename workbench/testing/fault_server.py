"""A fault-injecting, OpenAI-compatible HTTP server for tests and benchmarks (loopback only, stdlib only).

It answers ``POST /v1/chat/completions`` (streaming too), ``POST /v1/embeddings``, ``GET /v1/models`` and
``GET /healthz`` deterministically, after an optional latency, and injects faults at given rates: 429 (with a
``Retry-After`` header), 500, a hang of ``timeout_s`` seconds, and a malformed (truncated JSON) body.

Point litellm at it::

    from workbench.testing import FaultConfig, FaultServer
    import litellm

    with FaultServer(FaultConfig(latency_ms=50, rate_500=0.1), seed=1) as server:
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

Layout: this module holds the settings, the server object, ``running`` and the CLI; ``fault_http`` the HTTP
server and request handler; ``openai_wire`` the pure functions that build the OpenAI-shaped bodies.

CLI (serves until Ctrl-C)::

    python -m workbench.testing.fault_server --port 8765 --latency-ms 50 --rate-500 0.1
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import random
import signal
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any, Self

from .fault_http import _Handler, _HTTPServer

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
STAT_KEYS = ("requests", "ok", "429", "500", "timeout", "malformed")
MAX_RECORDED = 1000
"""The recorded requests kept (the oldest are dropped)."""


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
    sequence: tuple[str, ...] = ()
    """Faults for the first requests, in order (``"429"``, ``"500"``, ``"timeout"``, ``"malformed"``, ``"ok"``),
    before the rates apply: a deterministic script, e.g. ``("429",)`` then normal answers."""
    fail_models: tuple[str, ...] = ()
    """Models (the request's ``model``) answered 500 every time: a provider whose primary is down."""
    omit_usage: bool = False
    """Answer without a ``usage`` block, as some OpenAI-compatible servers do."""

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
    """An OpenAI-compatible server on loopback that injects faults; see the module docstring.

    ``config``: the faults (default: none); ``seed``: the fault draws; ``port`` 0 picks a free one."""

    def __init__(self, config: FaultConfig | None = None, *, seed: int = 0, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        if host not in LOOPBACK_HOSTS:
            raise ValueError(f"FaultServer serves loopback only (127.0.0.1, localhost, ::1), not {host!r}")
        self._config = (config or FaultConfig()).validate()
        self._host, self._port = host, port
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._stats = dict.fromkeys(STAT_KEYS, 0)
        self._requests: list[dict[str, Any]] = []
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
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
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

    @property
    def requests(self) -> list[dict[str, Any]]:
        """The POST requests received (the last ``MAX_RECORDED``): ``{"path", "headers", "body"}``, headers
        lower-cased, so a test can check what each model was sent and with which key."""
        with self._lock:
            return list(self._requests)

    def reset_stats(self) -> None:
        """Zero the counters and forget the recorded requests."""
        with self._lock:
            self._stats = dict.fromkeys(STAT_KEYS, 0)
            self._requests.clear()

    def _record(self, path: str, headers: dict[str, str], body: Any) -> None:
        with self._lock:
            self._requests.append({"path": path, "headers": headers, "body": body})
            del self._requests[:-MAX_RECORDED]

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
            if self._stats["requests"] < len(cfg.sequence):
                fault = cfg.sequence[self._stats["requests"]]
            jitter = self._rng.uniform(0.0, cfg.jitter_ms) if cfg.jitter_ms else 0.0
            self._stats["requests"] += 1
            self._stats[fault] += 1
        return fault, (cfg.latency_ms + jitter) / 1000.0, cfg

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            (self._connections.add if add else self._connections.discard)(conn)


# -- running it, and the CLI ---------------------------------------------------------------------------------
@contextlib.contextmanager
def running(latency_ms: float = 0, *, in_process: bool = False) -> Iterator[str]:
    """A FaultServer at ``latency_ms`` in a thread, or (default) in its own process so it does not share the
    caller's GIL — what benchmarks want; yields its base URL and stops it on exit."""
    if in_process:
        with FaultServer(FaultConfig(latency_ms=latency_ms)) as server:
            yield server.base_url
        return
    import subprocess
    import sys
    import urllib.request

    cmd = [sys.executable, "-m", "workbench.testing.fault_server", "--port", "0",
           "--latency-ms", str(latency_ms)]
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
    p = argparse.ArgumentParser(prog="python -m workbench.testing.fault_server",
                                description=__doc__.split("\n")[0])
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
    config = FaultConfig(a.latency_ms, a.jitter_ms, a.rate_429, a.rate_500, a.rate_timeout, a.rate_malformed,
                         a.retry_after, a.timeout_s)
    server = FaultServer(config, seed=a.seed, host=a.host, port=a.port).start()
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
