"""``Runner``: the exported config's ``Pipeline`` on every input, with split, caches, degradation, escalation,
metrics and the log store around it. ``run`` / ``arun`` never raise for bad input or a failing provider.

    runner = Runner.from_config("configs/pipeline.yaml")        # or a ProductionConfig
    line = runner.run({"id": "q1", "question": "...", "documents": [...]}).to_line()

Flow per input: sticky split → variant; ① validation (a rejected input is ``rejected`` or, for a code in
``escalation.rejected_codes``, ``escalated``) → the variant's ``Pipeline`` (its semantic and exact caches as the
variant's ``cache`` settings say, retries, fallbacks) → on a model failure, the offline model, else the selected context (``degraded``) → an output
still invalid, or a failure nothing covered → ``escalated`` (a row in the escalation table) → metrics and one row in
the log store (written in the background, in batches: ``requestlog``). A log-store failure never loses the result:
it is counted, reported once on stderr, and the result is returned as it is.
"""
from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import functools
import sqlite3
import sys
import time
import warnings
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._util.paths import workspace
from ..caches.exact import ResponseCache
from ..chunking.select import format_context
from ..config.production import ProductionConfig, load_production_config
from ..inputs.pii import holds_personal_data
from ..inputs.shape import printable, shape_problem
from ..models.records import Completion
from ..models.wrappers import Model
from ..pipeline import Pipeline, Prepared, Result, Status
from ..store import escalation, logstore, rows
from ..store.requestlog import RequestLog, WriteBehind
from .metrics import Metrics
from .result import RunnerResult


@dataclass
class _Turn:
    """Work state of one input while it goes through the runner."""

    inputs: Any
    start: float
    variant: str | None = None
    pipeline: Pipeline | None = None
    prepared: Prepared | Result | None = None
    result: Result | None = None
    offline: Completion | None = None
    done: RunnerResult | None = None
    escalate: str | None = None
    escalate_output: str | None = None

    @property
    def item_id(self) -> Any:
        return self.inputs.get("id") if isinstance(self.inputs, dict) else None


class _TolerantCache(ResponseCache):
    """The exact response cache, where a disk error is a miss, never a failed request (writes happen behind, and
    a failed batch is dropped: ``ResponseCache._write``)."""

    def get(self, key: str, max_age: float | None = None) -> Completion | None:
        """The cached completion, or None (a disk error is a miss)."""
        try:
            return super().get(key, max_age)
        except sqlite3.Error:
            return None


@dataclass(frozen=True)
class Reporting:
    """How the runner reports each finished request: counted in ``metrics``, and one row in the log store
    written behind the request."""

    metrics: Metrics | None = None
    """The registry requests are counted in (None: a new one, the runner's own)."""
    log_write_behind: WriteBehind | None = field(default_factory=WriteBehind)
    """How request rows are batched on their way to the log store (None: each row written at once)."""


