"""What the model layer costs on top of raw litellm: per call (sync, async) and at concurrency 32.

Ours is ``workbench.models.complete`` / ``acomplete`` (``retries=0, cache=None``), raw is
``litellm.completion`` / ``acompletion`` with the same model, api_base, api_key, timeout and no retries.
Both call a ``FaultServer`` (no faults) at 0 ms latency (pure overhead) and at 50 ms (a realistic wait).
By default the server runs in its own process, so its CPU does not share our GIL; ``--in-process`` runs it in
a thread instead. Each measurement is repeated (3 times by default), ours and raw interleaved with the order
alternating, and the medians are reported.

Target: the model layer adds <= 10% to raw litellm per call (the sync and async per-call ratios ours/raw).
Because those ratios are noisy on a busy machine, the layer's own cost is also measured with litellm's
completion functions stubbed to return a canned response (in microseconds, and as a share of a raw call).

    python benchmarks/model_overhead.py --quick
    python benchmarks/model_overhead.py --json results/model_overhead.json
"""
from __future__ import annotations

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("LITELLM_OFFLINE_MODE", "true")

import argparse
import asyncio
import contextlib
import json
import platform
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx

MODEL = "openai/gpt-4o-mini"
API_KEY = "sk-fake"
TIMEOUT = 10.0
CONCURRENCY = 32
TARGET_RATIO = 1.10
MESSAGES = [{"role": "system", "content": "Answer briefly."},
            {"role": "user", "content": "What does the model layer add to a raw litellm call?"}]

SyncCall = Callable[[], Any]
AsyncCall = Callable[[], Awaitable[Any]]


@dataclass(frozen=True)
class Plan:
    """How many calls each measurement makes, per server latency (ms)."""

    latencies_ms: tuple[float, ...] = (0.0, 50.0)
    per_call: dict[float, int] = field(default_factory=lambda: {0.0: 300, 50.0: 60})
    warmup: int = 20
    throughput_calls: dict[float, int] = field(default_factory=lambda: {0.0: 320, 50.0: 640})
    repeats: int = 3

    @classmethod
    def quick(cls) -> Plan:
        """A smoke run: a few calls, two repeats."""
        return cls(per_call={0.0: 20, 50.0: 6}, warmup=3, throughput_calls={0.0: 64, 50.0: 96}, repeats=2)


@dataclass
class LatencyResult:
    """Every repeat of every measurement at one server latency (seconds per call, calls per second)."""

    latency_ms: float
    sync_ours: list[float] = field(default_factory=list)
    sync_raw: list[float] = field(default_factory=list)
    async_ours: list[float] = field(default_factory=list)
    async_raw: list[float] = field(default_factory=list)
    tput_ours: list[float] = field(default_factory=list)
    tput_raw: list[float] = field(default_factory=list)
    errors: int = 0

    def ratios(self) -> dict[str, float]:
        """Ours/raw ratios of the medians (and throughput vs the ideal ``CONCURRENCY / latency``)."""
        med = statistics.median
        out = {"sync per-call ratio ours/raw": med(self.sync_ours) / med(self.sync_raw),
               "async per-call ratio ours/raw": med(self.async_ours) / med(self.async_raw),
               "throughput ratio ours/raw": med(self.tput_ours) / med(self.tput_raw)}
        if self.latency_ms > 0:
            ideal = CONCURRENCY / (self.latency_ms / 1000.0)
            out["throughput vs ideal (ours)"] = med(self.tput_ours) / ideal
            out["throughput vs ideal (raw)"] = med(self.tput_raw) / ideal
        return out


# -- the server ---------------------------------------------------------------------------------------------
def fault_server(latency_ms: float, in_process: bool):
    """A FaultServer at ``latency_ms``, in a thread or its own process; yields its base URL."""
    from workbench.testing.fault_server import running

    return running(latency_ms, in_process=in_process)


# -- the callers --------------------------------------------------------------------------------------------
def callers(url: str) -> tuple[dict[str, SyncCall], dict[str, AsyncCall]]:
    """``{"ours": ..., "raw": ...}`` sync and async zero-argument callers against ``url``."""
    import litellm

    from workbench.models import Endpoint, acomplete, complete

    ours_kw = {"model": MODEL, "endpoint": Endpoint(url, API_KEY, TIMEOUT), "retries": 0, "cache": None}
    raw_kw = {"model": MODEL, "messages": MESSAGES, "api_base": url, "api_key": API_KEY, "timeout": TIMEOUT,
              "max_retries": 0, "num_retries": 0}
    sync = {"ours": lambda: complete(MESSAGES, **ours_kw), "raw": lambda: litellm.completion(**raw_kw)}
    async_ = {"ours": lambda: acomplete(MESSAGES, **ours_kw), "raw": lambda: litellm.acompletion(**raw_kw)}
    return sync, async_


