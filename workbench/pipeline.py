"""``Pipeline(config)(inputs) -> Result``: the one path that experiments score and production runs.

① validate / normalise / classify the input (the config's ``InputPolicy``) → ② chunk the documents and select
context within the token budget → ③ render the pinned prompt → ④ call the model of the routed tier, with
retries and fallbacks (and the response cache) → validate the output → ``Result``.

Bad input or a failing provider never raises out of ``run``: it is a ``Result`` with a status and an error code.
"""
from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from .chunking.base import Chunk, ChunkerConfig, make_chunker
from .chunking.select import format_context, select_context
from .config.pipeline import PipelineConfig
from .errors import WorkbenchError
from .caches.exact import ResponseCache
from .models.client import build_model
from .models.records import Completion
from .models.wrappers import Model



class Status(StrEnum):
    """What happened to one input: the one set of status values for pipeline results, runner output lines, log
    rows and monitoring (a ``str``, so it compares and serialises as its value)."""

    OK = "ok"
    """A valid answer."""
    DEGRADED = "degraded"
    """The runner's degradation answered: the offline model, or the selected context as a partial result."""
    ESCALATED = "escalated"
    """Sent to a human (the escalation table) under the config's escalation rules."""
    REJECTED = "rejected"
    """The input policy refused the input (or the line was not a usable input)."""
    FAILED = "failed"
    """No valid answer, and nothing covered the failure."""


@dataclass(frozen=True)
class Result:
    """What the pipeline did with one input."""

    status: Status
    """``ok``; ``rejected`` (the input policy refused it); ``failed`` (no valid answer); ``degraded`` /
    ``escalated`` are set by the runner's degradation and escalation rules."""
    output: str | None = None
    """The answer text."""
    data: Any = None
    """The parsed structured answer when the prompt asks for JSON."""
    model: str | None = None
    """The model that answered."""
    priced_as: str | None = None
    """The model whose price applies (the real model for an offline stand-in; see ``Completion.priced_as``)."""
    tier: str | None = None
    """The tier the input was routed to (the answering model may be a fallback of it)."""
    cost_usd: float | None = None
    """What this run paid: the model calls, retries included; 0 for a cache hit or a rejected input (None when
    unpriced)."""
    answer_cost_usd: float | None = None
    """What the answer costs without the cache (a cache hit keeps the cost of the call that made it): the cost
    per item of a variant, which experiments compare."""
    cost_basis: str | None = None
    """How the cost was obtained (see ``workbench.models.records.CostBasis``)."""
    latency_ms: float = 0.0
    """Wall time of the whole run."""
    input_tokens: int = 0
    output_tokens: int = 0
    cache: Literal["miss", "exact", "semantic"] = "miss"
    """Whether the answer came from a cache."""
    error: dict[str, str] | None = None
    """``{"code", "message"}`` when the status is not ``ok``."""
    input_status: str | None = None
    """The input policy's verdict: accepted / flagged / rejected."""
    classes: dict[str, Any] = field(default_factory=dict)
    """Input classes (language, length, content_type) used for routing."""
    flags: list[dict[str, Any]] = field(default_factory=list)
    """The input policy's flags."""
    context: list[dict[str, Any]] = field(default_factory=list)
    """The selected chunks: ``{"source", "start", "end", "tokens", "section"}``."""
    attempts: int = 0
    """Requests sent to models (cache hits excluded)."""
    config_hash: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Prepared:
    """An input made ready for the model: its messages and the tier it is routed to."""

    messages: list[dict[str, str]]
    tier: str
    check: Any
    context: list[Chunk]


