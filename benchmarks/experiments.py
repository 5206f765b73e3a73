"""Wall time of the experiment engine vs plain ``litellm.acompletion`` + ``asyncio.gather``, and vs the ideal.

200 synthetic samples × 4 variants (``grounded_qa`` v1 / v2 / v3 on the medium tier, v2 on the small tier), every
variant answering through the fault-injecting server (no faults) at 50 ms latency, at the same concurrency (32)
for both sides:

- **engine**: ``await Experiment(...).arun(progress=False)`` into a fresh run folder, response cache off
  (``RunOptions(cache=None)``) so every cell makes a call, no scorers and samples without criteria (scoring
  excluded). The timed region holds everything the engine does for a run: input checks, chunking, context
  selection, prompt rendering, the calls through the model layer, results and ``records.jsonl`` appends, the
  manifest.
- **baseline**: the same prompts — rendered beforehand, outside the timed region, with each variant's own
  ``Pipeline.prepare`` so the messages are identical — sent with ``litellm.acompletion`` (same kwargs the model
  layer sends: ``timeout``, ``max_retries=0``, ``num_retries=0``) under ``asyncio.Semaphore(concurrency)`` +
  ``asyncio.gather``.
- **ideal**: ``calls × latency / concurrency``.

Each variant's tier answers through a model built with ``build_model(model="openai/gpt-4o-mini",
options=ModelOptions(endpoint=Endpoint(<server>, "sk-fake"), retries=0))``, injected with
``Experiment(..., options=RunOptions(models={tier: model}))``.

A diagnostic third measurement, **engine, cells prepared beforehand**, runs the engine after ``exp.estimate()``
(which prepares every cell) outside the timed region, so it compares like for like with the baseline, whose
prompts are rendered beforehand too.

Engine, baseline and the diagnostic are repeated (3 times by default) interleaved, the order alternating;
medians are reported.
Target: engine wall time <= 1.10× the baseline. Then the finished folder is run again: it must make zero model
calls (the engine's ``model calls:`` count, and ``litellm.acompletion`` calls counted directly).

By default the server runs in its own process (its CPU does not share our GIL); ``--in-process`` runs it in a
thread. ``--profile OUT`` also runs the engine once under cProfile against a 0 ms server and prints the top
functions (the engine's own overhead, not waiting).

    python benchmarks/experiments.py --quick
    python benchmarks/experiments.py --json results/experiments.json
"""
from __future__ import annotations

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("LITELLM_OFFLINE_MODE", "true")
os.environ.setdefault("WORKBENCH_OFFLINE", "1")

import argparse
import asyncio
import contextlib
import cProfile
import io
import json
import platform
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx

MODEL = "openai/gpt-4o-mini"
API_KEY = "sk-fake"
TIMEOUT = 60.0  # the model layer's default timeout, sent on both sides
TARGET_RATIO = 1.10
TOPICS = ["invoices", "refunds", "exports", "audit logs", "tax rates", "payroll", "bank feeds", "currencies",
          "approvals", "reports"]
VARIANTS = [  # (name, PipelineConfig.build keywords)
    ("grounded_qa@v1 · medium", {"version": 1, "tier": "medium"}),
    ("grounded_qa@v2 · medium", {"version": 2, "tier": "medium"}),
    ("grounded_qa@v3 · medium", {"version": 3, "tier": "medium"}),
    ("grounded_qa@v2 · small", {"version": 2, "tier": "small"}),
]


@dataclass(frozen=True)
class Plan:
    samples: int = 200
    variants: int = 4
    repeats: int = 3
    concurrency: int = 32
    latency_ms: float = 50.0

    @classmethod
    def quick(cls, **kw: Any) -> Plan:
        return cls(**{"samples": 50, "variants": 2, "repeats": 1, **kw})

    @property
    def calls(self) -> int:
        return self.samples * self.variants

    @property
    def ideal_s(self) -> float:
        return self.calls * (self.latency_ms / 1000.0) / self.concurrency


@dataclass
class Results:
    engine_s: list[float] = field(default_factory=list)
    engine_prepared_s: list[float] = field(default_factory=list)
    baseline_s: list[float] = field(default_factory=list)
    engine_calls: list[int] = field(default_factory=list)
    engine_errors: list[dict[str, int]] = field(default_factory=list)
    baseline_errors: list[int] = field(default_factory=list)
    engine_cpu_s: list[float] = field(default_factory=list)
    baseline_cpu_s: list[float] = field(default_factory=list)
    prepare_s: float = 0.0
    rerun: dict[str, Any] = field(default_factory=dict)


LAST_CPU = {"engine": 0.0, "baseline": 0.0}
"""The client CPU seconds of the last engine and baseline runs."""