class Runner:
    """Runs an exported ``ProductionConfig``; one ``Pipeline`` per variant, built once."""

    def __init__(self, config: ProductionConfig, *, db_url: str | None = None, models: dict[str, Model] | None = None,
                 cache_path: str | Path | None = None, clock: Callable[[], float] = time.time,
                 reporting: Reporting | None = None):
        """``db_url``: the log store (else ``$WORKBENCH_DB_URL``, else SQLite in the workspace); ``models``: tier ->
        model overrides (tests); ``cache_path``: folder of the response caches (else ``<workspace>/runner``);
        ``reporting``: its metrics registry and how request rows are written (default ``Reporting()``)."""
        reporting = reporting or Reporting()
        self.config, self.clock = config, clock
        self.db_url = db_url or logstore.default_db_url()
        self.metrics = reporting.metrics or Metrics()
        self._cache_dir = Path(cache_path) if cache_path else workspace("runner")
        wants = [cfg.cache for cfg in config.variants.values()]
        self._exact = self._open_exact() if any(c.exact for c in wants) else None
        self._semantic = {name: self._open_semantic(cfg) for name, cfg in config.variants.items()}
        self.pipelines = {name: Pipeline(cfg, cache=self._exact, semantic=self._semantic[name], models=models)
                          for name, cfg in config.variants.items()}
        self._offline: Model | None = None
        self.log = RequestLog(self.db_url, retention_days=config.logging.retention_days, clock=clock,
                              on_error=self.metrics.log_errors_total.inc,
                              write_behind=reporting.log_write_behind)
        self.log.open()

    @classmethod
    def from_config(cls, source: str | Path | ProductionConfig, *, allow_stand_in_evidence: bool = False,
                    **kw: Any) -> Runner:
        """A runner for an exported config file (schema and hash checked) or a ``ProductionConfig``. Refused
        (``UsageError``, exit 2) when real models would answer a config whose evidence offline stand-ins measured,
        unless the export or ``allow_stand_in_evidence`` accepted it; an accepted override is said on stderr and
        recorded in the log store's ``events``."""
        config = source if isinstance(source, ProductionConfig) else load_production_config(source)
        notes = config.check_stand_in_evidence(allow_stand_in_evidence)
        runner = cls(config, **kw)
        for note in notes:
            runner.record_event("override", note)
        return runner

    def check_log_store(self) -> None:
        """Exit 2 when the log store cannot be opened now: a bad ``--db`` is refused before any work, instead of
        every row being lost. (Once running, a store that fails is tolerated and counted.) The store's own error
        when it says how to repair it (a damaged file: ``mv FILE FILE.broken``; a read-only folder; a file URL
        for an in-memory one), else ``ConfigError``."""
        if self.log.open() is None:
            from ..errors import ConfigError, LogStoreError

            error = self.log.open_error
            if isinstance(error, LogStoreError) and error.hint:
                raise error from None
            raise ConfigError(getattr(error, "message", None) or f"cannot open the log store "
                              f"{logstore.safe_url(self.db_url)}: {type(error).__name__}: {error}",
                              hint="check --db / WORKBENCH_DB_URL: e.g. sqlite:////abs/path/log.db or "
                                   "postgresql+psycopg://user@host/db")

    def record_event(self, kind: str, detail: str) -> None:
        """Say ``detail`` on stderr and keep it in the log store's ``events`` table (an override, a warning)."""
        print(f"workbench runner: {kind}: {detail}", file=sys.stderr)
        config_hash = self.config.config_hash
        self.log.write(lambda store: store.log_event(kind, detail, config_hash))

    def __repr__(self) -> str:
        return f"Runner({self.config.name!r}, variants={list(self.pipelines)}, store={logstore.safe_url(self.db_url)!r})"

    @property
    def store(self) -> logstore.LogStore | None:
        """The log store with every request so far written (None while it cannot be opened)."""
        self.log.flush()
        return self.log.open()

    @property
    def log_errors(self) -> int:
        """Log rows lost to log-store errors so far (each request's result was returned anyway)."""
        self.log.flush()
        return self.log.errors

    def flush(self) -> None:
        """Wait until every request row and cache entry so far is written."""
        if self._exact is not None:
            self._exact.flush()
        for cache in self._semantic.values():
            flush = getattr(cache, "flush", None)  # a semantic cache that writes at once may have none
            if flush is not None:
                flush()
        self.log.flush()

    def close(self) -> None:
        """Write the pending cache entries and request rows, then release the connections of every store the runner
        opened — the log store, the response cache, each variant's semantic cache — each SQLite write-ahead log
        folded back and truncated, so no purged text stays in a ``-wal``. A cache used again (a request still
        running on a retired runner) opens a new connection."""
        self.flush()
        self.log.close()
        for cache in (self._exact, *self._semantic.values()):
            close = getattr(cache, "close", None)  # a semantic cache passed in may have none
            if close is not None:
                try:
                    close()
                except Exception as e:  # noqa: BLE001 - a cache that cannot close (a disk error) stops nothing
                    print(f"workbench runner: closing a cache failed: {type(e).__name__}: {e}", file=sys.stderr)

    def warm_up(self) -> float:
        """Load what the first request would otherwise wait for — litellm (several seconds to import), the
        tokenizers, the chunkers, the prompts and the semantic cache's embedder — by preparing a tiny input on
        every variant (no model call, nothing logged). ``run``, ``serve`` and ``worker`` call it at start; returns
        the seconds it took."""
        start = time.perf_counter()
        from ..models.litellm_env import import_litellm

        litellm = import_litellm()
        with warnings.catch_warnings():  # its first completion imports much of litellm: a mocked one, no network
            warnings.simplefilter("ignore")
            litellm.completion(model="openai/warm-up", messages=[{"role": "user", "content": "warm up"}],
                               mock_response="ok")
            getattr(sys.modules.get("litellm.main"), "encoding", None)  # custom providers' tokenizer, lazily loaded
        from ..models.pricing import price_for

        price_for("openai/gpt-4o-mini")  # litellm's price map, read on the first cost
        for pipeline in self.pipelines.values():
            pipeline.warm_up()
        return time.perf_counter() - start

    def render_metrics(self) -> tuple[str, bytes]:
        """``(content_type, body)`` for ``GET /metrics``."""
        return self.metrics.render()

    # ---- setup ---------------------------------------------------------------------------------------------
    def _open_exact(self) -> ResponseCache | None:
        try:
            return _TolerantCache(self._cache_dir / "responses.sqlite", write_behind_seconds=0.2, keep=_capturable)
        except (OSError, sqlite3.Error) as e:
            warnings.warn(f"runner: exact cache disabled, cannot open it in {self._cache_dir}: {e}", RuntimeWarning,
                          stacklevel=3)
            return None

    def _open_semantic(self, variant: Any) -> Any:
        """The variant's semantic cache (its threshold and TTL) in the runner's folder, when it asks for one."""
        if not variant.cache.semantic:
            return None
        try:
            from ..caches.semantic import SemanticCache

            return SemanticCache.for_config(self._cache_dir / "semantic.sqlite", variant.cache, clock=self.clock,
                                            write_behind_seconds=0.2)
        except (ImportError, OSError, sqlite3.Error) as e:
            warnings.warn(f"runner: semantic caching is configured but unavailable ({e}); running without it",
                          RuntimeWarning, stacklevel=3)
            return None

    def _offline_model(self) -> Model:
        if self._offline is None:
            from ..models.client import ModelOptions, build_model

            self._offline = build_model(model=self.config.degradation.offline_model,
                                        options=ModelOptions(retries=0))
        return self._offline

    # ---- run -----------------------------------------------------------------------------------------------
    def run(self, inputs: dict[str, Any]) -> RunnerResult:
        """Run one input to a ``RunnerResult``; never raises for bad input or provider failures."""
        turn = self._begin(inputs)
        if turn.done is None and turn.result is None:
            try:
                turn.result = turn.pipeline.execute(turn.prepared, turn.start)
            except Exception as e:  # noqa: BLE001 - a bug below must not lose the item
                turn.result = _crashed(e)
        if self._should_degrade(turn):
            try:
                turn.offline = self._offline_model().complete(turn.prepared.messages,
                                                              **turn.pipeline.request_settings())
            except Exception:  # noqa: BLE001 - the offline model failed too: partial result or escalation
                turn.offline = None
        return self._finish(turn)

    async def arun(self, inputs: dict[str, Any], *, executor: Executor | None = None) -> RunnerResult:
        """The async twin of ``run``. Validation, chunking and rendering (up to seconds for an 8 MB input of 80
        documents) and the log-store writes happen in worker threads (``executor``'s, else the loop's default
        ones), so the event loop keeps serving other requests meanwhile (one such input used to hold ``/healthz``
        for 1.25 s)."""
        turn = await _in_thread(executor, self._begin, inputs)
        if turn.done is None and turn.result is None:
            try:
                turn.result = await turn.pipeline.aexecute(turn.prepared, turn.start)
            except Exception as e:  # noqa: BLE001
                turn.result = _crashed(e)
        if self._should_degrade(turn):
            try:
                turn.offline = await self._offline_model().acomplete(turn.prepared.messages,
                                                                     **turn.pipeline.request_settings())
            except Exception:  # noqa: BLE001
                turn.offline = None
        return await _in_thread(executor, self._finish, turn)

    def reject(self, item_id: Any, code: str, message: str) -> RunnerResult:
        """Record an input refused before the pipeline (a line that is not JSON, has no id...) and return it."""
        return self._finish(_refused(item_id, code, message))

    def _begin(self, inputs: Any) -> _Turn:
        """Shape, split and ① validation: the turn, finished early when the input is refused. An input too deep or
        holding a lone surrogate is refused before anything (hashing, logging) reads it; only its id, made
        printable, is kept."""
        shape = shape_problem(inputs) if isinstance(inputs, dict) else None
        if shape is not None:
            ident = inputs.get("id")
            return _refused(printable(ident) if isinstance(ident, str | int) else None, shape.code, shape.sentence())
        turn = _Turn(inputs, time.perf_counter())
        try:
            turn.variant = self.config.split.assign_input(inputs)
            turn.pipeline = self.pipelines[turn.variant]
            turn.prepared = turn.pipeline.prepare(inputs, shape_checked=isinstance(inputs, dict))  # walked above
            if isinstance(turn.prepared, Result):
                turn.result = turn.prepared
                turn.done = self._rejected(turn)
        except Exception as e:  # noqa: BLE001
            turn.result = _crashed(e)
        return turn

    def _should_degrade(self, turn: _Turn) -> bool:
        r = turn.result
        return (turn.done is None and r is not None and r.status == "failed" and isinstance(turn.prepared, Prepared)
                and (r.error or {}).get("code") != "invalid_output" and self.config.degradation.offline_fallback)

    # ---- outcomes ------------------------------------------------------------------------------------------
    def _finish(self, turn: _Turn) -> RunnerResult:
        if turn.done is not None:
            final = dataclasses.replace(turn.done, latency_ms=(time.perf_counter() - turn.start) * 1000.0)
        else:
            final = self._outcome(turn)  # its latency is taken now (``_from``)
        if turn.escalate is not None:
            final = dataclasses.replace(final, escalation_id=self._write_escalation(turn))
        self.metrics.observe(final)
        self._log(turn, final)
        return final

    def _outcome(self, turn: _Turn) -> RunnerResult:
        r = turn.result
        if r.status == Status.OK:
            return self._from(turn, r, Status.OK)
        if (r.error or {}).get("code") == "invalid_output":
            turn.escalate_output = r.output
            return self._escalate_or_fail(turn, r, "invalid_output", self.config.escalation.on_invalid_output)
        degraded = self._degraded(turn, r)
        if degraded is not None:
            return degraded
        return self._escalate_or_fail(turn, r, f"failed:{(r.error or {}).get('code', 'error')}",
                                      self.config.escalation.on_failure)

    def _from(self, turn: _Turn, r: Result, status: Status, **changes: Any) -> RunnerResult:
        """The runner's result for the pipeline's ``r``, with ``changes``; its latency runs to now."""
        fields = dict(
            id=turn.item_id, status=status, output=r.output, variant=turn.variant, model=r.model,
            answered_by=r.answered_by, tier=r.tier, cost_usd=None if r.cost_usd is None else float(r.cost_usd),
            saved_usd=r.saved_usd, cost_basis=r.cost_basis, cache=r.cache,
            error=None if status == Status.OK else r.error,
            fallback=self._is_fallback(turn, r.answered_by, r.tier), input_tokens=r.input_tokens,
            flags=tuple(dict.fromkeys(f.get("code") for f in r.flags if f.get("code"))),
            output_tokens=r.output_tokens, pipeline=r, latency_ms=(time.perf_counter() - turn.start) * 1000.0)
        fields.update(changes)
        return RunnerResult(**fields)

    def _rejected(self, turn: _Turn) -> RunnerResult:
        r = turn.result
        codes = {(r.error or {}).get("code")} | {f.get("code") for f in r.flags}
        listed = [c for c in self.config.escalation.rejected_codes if c in codes]
        if listed:
            turn.escalate = f"rejected:{listed[0]}"
            return self._from(turn, r, Status.ESCALATED, cost_usd=0.0)
        return self._from(turn, r, Status.REJECTED, cost_usd=0.0)

    def _escalate_or_fail(self, turn: _Turn, r: Result, reason: str, rule: bool) -> RunnerResult:
        if rule:
            turn.escalate = reason
            return self._from(turn, r, Status.ESCALATED, output=None)
        return self._from(turn, r, Status.FAILED)

    def _degraded(self, turn: _Turn, r: Result) -> RunnerResult | None:
        """The offline model's valid answer, else the selected context; None when neither is available."""
        c, prepared = turn.offline, turn.prepared
        paid = r.cost_usd if c is None or r.cost_usd is None or c.cost_usd is None else r.cost_usd + c.cost_usd
        if c is not None and turn.pipeline.output_problem(c) is None:
            return self._from(turn, r, Status.DEGRADED, output=c.text, model=c.priced_as or c.model,
                              answered_by=c.answered_by, cost_usd=paid, cost_basis=c.cost_basis, fallback=True,
                              input_tokens=r.input_tokens + c.usage.input_tokens,
                              output_tokens=r.output_tokens + c.usage.output_tokens)
        if self.config.degradation.partial_result and isinstance(prepared, Prepared) and prepared.context:
            return self._from(turn, r, Status.DEGRADED, output=format_context(prepared.context), model=None,
                              answered_by=None, cost_basis=None, fallback=False)
        return None

    def _is_fallback(self, turn: _Turn, answered_by: str | None, tier: str | None) -> bool:
        if answered_by is None or tier is None or turn.pipeline is None:
            return False
        try:
            return answered_by != turn.pipeline.model(tier).name
        except Exception:  # noqa: BLE001 - the tier's model cannot be built: nothing to compare with
            return False

    # ---- log store -----------------------------------------------------------------------------------------
    def _write_escalation(self, turn: _Turn) -> int | None:
        return self.log.write(lambda store: escalation.escalate(
            store, item_id=turn.item_id, reason=turn.escalate, inputs=turn.inputs, output=turn.escalate_output,
            redact_pii=self.config.logging.redact_pii))

    def _log(self, turn: _Turn, final: RunnerResult) -> None:
        cfg = self.config.variants.get(final.variant) if final.variant else None
        row = rows.request_row(final, turn.inputs, self.config.logging, ts=self.clock(),
                                   config_hash=cfg.hash if cfg else None)
        self.log.append(row)