def check_reply(sync: dict[str, SyncCall]) -> None:
    """Both callers answer the same text (fails loudly before timing a broken path)."""
    ours, raw = sync["ours"](), sync["raw"]()
    if ours.text != raw.choices[0].message.content:
        raise RuntimeError(f"ours answered {ours.text!r}, raw {raw.choices[0].message.content!r}")


@contextlib.contextmanager
def stubbed_litellm(response: Any) -> Iterator[None]:
    """``litellm.completion`` / ``acompletion`` answer ``response`` at once: what is left is our layer's cost."""
    import litellm

    saved = litellm.completion, litellm.acompletion

    async def acompletion(**_: Any) -> Any:
        return response

    litellm.completion, litellm.acompletion = (lambda **_: response), acompletion
    try:
        yield
    finally:
        litellm.completion, litellm.acompletion = saved


# -- the measurements ---------------------------------------------------------------------------------------
def per_call_sync(call: SyncCall, n: int, warmup: int) -> float:
    """Median seconds of ``n`` sequential calls after ``warmup`` untimed ones."""
    for _ in range(warmup):
        call()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


async def per_call_async(call: AsyncCall, n: int, warmup: int) -> float:
    """Median seconds of ``n`` sequentially awaited calls after ``warmup`` untimed ones."""
    for _ in range(warmup):
        await call()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        await call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


async def throughput(call: AsyncCall, n: int, concurrency: int) -> tuple[float, int]:
    """Calls per second of ``n`` calls, at most ``concurrency`` in flight; and how many failed."""
    gate = asyncio.Semaphore(concurrency)

    async def one() -> Any:
        async with gate:
            return await call()

    start = time.perf_counter()
    results = await asyncio.gather(*(one() for _ in range(n)), return_exceptions=True)
    elapsed = time.perf_counter() - start
    return n / elapsed, sum(isinstance(r, BaseException) for r in results)


def order(rep: int) -> tuple[str, str]:
    """Interleave: ours first on even repeats, raw first on odd ones."""
    return ("ours", "raw") if rep % 2 == 0 else ("raw", "ours")


def measure_sync(result: LatencyResult, sync: dict[str, SyncCall], plan: Plan) -> None:
    n = plan.per_call[result.latency_ms]
    for rep in range(plan.repeats):
        for who in order(rep):
            getattr(result, f"sync_{who}").append(per_call_sync(sync[who], n, plan.warmup))


async def measure_async(result: LatencyResult, async_: dict[str, AsyncCall], plan: Plan) -> None:
    n, n_tput = plan.per_call[result.latency_ms], plan.throughput_calls[result.latency_ms]
    for rep in range(plan.repeats):
        for who in order(rep):
            getattr(result, f"async_{who}").append(await per_call_async(async_[who], n, plan.warmup))
        for who in order(rep):
            await throughput(async_[who], CONCURRENCY, CONCURRENCY)  # warm the connection pool
            rate, failed = await throughput(async_[who], n_tput, CONCURRENCY)
            getattr(result, f"tput_{who}").append(rate)
            result.errors += failed


def measure_layer(sync: dict[str, SyncCall], async_: dict[str, AsyncCall], plan: Plan) -> dict[str, list[float]]:
    """Seconds per call of ours with litellm stubbed out (a low-noise measure of what the layer adds)."""
    n = 10 * plan.per_call[0.0]
    out: dict[str, list[float]] = {"sync": [], "async": []}
    with stubbed_litellm(sync["raw"]()):
        for _ in range(plan.repeats):
            out["sync"].append(per_call_sync(sync["ours"], n, plan.warmup))
            out["async"].append(asyncio.run(per_call_async(async_["ours"], n, plan.warmup)))
    return out


def run_latency(latency_ms: float, plan: Plan, in_process: bool, layer: dict[str, Any]) -> LatencyResult:
    """All measurements against one server; at 0 ms also the stubbed layer-only cost, into ``layer``."""
    result = LatencyResult(latency_ms)
    with fault_server(latency_ms, in_process) as url:
        sync, async_ = callers(url)
        check_reply(sync)
        measure_sync(result, sync, plan)
        asyncio.run(measure_async(result, async_, plan))
        if latency_ms == 0:
            layer.update(measure_layer(sync, async_, plan))
    return result