# -- the server ---------------------------------------------------------------------------------------------
def fault_server(latency_ms: float, in_process: bool):
    """A FaultServer at ``latency_ms``, in a thread or its own process; yields its base URL."""
    from workbench.testing.fault_server import running

    return running(latency_ms, in_process=in_process)


# -- the workload -------------------------------------------------------------------------------------------
def make_evalset(n: int):
    """``n`` synthetic samples: a short question and one small document each; no criteria (no scoring)."""
    from workbench.evalsets.evalset import EvalSet

    records = []
    for i in range(n):
        topic = TOPICS[i % len(TOPICS)]
        days = 7 + i % 53
        doc = (f"# {topic.title()} policy {i}\n\n"
               f"Northwind Ledger keeps {topic} for account {i} in the workspace settings. "
               f"Changes to {topic} take effect within {days} days of approval. "
               f"Only administrators can edit {topic}; other members see them read-only. "
               f"The history of every change to {topic} is kept for {i % 7 + 1} years.")
        records.append({"id": f"s{i:04d}", "category": "normal", "expected": [f"{days} days"], "criteria": [],
                        "inputs": {"question": f"How long do changes to {topic} for account {i} take?",
                                   "documents": [{"id": f"doc-{i}", "text": doc}]}})
    return EvalSet.from_records(records, name="bench-experiments")


def make_variants(k: int) -> dict[str, Any]:
    from workbench.config.pipeline import PipelineConfig

    return {name: PipelineConfig.build("grounded_qa", **kw) for name, kw in VARIANTS[:k]}


def make_models(url: str, variants: dict[str, Any]) -> dict[str, Any]:
    """One fault-server model per tier the variants use."""
    from workbench.models import Endpoint, ModelOptions, build_model

    options = ModelOptions(endpoint=Endpoint(url, API_KEY, TIMEOUT), retries=0)
    return {t: build_model(model=MODEL, options=options) for t in {c.tier for c in variants.values()}}


def make_experiment(evalset, variants, models, out: Path, concurrency: int):
    """An ``Experiment`` whose pipelines answer through ``models`` (no response cache, no scorers)."""
    from workbench.experiments import Experiment, RunOptions

    options = RunOptions(repeats=1, concurrency=concurrency, cache=None, models=models)
    return Experiment(evalset, variants, out, scorers=[], options=options)


def render_prompts(evalset, variants) -> tuple[list[tuple[list[dict], dict]], float]:
    """Every cell's (messages, settings), rendered by the variant's own pipeline; and the seconds it took."""
    from workbench.pipeline import Pipeline, Result

    chunks: dict = {}
    pipelines = {n: Pipeline(c, cache=None, chunk_cache=chunks) for n, c in variants.items()}
    start = time.perf_counter()
    out, rejected = [], []
    for name, pipeline in pipelines.items():
        for sample in evalset:
            prepared = pipeline.prepare(sample.inputs.model_dump())
            if isinstance(prepared, Result):
                rejected.append(f"{name} / {sample.id}: {prepared.error}")
                continue
            out.append((prepared.messages, pipeline.request_settings()))
    if rejected:
        raise RuntimeError(f"{len(rejected)} inputs were rejected, e.g. {rejected[0]}")
    return out, time.perf_counter() - start


# -- the measurements ---------------------------------------------------------------------------------------
async def run_engine(evalset, variants, models, out: Path, concurrency: int,
                     prepared: bool = False) -> tuple[float, Any]:
    """Seconds of one engine run into the fresh folder ``out``; and its summary. ``prepared``: every cell is
    prepared beforehand, outside the timed region (``exp.estimate()`` fills the engine's prepared-input cache)."""
    exp = make_experiment(evalset, variants, models, out, concurrency)
    if prepared:
        exp.estimate()
    start, cpu = time.perf_counter(), time.process_time()
    summary = await exp.arun(progress=False)
    LAST_CPU["engine"] = time.process_time() - cpu  # the client process only: the server runs apart
    return time.perf_counter() - start, summary


async def run_baseline(prompts, url: str, concurrency: int) -> tuple[float, int]:
    """Seconds to send every prompt with plain litellm + gather under a semaphore; and how many failed."""
    import litellm

    gate = asyncio.Semaphore(concurrency)

    async def one(messages: list[dict], settings: dict) -> Any:
        async with gate:
            return await litellm.acompletion(model=MODEL, messages=messages, api_base=url, api_key=API_KEY,
                                             timeout=TIMEOUT, max_retries=0, num_retries=0, **settings)

    start, cpu = time.perf_counter(), time.process_time()
    results = await asyncio.gather(*(one(m, s) for m, s in prompts), return_exceptions=True)
    elapsed = time.perf_counter() - start
    LAST_CPU["baseline"] = time.process_time() - cpu
    return elapsed, sum(isinstance(r, BaseException) for r in results)


