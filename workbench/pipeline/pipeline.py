"""``Pipeline(config)(inputs) -> Result``: the one path that experiments score and production runs.

① validate / normalise / classify the input (the config's ``InputPolicy``) → ② chunk the documents and select
context within the token budget → ③ render the pinned prompt → the semantic cache, when the config turns it on →
④ call the model of the routed tier, with retries, its fallback chain and the exact cache → validate the output →
``Result``. The config's ``cache`` settings are applied here, so an experiment and the runner cache the same way.

Bad input or a failing provider never raises out of ``run``: it is a ``Result`` with a status and an error code.
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import time
from typing import Any, Literal

from ..chunking.base import Chunk, ChunkerConfig
from ..chunking.select import format_context, select_context
from ..config.pipeline import PipelineConfig
from ..errors import WorkbenchError
from ..hashing import content_hash
from ..inputs.pii import holds_personal_data
from ..models.client import ModelOptions, build_model
from ..models.records import Completion
from ..models.wrappers import CachedModel, FallbackModel, LimitedModel, Model, ResponseStore
from .prompting import chain_messages, declared_fields, fields_problem, render
from .records import Prepared, Result, Status


class Pipeline:
    """Runs a ``PipelineConfig``. Cheap to call many times: chunkers, models and chunked documents are reused."""

    def __init__(self, config: PipelineConfig, *, cache: ResponseStore | Literal["auto"] | None = "auto",
                 semantic: Any = "auto", models: dict[str, Model] | None = None,
                 max_concurrency: int | None = None, chunk_cache: dict | None = None):
        """``cache`` / ``semantic``: the exact and semantic caches to use, ``"auto"`` for the workspace's, ``None``
        for none; each is used only when ``config.cache`` turns it on. ``models`` maps tier names to ready models
        (tests, benchmarks; the exact cache still wraps them); ``chunk_cache`` shares chunked documents between
        pipelines (experiments)."""
        self.config = config
        self.chunker: ChunkerConfig = _chunker_for(config)
        self._cache = _exact_cache(config, cache)
        self._semantic = _semantic_cache(config, semantic)
        self._given: dict[str, Model] = dict(models or {})
        self._models: dict[str, Model] = {}
        self._max_concurrency = max_concurrency
        self._chunked: dict[tuple, list[Chunk]] = chunk_cache if chunk_cache is not None else {}
        self._chunker_key = _chunker_key(self.chunker)
        self._settings = _request_settings(config)
        self._fields = declared_fields(config)
        for tier in config.entry_tiers():
            self.model(tier)  # missing credentials fail here, before any input is processed

    def warm_up(self) -> None:
        """Load the tokenizer, chunker, prompt and semantic-cache embedder now, not in the first request: prepare
        a tiny input (no model call) and embed a word."""
        self.prepare({"id": "warm-up", "question": "Warm-up question?", "documents": [{"id": "d", "text": "Warm up."}]})
        if self._semantic is not None:
            self._semantic.embedder.embed(["warm up"])

    # ---- ① ② ③ -------------------------------------------------------------------------------------------
    def prepare(self, inputs: dict[str, Any], check: Any = None, *, shape_checked: bool = False) -> Prepared | Result:
        """Validate, select context and render; a rejected input comes back as a ``Result``. ``check`` is this
        config's input-policy result for ``inputs`` when the caller already has it (it is the same for every
        variant that shares the policy); ``shape_checked``: the caller found no ``shape_problem`` in ``inputs``
        (``InputPolicy.check``)."""
        # a declared field missing or mistyped is named first; then the policy (shape, documents, text checks)
        problem = fields_problem(self._fields, inputs) if isinstance(inputs, dict) else None
        if problem is not None:  # no text check, no model call
            return Result(Status.REJECTED, error=problem, cost_usd=0.0, answer_cost_usd=0.0, input_status="rejected",
                          config_hash=self.config.hash)
        check = check if check is not None else self.config.input_policy.check(inputs, shape_checked=shape_checked)
        if check.status == "rejected":
            return Result(Status.REJECTED, error={"code": check.code, "message": check.message}, cost_usd=0.0,
                          answer_cost_usd=0.0,
                          input_status=check.status, classes=dict(check.classes),
                          flags=[f.to_dict() for f in check.flags], config_hash=self.config.hash)
        clean = check.normalised if isinstance(check.normalised, dict) else inputs
        question = clean.get("question") if isinstance(clean.get("question"), str) else ""
        chunks = [c for d in clean.get("documents") or [] for c in self._chunks(d)]
        ctx = self.config.context
        chosen = select_context(question, chunks, max_tokens=ctx.max_context_tokens, top_k=ctx.top_k,
                                method=ctx.selection)
        tier = self.route(check.classes, check.status == "flagged", question)
        values = {**{k: clean[k] for k in self._fields if k in clean}, "context": format_context(chosen)}
        messages = render(self.config.prompt_for(tier), values, self.config.tiers[tier].model)
        docs = _documents_hash(clean.get("documents") or []) if self._semantic is not None else ""
        return Prepared(messages, tier, check, chosen, question, values, docs)

    def _messages(self, prepared: Prepared) -> list[dict[str, Any]]:
        """The request's messages: with a fallback chain, each model's own (``chain_messages``)."""
        if prepared.tier in self._given:
            return prepared.messages
        return chain_messages(self.config, prepared)

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
        """The composed model for a tier: its fallback chain (``config.fallback_chain``), each model with retries,
        then the exact cache (with the config's TTL) and the concurrency limit."""
        if tier not in self._models:
            given = self._given.get(tier)
            links = [given] if given is not None else [
                build_model(chain=(link,), options=ModelOptions(retries=self.config.retries))
                for link in self.config.fallback_chain(tier)]
            if self._cache is not None:  # each model of the chain caches under its own request
                links = [CachedModel(m, self._cache, ttl_seconds=self.config.cache.ttl_seconds) for m in links]
            model = links[0] if len(links) == 1 else FallbackModel(links)
            if self._max_concurrency:
                model = LimitedModel(model, self._max_concurrency)
            self._models[tier] = model
        return self._models[tier]

    def request_settings(self) -> dict[str, Any]:
        """The call settings of every request: the config's ``params``, and the JSON response format when the
        output has a schema (a copy: the caller may change it)."""
        return dict(self._settings)

    def __call__(self, inputs: dict[str, Any]) -> Result:
        """Same as ``run``."""
        return self.run(inputs)

    def run(self, inputs: dict[str, Any]) -> Result:
        """Run one input through every step; a bad input or a failed call is a ``Result`` with a status and an error,
        never an exception."""
        start = time.perf_counter()
        return self.execute(self.prepare(inputs), start)

    async def arun(self, inputs: dict[str, Any]) -> Result:
        """Async twin of ``run``."""
        start = time.perf_counter()
        return await self.aexecute(self.prepare(inputs), start)

    def execute(self, prepared: Prepared | Result, start: float | None = None) -> Result:
        """Step ④ and output validation for a prepared input (a ``Result`` passes through)."""
        start = time.perf_counter() if start is None else start
        done = self._before_model(prepared, start)
        if done is not None:
            return done
        completions: list[Completion] = []
        problem = None
        for _ in range(self.config.output.retries + 1):
            try:
                completions.append(self.model(prepared.tier).complete(self._messages(prepared), **self._settings))
            except WorkbenchError as e:
                return self._result(prepared, completions, start, error=e)
            problem = self.output_problem(completions[-1])
            if problem is None:
                break
        return self._remember(prepared, self._result(prepared, completions, start, problem=problem))

    async def aexecute(self, prepared: Prepared | Result, start: float | None = None) -> Result:
        """The async twin of ``execute``. A semantic-cache lookup (an embedding: ~9 ms with MiniLM) runs in a worker
        thread, so the event loop serves other requests meanwhile."""
        start = time.perf_counter() if start is None else start
        done = (self._before_model(prepared, start) if self._semantic is None or isinstance(prepared, Result)
                else await asyncio.to_thread(self._before_model, prepared, start))
        if done is not None:
            return done
        completions: list[Completion] = []
        problem = None
        for _ in range(self.config.output.retries + 1):
            try:
                completions.append(await self.model(prepared.tier).acomplete(self._messages(prepared),
                                                                             **self._settings))
            except WorkbenchError as e:
                return self._result(prepared, completions, start, error=e)
            problem = self.output_problem(completions[-1])
            if problem is None:
                break
        return self._remember(prepared, self._result(prepared, completions, start, problem=problem))

    # ---- the semantic cache --------------------------------------------------------------------------------
    def _before_model(self, prepared: Prepared | Result, start: float) -> Result | None:
        """A rejected input's result, or a semantic-cache hit; None when the model must answer."""
        if isinstance(prepared, Result):
            return dataclasses.replace(prepared, latency_ms=(time.perf_counter() - start) * 1000)
        if self._semantic is None:
            return None
        try:
            answer = self._semantic.get(self._scope(prepared), prepared.question)
        except Exception:  # noqa: BLE001 - a broken semantic cache is a miss
            answer = None
        if not isinstance(answer, dict) or answer.get("output") is None:
            return None
        return Result(Status.OK, output=answer["output"], model=answer.get("model"), tier=answer.get("tier"),
                      answered_by=answer.get("answered_by"), cost_usd=0.0, saved_usd=answer.get("cost_usd"),
                      answer_cost_usd=answer.get("cost_usd"), cost_basis=answer.get("cost_basis"),
                      latency_ms=(time.perf_counter() - start) * 1000, cache="semantic",
                      input_status=prepared.check.status, classes=dict(prepared.check.classes),
                      flags=[f.to_dict() for f in prepared.check.flags], config_hash=self.config.hash)

    def _remember(self, prepared: Prepared, result: Result) -> Result:
        """Keep a valid answer in the semantic cache (best effort), unless the question or the answer holds personal
        data or a secret (the capture policy: a cache keeps no more than the log store)."""
        if (self._semantic is not None and result.status == Status.OK
                and not holds_personal_data(prepared.question, result.output)):
            with contextlib.suppress(Exception):  # caching is best effort
                self._semantic.put(self._scope(prepared), prepared.question, {
                    "output": result.output, "model": result.model, "answered_by": result.answered_by,
                    "tier": result.tier, "cost_usd": result.answer_cost_usd, "cost_basis": result.cost_basis})
        return result

    def _scope(self, prepared: Prepared) -> str:
        """The semantic cache's scope: this config and these documents."""
        return f"{self.config.hash}|{prepared.documents_hash}"

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
                error: WorkbenchError | None = None, problem: str | None = None) -> Result:
        """The result of the calls made: ``error`` when the last one raised, else ``problem``, the last answer's
        ``output_problem`` (found by the caller, which tested it to decide on a retry)."""
        last = completions[-1] if completions else None
        status = Status.OK if last is not None and error is None and problem is None else Status.FAILED
        err = error.to_dict() if error else ({"code": "invalid_output", "message": problem} if problem else None)
        cost, saved, answer_cost = _Sums(), _Sums(), _Sums()
        input_tokens = output_tokens = attempts = 0
        for c in completions:
            cost.add(c.cost_usd)
            saved.add(c.saved_usd if c.cached else 0.0)
            answer_cost.add(c.answer_cost_usd)
            input_tokens += c.usage.input_tokens
            output_tokens += c.usage.output_tokens
            attempts += 0 if c.cached else len(c.attempts)
        return Result(
            status=status, output=last.text if last else None, data=last.data if last else None,
            model=(last.priced_as or last.model) if last else None, answered_by=last.model if last else None,
            priced_as=last.priced_as if last else None, tier=p.tier,
            cost_usd=cost.total, saved_usd=saved.total, answer_cost_usd=answer_cost.total,
            cost_basis=last.cost_basis if last else None,
            latency_ms=(time.perf_counter() - start) * 1000,
            input_tokens=input_tokens, output_tokens=output_tokens,
            cache="exact" if last is not None and last.cached else "miss", error=err,
            input_status=p.check.status, classes=dict(p.check.classes), flags=[f.to_dict() for f in p.check.flags],
            context=[{"source": c.source, "start": c.start, "end": c.end, "tokens": c.tokens,
                      "section": list(c.section)} for c in p.context],
            attempts=attempts + _failed_attempts(error), config_hash=self.config.hash)


