"""Run variants × samples × repeats, async with a concurrency limit; resumable; budget-checked.

A run folder holds ``manifest.json`` (eval-set hash, variant configs and hashes, package version, spec) and
``records.jsonl``, one ``RunRecord`` per finished cell, appended as cells finish. Running again computes only the
missing cells: an interrupted run resumes, a finished one makes zero model calls.

    exp = Experiment.from_spec(ExperimentSpec.load("experiments/prompt_variants_across_tiers.yaml"), "build/runs/x")
    exp.estimate()             # cells, tokens, estimated cost — before spending anything
    summary = exp.run()        # in Jupyter: await exp.arun()  (run() also works: it uses a worker thread)
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config.pipeline import PipelineConfig
from ..errors import BudgetExceededError, ConfigError, WorkbenchError
from ..evalsets.evalset import EvalSet, Sample, load_evalset
from ..pipeline import Pipeline, Prepared, Result
from .records import RunRecord
from .spec import ExperimentSpec

Cell = tuple[str, Sample, int]


@dataclass(frozen=True)
class Estimate:
    """What a run would cost, from prompt token counts and prices, before any call."""

    cells: int
    pending: int
    input_tokens: int
    cost_usd: float
    unpriced_cells: int
    by_variant: dict[str, float] = field(default_factory=dict)

    def __str__(self) -> str:
        unpriced = f", {self.unpriced_cells} cells unpriced" if self.unpriced_cells else ""
        return (f"{self.pending} of {self.cells} cells to run, {self.input_tokens:,} prompt tokens, "
                f"estimated ${self.cost_usd:.4f}{unpriced}")


@dataclass(frozen=True)
class RunSummary:
    """What a run did: cells computed now, cells already done, model calls, errors by code."""

    computed: int
    skipped: int
    model_calls: int
    errors: dict[str, int]
    seconds: float
    out: Path

    def __str__(self) -> str:
        errors = ", ".join(f"{k} ×{v}" for k, v in self.errors.items()) or "none"
        return (f"{self.computed} cells computed, {self.skipped} already done, errors: {errors}, "
                f"{self.seconds:.1f} s\nmodel calls: {self.model_calls}")


@dataclass(frozen=True)
class RunOptions:
    """How an experiment runs its cells, e.g. ``RunOptions(repeats=3, cache=None)``."""

    repeats: int = 1
    """Runs of every (variant, sample) cell."""
    concurrency: int = 16
    """Cells in flight at once."""
    budget_usd: float | None = None
    """A run estimated above this many USD is refused unless confirmed (None: no budget)."""
    expected_output_tokens: int = 60
    """Output tokens per call assumed by the cost estimate before the run."""
    allow_unpriced: bool = False
    """With a budget, run even though some cells are unpriced (their cost cannot be kept under the cap)."""
    cache: Any = "auto"
    """The exact response cache: ``"auto"`` (the workspace's), ``None`` (none) or a ``ResponseStore``; used
    only where a variant's ``cache`` config turns it on."""
    models: dict[str, Any] | None = None
    """tier -> ``Model`` replacing the tiers' models in every variant (benchmarks, tests)."""


class Experiment:
    """An eval set, named variants (each a ``PipelineConfig``), extra scorers, and a run folder. ``options``:
    how the cells run (default ``RunOptions()``); ``spec``: the spec it came from (kept in the manifest)."""

    def __init__(self, evalset: EvalSet, variants: dict[str, PipelineConfig], out: str | Path, *,
                 scorers: list[Any] = (), options: RunOptions | None = None,
                 spec: ExperimentSpec | None = None):
        if not variants:
            raise ConfigError("an experiment needs at least one variant")
        self.evalset, self.variants, self.out = evalset, dict(variants), Path(out)
        self.scorers, self.options, self.spec = list(scorers), options or RunOptions(), spec
        chunks: dict = {}
        cache, models = self.options.cache, self.options.models
        self.pipelines = {n: Pipeline(c, cache=cache, chunk_cache=chunks, models=models)
                          for n, c in self.variants.items()}
        self._prepared: dict[tuple[str, str], Prepared | Result] = {}
        self._policy_keys = {n: c.input_policy.model_dump_json() for n, c in self.variants.items()}
        """Variants with equal input policies share each sample's check."""
        self._inputs: dict[str, dict[str, Any]] = {}

    @classmethod
    def from_spec(cls, spec: ExperimentSpec, out: str | Path | None = None, *, cache: Any = "auto",
                  models: dict[str, Any] | None = None) -> Experiment:
        """The experiment a spec describes, run with its repeats, concurrency, budget and expected output
        tokens (``cache`` and ``models`` as in ``RunOptions``). ``out`` defaults to
        ``$WORKBENCH_HOME/runs/<name>-<eval-set hash>``, so a new version of the eval set starts a new run
        folder instead of mixing records."""
        from .._util.paths import workspace

        evalset = load_evalset(spec.evalset)
        if spec.limit:
            evalset = _first_stratified(evalset, spec.limit)
        out = out or workspace("runs", f"{spec.name}-{evalset.hash.removeprefix('sha256:')[:10]}")
        base = PipelineConfig.build(**spec.base)
        variants = {name: base.variant(**changes) if changes else base for name, changes in spec.variant_changes()}
        options = RunOptions(repeats=spec.repeats, concurrency=spec.concurrency, budget_usd=spec.budget_usd,
                             expected_output_tokens=spec.expected_output_tokens, cache=cache, models=models,
                             allow_unpriced=spec.allow_unpriced)
        return cls(evalset, variants, out, scorers=list(spec.scorers), options=options, spec=spec)

    # ---- the run folder -------------------------------------------------------------------------------------
    @property
    def records_path(self) -> Path:
        """The run folder's ``records.jsonl``."""
        return self.out / "records.jsonl"

    def done_keys(self) -> set[tuple[str, str, int]]:
        """Keys of finished cells (a line cut short by an interrupted write is ignored and recomputed)."""
        if not self.records_path.exists():
            return set()
        keys = set()
        for line in self.records_path.read_text(encoding="utf-8").splitlines():
            try:
                d = json.loads(line)
                keys.add((d["config_hash"], d["sample_id"], d["repeat"]))
            except (ValueError, KeyError, TypeError):
                continue
        return keys

    def cells(self) -> list[Cell]:
        """Every (variant, sample, repeat) cell of the run, done or not."""
        return [(v, s, r) for v in self.variants for s in self.evalset for r in range(self.options.repeats)]

    def pending(self) -> list[Cell]:
        """The cells without a record yet (the key uses the variant's hash, so an edited variant runs again)."""
        done = self.done_keys()
        return [(v, s, r) for v, s, r in self.cells() if (self.variants[v].hash, s.id, r) not in done]

    def _write_manifest(self) -> None:
        from .. import __version__

        self.out.mkdir(parents=True, exist_ok=True)
        path = self.out / "manifest.json"
        manifest = {
            "name": self.spec.name if self.spec else self.out.name, "workbench_version": __version__,
            "evalset": {"name": self.evalset.name, "version": self.evalset.version, "hash": self.evalset.hash,
                        "samples": len(self.evalset)},
            "variants": {n: {"config_hash": c.hash, "label": c.label, "config": c.model_dump(mode="json")}
                         for n, c in self.variants.items()},
            "scorers": [s if isinstance(s, dict) else s.model_dump(mode="json") for s in self.scorers],
            "repeats": self.options.repeats, "spec": self.spec.model_dump(mode="json") if self.spec else None,
        }
        if path.exists():
            old = json.loads(path.read_text(encoding="utf-8"))
            if old.get("evalset", {}).get("hash") != manifest["evalset"]["hash"]:
                raise ConfigError(f"{self.out} holds a run over another eval set "
                                  f"({old.get('evalset', {}).get('hash', '?')[:19]})",
                                  hint="use a new output folder for a new eval set")
            manifest["created"] = old.get("created")
        manifest["created"] = manifest.get("created") or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")

    # ---- before the run -------------------------------------------------------------------------------------
    def _prepare(self, variant: str, sample: Sample, checks: dict) -> Prepared | Result:
        key = (variant, sample.id)
        if key not in self._prepared:
            pipeline = self.pipelines[variant]
            policy_key = (self._policy_keys[variant], sample.id)
            inputs = self._inputs.get(sample.id)
            if inputs is None:
                inputs = self._inputs[sample.id] = sample.inputs.model_dump()
            if policy_key not in checks:
                checks[policy_key] = pipeline.config.input_policy.check(inputs)
            self._prepared[key] = pipeline.prepare(inputs, check=checks[policy_key])
        return self._prepared[key]

    def estimate(self) -> Estimate:
        """Prompt tokens and cost of the pending cells, from token counts and prices (no model call)."""
        from ..models.records import Usage
        from ..models.tiers import tier_price
        from ..models.tokens import tokenizer_for

        checks: dict = {}
        tokens = unpriced = 0
        cost = 0.0
        by_variant: dict[str, float] = {}
        pending = self.pending()
        for variant, sample, _ in pending:
            prepared = self._prepare(variant, sample, checks)
            if isinstance(prepared, Result):
                continue
            tier = self.variants[variant].tiers[prepared.tier]
            n = tokenizer_for(tier.model).count_messages(prepared.messages)
            price = tier_price(tier)
            tokens += n
            if price is None:
                unpriced += 1
                continue
            c = price.cost(Usage(n, self.options.expected_output_tokens))
            cost += c
            by_variant[variant] = by_variant.get(variant, 0.0) + c
        return Estimate(len(self.cells()), len(pending), tokens, cost, unpriced, by_variant)

    # ---- the run --------------------------------------------------------------------------------------------
    def run(self, *, confirm: bool = False, progress: bool = True) -> RunSummary:
        """Run the pending cells. Inside a running event loop (Jupyter) it runs in a worker thread."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self.arun(confirm=confirm, progress=progress))
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, self.arun(confirm=confirm, progress=progress)).result()

    def check_budget(self) -> None:
        """With a budget: ``BudgetExceededError`` when the estimate is over it, or when any pending cell is unpriced
        (its cost could be anything) unless ``allow_unpriced``."""
        budget = self.options.budget_usd
        if budget is None:
            return
        est = self.estimate()
        if est.unpriced_cells and not self.options.allow_unpriced:
            raise BudgetExceededError(f"cannot keep the budget of ${budget:.2f}: {est.unpriced_cells} cells are "
                                      f"unpriced ({est})", code="budget_unverifiable",
                                      hint="give the model a price (configs/tiers.yaml `price:`), or run with "
                                           "--allow-unpriced (allow_unpriced: true in the spec)")
        if est.cost_usd > budget:
            raise BudgetExceededError(f"estimated ${est.cost_usd:.2f} is over the budget of ${budget:.2f} ({est})",
                                      hint="raise budget_usd, use fewer samples/variants, or confirm the run")

    async def arun(self, *, confirm: bool = False, progress: bool = True) -> RunSummary:
        """Async twin of ``run``: the pending cells, ``concurrency`` at a time, each record appended as it finishes.
        ``BudgetExceededError`` when the estimate is over ``budget_usd`` and ``confirm`` is not set."""
        start = time.perf_counter()
        pending = self.pending()
        skipped = len(self.cells()) - len(pending)
        self._write_manifest()
        if pending and not confirm:
            self.check_budget()
        records = await self._run_cells(pending, progress)
        errors: dict[str, int] = {}
        for r in records:
            if r.error:
                errors[r.error["code"]] = errors.get(r.error["code"], 0) + 1
        return RunSummary(len(records), skipped, sum(r.model_calls for r in records), errors,
                          time.perf_counter() - start, self.out)

    async def _run_cells(self, pending: list[Cell], progress: bool) -> list[RunRecord]:
        # A notebook executed headless (the demo) gets a text bar, which ends at its final state, not a widget
        # whose saved copy shows its first frame ("0/2040").
        if os.environ.get("WORKBENCH_PROGRESS") == "plain":
            from tqdm.std import tqdm
        else:
            from tqdm.auto import tqdm

        sem, checks, done = asyncio.Semaphore(self.options.concurrency), {}, []
        bar = tqdm(total=len(pending), desc=self.out.name, disable=not progress or not pending, unit="cell")
        self.out.mkdir(parents=True, exist_ok=True)
        _end_with_newline(self.records_path)
        with self.records_path.open("a", encoding="utf-8") as sink:
            async def one(cell: Cell) -> None:
                async with sem:
                    record = await self._cell(*cell, checks)
                sink.write(json.dumps(record.to_dict(), ensure_ascii=False) + "\n")
                sink.flush()
                done.append(record)
                bar.update()

            try:
                await asyncio.gather(*(one(c) for c in pending))
            finally:
                bar.close()
        return done

    async def _cell(self, variant: str, sample: Sample, repeat: int, checks: dict) -> RunRecord:
        pipeline = self.pipelines[variant]
        try:
            result = await pipeline.aexecute(self._prepare(variant, sample, checks))
        except WorkbenchError as e:  # execute returns results for model errors; this is a config-level failure
            result = Result("failed", error=e.to_dict(), config_hash=pipeline.config.hash)
        scores, judge_calls = await self._scores(sample, result)
        return RunRecord(
            variant=variant, config_hash=pipeline.config.hash, sample_id=sample.id, repeat=repeat,
            category=sample.category, status=result.status, output=result.output, scores=scores,
            error=result.error, model=result.model, answered_by=result.answered_by, priced_as=result.priced_as,
            tier=result.tier, input_tokens=result.input_tokens, output_tokens=result.output_tokens,
            cost_usd=result.cost_usd, saved_usd=result.saved_usd, cost_basis=result.cost_basis,
            answer_cost_usd=result.answer_cost_usd,
            latency_ms=result.latency_ms, cache=result.cache, model_calls=result.attempts + judge_calls,
            tags=list(sample.tags), expected_status=str(sample.metadata.get("expected_status", "ok")))

    async def _scores(self, sample: Sample, result: Result) -> tuple[dict[str, dict[str, Any]], int]:
        from ..scoring import ascore_all

        criteria = [*sample.criteria, *self.scorers]
        if not criteria:
            return {}, 0
        scores = await ascore_all(sample, result.output if result.status == "ok" else None, criteria)
        calls = sum(int(s.details.get("model_calls", s.details.get("repeats", 0)) or 0)
                    for s in scores if s.scorer.startswith("llm_judge"))
        return {s.scorer: {"value": s.value, "passed": s.passed, "measured": s.measured,
                           "explanation": s.explanation} for s in scores}, calls


def _end_with_newline(path: Path) -> None:
    """After a write cut short (a killed run), start the next record on a line of its own."""
    if path.exists() and path.stat().st_size:
        with path.open("rb+") as f:
            f.seek(-1, 2)
            if f.read(1) != b"\n":
                f.write(b"\n")


def _first_stratified(evalset: EvalSet, n: int) -> EvalSet:
    """The first samples of each category, in proportion, ``n`` in all (deterministic)."""
    counts = evalset.by_category()
    total = len(evalset)
    quota = {c: max(1, round(n * k / total)) if k else 0 for c, k in counts.items()}
    kept, seen = [], {c: 0 for c in counts}
    for s in evalset:
        if seen[s.category] < quota[s.category]:
            kept.append(s)
            seen[s.category] += 1
    return EvalSet(kept[:n], evalset.name, evalset.version, evalset.description, evalset.changelog)