@contextlib.contextmanager
def counting_acompletion() -> Iterator[list[int]]:
    """Count ``litellm.acompletion`` calls while inside."""
    import litellm

    saved, count = litellm.acompletion, [0]

    async def counted(*a: Any, **kw: Any) -> Any:
        count[0] += 1
        return await saved(*a, **kw)

    litellm.acompletion = counted
    try:
        yield count
    finally:
        litellm.acompletion = saved


async def measure(plan: Plan, url: str, workdir: Path) -> Results:
    evalset, variants = make_evalset(plan.samples), make_variants(plan.variants)
    models = make_models(url, variants)
    prompts, prepare_s = render_prompts(evalset, variants)
    res = Results(prepare_s=prepare_s)
    # warm up both paths (imports, tokenizers, connection pools) on a few samples, untimed
    warm = make_evalset(min(plan.concurrency, plan.samples))
    await run_engine(warm, variants, models, workdir / "warmup", plan.concurrency)
    await run_baseline(prompts[: plan.concurrency], url, plan.concurrency)
    last_out = None
    for rep in range(plan.repeats):
        whos = ("engine", "baseline", "prepared") if rep % 2 == 0 else ("prepared", "baseline", "engine")
        for who in whos:
            if who == "prepared":
                seconds, summary = await run_engine(evalset, variants, models, workdir / f"prep-{rep}",
                                                    plan.concurrency, prepared=True)
                res.engine_prepared_s.append(seconds)
            elif who == "engine":
                last_out = workdir / f"run-{rep}"
                seconds, summary = await run_engine(evalset, variants, models, last_out, plan.concurrency)
                res.engine_s.append(seconds)
                res.engine_cpu_s.append(LAST_CPU["engine"])
                res.engine_calls.append(summary.model_calls)
                res.engine_errors.append(dict(summary.errors))
            else:
                seconds, failed = await run_baseline(prompts, url, plan.concurrency)
                res.baseline_s.append(seconds)
                res.baseline_cpu_s.append(LAST_CPU["baseline"])
                res.baseline_errors.append(failed)
            print(f"   repeat {rep + 1}: {who:<8} {seconds:7.3f} s", flush=True)
    # a rerun of the finished folder: zero model calls
    with counting_acompletion() as count:
        seconds, summary = await run_engine(evalset, variants, models, last_out, plan.concurrency)
    res.rerun = {"model_calls": summary.model_calls, "litellm_calls": count[0], "computed": summary.computed,
                 "skipped": summary.skipped, "seconds": seconds}
    return res


def profile_engine(plan: Plan, in_process: bool, out: Path, top: int = 25) -> str:
    """One engine run under cProfile against a 0 ms server; the top functions by cumulative and own time."""
    with fault_server(0.0, in_process) as url, tempfile.TemporaryDirectory(prefix="bench-exp-prof-") as tmp:
        evalset, variants = make_evalset(plan.samples), make_variants(plan.variants)
        models = make_models(url, variants)

        async def go() -> None:
            await run_engine(make_evalset(plan.concurrency), variants, models, Path(tmp) / "warm", plan.concurrency)
            prof = cProfile.Profile()
            prof.enable()
            await run_engine(evalset, variants, models, Path(tmp) / "run", plan.concurrency)
            prof.disable()
            prof.dump_stats(out)

        asyncio.run(go())
    buf = io.StringIO()
    stats = pstats.Stats(str(out), stream=buf).strip_dirs()
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return buf.getvalue()