class _Sums:
    """A sum that is None once any value is unknown (unpriced is never summed as 0)."""

    __slots__ = ("total",)

    def __init__(self) -> None:
        self.total: float | None = 0.0

    def add(self, value: float | None) -> None:
        self.total = None if value is None or self.total is None else self.total + float(value)


def _chunker_for(config: PipelineConfig) -> ChunkerConfig:
    """The config's chunker, counting with the tier's model when it names no tokenizer model of its own."""
    chunker = config.context.chunking
    if chunker.model is None:
        chunker = chunker.model_copy(update={"model": config.tiers[config.tier].model})
    return chunker


def _chunker_key(chunker: ChunkerConfig) -> str:
    """What decides a document's chunks: the chunker's settings and its tokenizer's encoding (two tiers whose
    models share an encoding share the chunks)."""
    return json.dumps({**chunker.model_dump(), "model": chunker.tokenizer.encoding_name}, sort_keys=True)


def _request_settings(config: PipelineConfig) -> dict[str, Any]:
    settings = dict(config.params)
    schema = config.output.json_schema or config.prompt.output_schema
    if schema:
        settings["response_format"] = {"type": "json_schema",
                                       "json_schema": {"name": config.prompt.id, "schema": schema}}
    return settings


def _exact_cache(config: PipelineConfig, cache: Any) -> ResponseStore | None:
    if not config.cache.exact or cache is None:
        return None
    if isinstance(cache, str) and cache == "auto":
        from ..caches.exact import ResponseCache

        return ResponseCache()
    return cache


def _semantic_cache(config: PipelineConfig, semantic: Any) -> Any:
    if not config.cache.semantic or semantic is None:
        return None
    if isinstance(semantic, str) and semantic == "auto":
        from ..caches.semantic import SemanticCache

        return SemanticCache.for_config(None, config.cache)
    return semantic


def _documents_hash(documents: Any) -> str:
    try:
        return content_hash(documents)
    except (TypeError, ValueError):
        return content_hash(repr(documents))


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