class Pipeline:
    """Runs a ``PipelineConfig``. Cheap to call many times: chunkers, models and chunked documents are reused."""

    def __init__(self, config: PipelineConfig, *, cache: ResponseCache | Literal["auto"] | None = "auto",
                 models: dict[str, Model] | None = None, max_concurrency: int | None = None,
                 chunk_cache: dict | None = None):
        """``cache="auto"``: the workspace response cache when ``config.cache.exact``; ``None``: no cache.
        ``models`` maps tier names to ready models (tests, or a runner with its own wrappers); ``chunk_cache``
        shares chunked documents between pipelines with the same chunker (experiments)."""
        self.config = config
        self.chunker: ChunkerConfig = make_chunker(**config.context.chunking)
        self._cache = (ResponseCache() if config.cache.exact else None) if cache == "auto" else cache
        self._models: dict[str, Model] = dict(models or {})
        self._max_concurrency = max_concurrency
        self._chunked: dict[tuple, list[Chunk]] = chunk_cache if chunk_cache is not None else {}
        self._chunker_key = json.dumps(self.chunker.dump(), sort_keys=True)

    # ---- ① ② ③ -------------------------------------------------------------------------------------------
    def prepare(self, inputs: dict[str, Any], check: Any = None) -> Prepared | Result:
        """Validate, select context and render; a rejected input comes back as a ``Result``. ``check`` is this
        config's input-policy result for ``inputs`` when the caller already has it (it is the same for every
        variant that shares the policy)."""
        check = check if check is not None else self.config.input_policy.check(inputs)
        if check.status == "rejected":
            return Result(Status.REJECTED, error={"code": check.code, "message": check.message}, cost_usd=0.0,
                          answer_cost_usd=0.0,
                          input_status=check.status, classes=dict(check.classes),
                          flags=[f.to_dict() for f in check.flags], config_hash=self.config.hash)
        clean = check.normalised if isinstance(check.normalised, dict) else inputs
        question = str(clean.get("question", ""))
        chunks = [c for d in clean.get("documents") or [] for c in self._chunks(d)]
        ctx = self.config.context
        chosen = select_context(question, chunks, max_tokens=ctx.max_context_tokens, top_k=ctx.top_k,
                                method=ctx.selection)
        tier = self.route(check.classes, check.status == "flagged", question)
        values = {"question": question, "context": format_context(chosen)}
        values = {k: v for k, v in values.items() if k in self.config.prompt.variables}
        messages = self.config.prompt.render(values, model=self.config.tiers[tier].model)
        return Prepared(messages, tier, check, chosen)

    def _chunks(self, doc: Any) -> list[Chunk]:
        doc_id, text = (str(doc.get("id", "")), str(doc.get("text", ""))) if isinstance(doc, dict) else ("", str(doc))
        key = (self._chunker_key, doc_id, text)
        if key not in self._chunked:
            if len(self._chunked) > 2048:
                self._chunked.clear()
            self._chunked[key] = self.chunker.chunk(text, source=doc_id or None)
        return self._chunked[key]

    def route(self, classes: dict[str, Any], flagged: bool, question: str) -> str:
        """The tier for an input: the first matching routing rule, else the config's tier."""
        for rule in self.config.routing:
            if rule.matches(classes, flagged, len(question)):
                return rule.tier
        return self.config.tier

    # ---- ④ -------------------------------------------------------------------------------------------------
    def model(self, tier: str) -> Model:
        """The composed model for a tier: retries, the config's fallback chain, cache, concurrency limit."""
        if tier not in self._models:
            from .models.wrappers import CachedModel, FallbackModel, LimitedModel

            tiers = self.config.tier_set()
            chain = [build_model(t, tiers=tiers, retries=self.config.retries, fallbacks=False)
                     for t in [tier, *self.config.fallback_chain(tier)]]
            model: Model = chain[0] if len(chain) == 1 else FallbackModel(chain)
            if self._cache is not None:
                model = CachedModel(model, self._cache)
            if self._max_concurrency:
                model = LimitedModel(model, self._max_concurrency)
            self._models[tier] = model
        return self._models[tier]

    def _settings(self) -> dict[str, Any]:
        settings = dict(self.config.params)
        schema = self.config.output.json_schema or self.config.prompt.output_schema
        if schema:
            settings["response_format"] = {"type": "json_schema",
                                           "json_schema": {"name": self.config.prompt.id, "schema": schema}}
        return settings

    def __call__(self, inputs: dict[str, Any]) -> Result:
        return self.run(inputs)

    def run(self, inputs: dict[str, Any]) -> Result:
        start = time.perf_counter()
        return self.execute(self.prepare(inputs), start)

    async def arun(self, inputs: dict[str, Any]) -> Result:
        start = time.perf_counter()
        return await self.aexecute(self.prepare(inputs), start)

    def execute(self, prepared: Prepared | Result, start: float | None = None) -> Result:
        """Step ④ and output validation for a prepared input (a ``Result`` passes through)."""
        start = time.perf_counter() if start is None else start
        if isinstance(prepared, Result):
            return dataclasses.replace(prepared, latency_ms=(time.perf_counter() - start) * 1000)
        completions: list[Completion] = []
        for _ in range(self.config.output.retries + 1):
            try:
                completions.append(self.model(prepared.tier).complete(prepared.messages, **self._settings()))
            except WorkbenchError as e:
                return self._result(prepared, completions, start, error=e)
            if self.output_problem(completions[-1]) is None:
                break
        return self._result(prepared, completions, start)

    async def aexecute(self, prepared: Prepared | Result, start: float | None = None) -> Result:
        """The async twin of ``execute``."""
        start = time.perf_counter() if start is None else start
        if isinstance(prepared, Result):
            return dataclasses.replace(prepared, latency_ms=(time.perf_counter() - start) * 1000)
        completions: list[Completion] = []
        for _ in range(self.config.output.retries + 1):
            try:
                completions.append(await self.model(prepared.tier).acomplete(prepared.messages, **self._settings()))
            except WorkbenchError as e:
                return self._result(prepared, completions, start, error=e)
            if self.output_problem(completions[-1]) is None:
                break
        return self._result(prepared, completions, start)

    # ---- output --------------------------------------------------------------------------------------------
    def output_problem(self, c: Completion) -> str | None:
        """Why an answer is invalid (None when it is valid)."""
        rules = self.config.output
        text = c.text or ""
        if rules.non_empty and not text.strip() and not c.tool_calls:
            return "the model returned an empty answer"
        if len(text) > rules.max_chars:
            return f"the answer is {len(text)} characters, over the {rules.max_chars} allowed"
        schema = rules.json_schema or self.config.prompt.output_schema
        if schema:
            return _schema_problem(c.data if c.data is not None else text, schema)
        return None

    def _result(self, p: Prepared, completions: list[Completion], start: float,
                error: WorkbenchError | None = None) -> Result:
        last = completions[-1] if completions else None
        problem = self.output_problem(last) if last is not None and error is None else None
        status = Status.OK if last is not None and error is None and problem is None else Status.FAILED
        err = error.to_dict() if error else ({"code": "invalid_output", "message": problem} if problem else None)
        costs = [c.cost_usd for c in completions]
        answer_cost = None if any(x is None for x in costs) else sum(costs)
        paid = None if any(c.cost_usd is None for c in completions if not c.cached) else \
            sum(c.cost_usd for c in completions if not c.cached)
        return Result(
            status=status, output=last.text if last else None, data=last.data if last else None,
            model=last.model if last else None, priced_as=last.priced_as if last else None, tier=p.tier,
            cost_usd=paid, answer_cost_usd=answer_cost,
            cost_basis=last.cost_basis if last else None, latency_ms=(time.perf_counter() - start) * 1000,
            input_tokens=sum(c.usage.input_tokens for c in completions),
            output_tokens=sum(c.usage.output_tokens for c in completions),
            cache="exact" if last is not None and last.cached else "miss", error=err,
            input_status=p.check.status, classes=dict(p.check.classes), flags=[f.to_dict() for f in p.check.flags],
            context=[{"source": c.source, "start": c.start, "end": c.end, "tokens": c.tokens,
                      "section": list(c.section)} for c in p.context],
            attempts=sum(len(c.attempts) for c in completions if not c.cached) + _failed_attempts(error),
            config_hash=self.config.hash)


def _failed_attempts(error: WorkbenchError | None) -> int:
    if error is None:
        return 0
    return len(getattr(error, "attempts", None) or error.details.get("attempts") or ()) or 1


def _schema_problem(value: Any, schema: dict[str, Any]) -> str | None:
    import jsonschema

    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return "the answer is not valid JSON"
    try:
        jsonschema.validate(value, schema)
    except jsonschema.ValidationError as e:
        return f"the answer does not match the schema at {'/'.join(map(str, e.absolute_path)) or '/'}: {e.message}"
    return None