# -- the report ---------------------------------------------------------------------------------------------
def report(plan: Plan, res: Results) -> dict[str, Any]:
    med = statistics.median
    engine, baseline, ideal = med(res.engine_s), med(res.baseline_s), plan.ideal_s

    def spread(xs: list[float]) -> str:
        return " ".join(f"{x:.3f}" for x in xs)

    print(f"\n{plan.samples} samples × {plan.variants} variants = {plan.calls} calls, concurrency "
          f"{plan.concurrency}, server latency {plan.latency_ms:g} ms, medians of {plan.repeats}")
    rows = [("ideal (calls × latency / concurrency)", ideal, ""),
            ("engine: Experiment.arun (scoring excluded)", engine, spread(res.engine_s)),
            ("baseline: litellm.acompletion + gather", baseline, spread(res.baseline_s)),
            ("  engine, cells prepared beforehand (untimed)", med(res.engine_prepared_s),
             spread(res.engine_prepared_s)),
            ("  rendering the baseline's prompts (untimed)", res.prepare_s, "")]
    print(f"  {'':<46} {'seconds':>8}  {'calls/s':>8}   repeats")
    for label, s, sp in rows:
        rate = f"{plan.calls / s:8.1f}" if "rendering" not in label else f"{'':>8}"
        print(f"  {label:<46} {s:8.3f}  {rate}   {sp}")
    paired = med([e / b for e, b in zip(res.engine_s, res.baseline_s, strict=True)])
    ratios = {"engine/baseline": engine / baseline,
              "engine/baseline, paired (median of per-repeat ratios)": paired,
              "engine/baseline, client CPU seconds": med(res.engine_cpu_s) / med(res.baseline_cpu_s),
              "engine/ideal": engine / ideal,
              "baseline/ideal": baseline / ideal,
              "engine (cells prepared beforehand)/baseline": med(res.engine_prepared_s) / baseline}
    print(f"  client CPU: engine {med(res.engine_cpu_s):.3f} s, baseline {med(res.baseline_cpu_s):.3f} s "
          f"(litellm's own cost: {med(res.baseline_cpu_s) / plan.calls * 1000:.2f} ms of CPU per call)")
    print()
    for name, value in ratios.items():
        print(f"  {name:<54} {value:6.3f}×")
    calls_ok = all(c == plan.calls for c in res.engine_calls)
    errs = [e for e in res.engine_errors if e] + [e for e in res.baseline_errors if e]
    print(f"  engine model calls per run: {res.engine_calls} ({'all' if calls_ok else 'NOT all'} cells called)"
          f"; errors: {errs or 'none'}")
    status = "PASS" if ratios["engine/baseline"] <= TARGET_RATIO else "MISS"
    print(f"\nTarget: engine wall time <= {TARGET_RATIO:.2f}× plain litellm + gather: {status} "
          f"({ratios['engine/baseline']:.3f}×)")
    rr = res.rerun
    rerun_status = "PASS" if rr["model_calls"] == 0 and rr["litellm_calls"] == 0 and rr["computed"] == 0 else "MISS"
    print(f"Rerun of the finished folder: {rr['computed']} cells computed, {rr['skipped']} already done, "
          f"{rr['seconds']:.3f} s\nmodel calls: {rr['model_calls']} (litellm.acompletion calls counted: "
          f"{rr['litellm_calls']}): {rerun_status}")
    return {"plan": {**asdict(plan), "calls": plan.calls, "ideal_s": ideal}, "results": asdict(res),
            "medians": {"engine_s": engine, "baseline_s": baseline, "ideal_s": ideal,
                        "engine_prepared_s": med(res.engine_prepared_s)}, "ratios": ratios,
            "verdict": {"target": f"engine <= {TARGET_RATIO:.2f}× litellm + gather", "status": status,
                        "rerun_zero_calls": rerun_status},
            "environment": environment()}


def environment() -> dict[str, Any]:
    return {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
            "litellm": version("litellm"), "httpx": httpx.__version__}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="50 samples × 2 variants, one repeat")
    parser.add_argument("--samples", type=int, help="samples in the eval set (default 200; quick 50)")
    parser.add_argument("--variants", type=int, choices=range(1, len(VARIANTS) + 1),
                        help="variants (default 4; quick 2)")
    parser.add_argument("--repeats", type=int, help="interleaved repeats (default 3; quick 1)")
    parser.add_argument("--concurrency", type=int, default=32, help="in-flight calls, both sides (default 32)")
    parser.add_argument("--latency-ms", type=float, default=50.0, help="server latency (default 50)")
    parser.add_argument("--in-process", action="store_true", help="run the server in a thread of this process")
    parser.add_argument("--json", type=Path, metavar="OUT", help="write the results as JSON here")
    parser.add_argument("--profile", type=Path, metavar="OUT",
                        help="also profile one engine run against a 0 ms server (cProfile stats to OUT)")
    args = parser.parse_args(argv)
    kw = {k: v for k, v in (("samples", args.samples), ("variants", args.variants), ("repeats", args.repeats))
          if v is not None}
    kw.update(concurrency=args.concurrency, latency_ms=args.latency_ms)
    plan = Plan.quick(**kw) if args.quick else Plan(**kw)
    workdir = Path(tempfile.mkdtemp(prefix="bench-experiments-"))
    try:
        print(f"-- {plan.calls} calls at {plan.latency_ms:g} ms, concurrency {plan.concurrency} ...", flush=True)
        with fault_server(plan.latency_ms, args.in_process) as url:
            res = asyncio.run(measure(plan, url, workdir))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    data = report(plan, res)
    if args.profile:
        print(f"\n-- cProfile of one engine run against a 0 ms server ({plan.calls} calls) -> {args.profile}")
        args.profile.parent.mkdir(parents=True, exist_ok=True)
        print(profile_engine(plan, args.in_process, args.profile))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(data, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