# -- the report ---------------------------------------------------------------------------------------------
def table(results: list[LatencyResult]) -> str:
    """Medians (and the spread over repeats) as a fixed-width table."""
    med = statistics.median
    rows = [f"{'latency':>8} {'measure':<22} {'ours':>12} {'raw':>12} {'ours/raw':>9}   repeats (ours | raw)"]
    for r in results:
        for label, unit, scale, ours, raw in (
                ("sync per call", "ms", 1000, r.sync_ours, r.sync_raw),
                ("async per call", "ms", 1000, r.async_ours, r.async_raw),
                (f"throughput @{CONCURRENCY}", "calls/s", 1, r.tput_ours, r.tput_raw)):
            spread = " ".join(f"{x * scale:.3g}" for x in ours) + " | " + " ".join(f"{x * scale:.3g}" for x in raw)
            rows.append(f"{r.latency_ms:>6.0f}ms {label:<22} {med(ours) * scale:>9.3f} {unit:<2} "
                        f"{med(raw) * scale:>9.3f} {unit:<2} {med(ours) / med(raw):>8.3f}   {spread}")
        if r.latency_ms > 0:
            rows.append(f"{'':>8} {'ideal throughput':<22} {CONCURRENCY / (r.latency_ms / 1000):>9.1f} calls/s")
        if r.errors:
            rows.append(f"{'':>8} !! {r.errors} failed calls in the throughput runs")
    return "\n".join(rows)


def verdict(results: list[LatencyResult]) -> dict[str, Any]:
    """PASS when every per-call ratio ours/raw (sync and async, each latency) is within the target."""
    checks = {f"{r.latency_ms:g}ms {name}": value for r in results for name, value in r.ratios().items()
              if "per-call" in name}
    worst = max(checks, key=checks.get)
    passed = checks[worst] <= TARGET_RATIO
    return {"target": f"model layer adds <= {TARGET_RATIO - 1:.0%} to raw litellm per call",
            "checks": checks, "worst": worst, "status": "PASS" if passed else "MISS"}


def layer_summary(layer: dict[str, list[float]], results: list[LatencyResult]) -> dict[str, float]:
    """The stubbed layer cost in microseconds, and as a share of raw litellm's per-call time at 0 ms."""
    zero = next(r for r in results if r.latency_ms == 0)
    out = {}
    for mode, raw in (("sync", zero.sync_raw), ("async", zero.async_raw)):
        cost = statistics.median(layer[mode])
        out[f"{mode} layer-only us/call"] = cost * 1e6
        out[f"{mode} layer-only share of raw"] = cost / statistics.median(raw)
    return out


def report(results: list[LatencyResult], layer: dict[str, list[float]], plan: Plan) -> dict[str, Any]:
    """Print the table, ratios and verdict; return everything as a JSON-ready dict."""
    print(table(results))
    print()
    for r in results:
        for name, value in r.ratios().items():
            print(f"  {r.latency_ms:>4g} ms  {name:<32} {value:.3f}")
    summary = layer_summary(layer, results) if layer else {}
    for name, value in summary.items():
        print(f"  stubbed  {name:<32} {value:.3f}" if "share" in name else f"  stubbed  {name:<32} {value:.1f}")
    v = verdict(results)
    print(f"\nTarget: {v['target']}: {v['status']} (worst: {v['worst']} = {v['checks'][v['worst']]:.3f})")
    if summary:
        worst = max(summary["sync layer-only share of raw"], summary["async layer-only share of raw"])
        print(f"Layer-only estimate (litellm stubbed): adds {worst:.1%} of a raw call: "
              f"{'PASS' if worst <= TARGET_RATIO - 1 else 'MISS'}")
    return {"plan": {k: (v2 if not isinstance(v2, dict) else {str(a): b for a, b in v2.items()})
                     for k, v2 in asdict(plan).items()},
            "results": [{**asdict(r), "ratios": r.ratios()} for r in results], "verdict": v,
            "layer_only": {"seconds_per_call": layer, **summary}, "environment": environment()}


def environment() -> dict[str, Any]:
    """Versions and machine, for the JSON record."""
    return {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
            "litellm": version("litellm"), "httpx": httpx.__version__}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few calls per measurement (smoke run)")
    parser.add_argument("--json", type=Path, metavar="OUT", help="write the results as JSON here")
    parser.add_argument("--in-process", action="store_true", help="run the server in a thread of this process")
    args = parser.parse_args(argv)
    plan = Plan.quick() if args.quick else Plan()
    results, layer = [], {}
    for latency in plan.latencies_ms:
        print(f"-- {latency:g} ms server latency ...", flush=True)
        results.append(run_latency(latency, plan, args.in_process, layer))
    data = report(results, layer, plan)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(data, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