def _capturable(completion: Completion) -> bool:
    """The capture policy for the runner's response cache: an answer holding personal data or a secret is never
    stored (the log store keeps only redacted text; a cache must not keep more)."""
    return not holds_personal_data(completion.text)


async def _in_thread(executor: Executor | None, fn: Callable[[Any], Any], arg: Any) -> Any:
    """``asyncio.to_thread(fn, arg)`` in ``executor``'s threads (None: the loop's default ones, as ``to_thread``)."""
    call = functools.partial(contextvars.copy_context().run, fn, arg)
    return await asyncio.get_running_loop().run_in_executor(executor, call)


def _refused(item_id: Any, code: str, message: str) -> _Turn:
    """A turn done before the pipeline: a rejection with this code."""
    turn = _Turn({"id": item_id} if item_id is not None else None, time.perf_counter())
    turn.done = RunnerResult(item_id, Status.REJECTED, error={"code": code, "message": message})
    return turn


def _crashed(error: BaseException) -> Result:
    """A failed ``Result`` for an unexpected exception (a bug): the item still gets a line."""
    return Result(Status.FAILED, error={"code": "internal_error", "message": _short(error)}, cost_usd=0.0)


def _short(error: BaseException, limit: int = 300) -> str:
    text = " ".join(f"{type(error).__name__}: {getattr(error, 'message', None) or error}".split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
