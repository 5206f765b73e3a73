"""ragas metrics over our samples and outputs (ragas 0.4.3, imported only when a metric runs).

    from workbench.scoring import ragas_scores
    rows = ragas_scores(samples, outputs, contexts=None, metrics=["rouge_score", "bleu_score"])
    # [{"id": "nwqa-0001", "rouge_score": 0.8, "bleu_score": 0.47}, ...]  (pandas.DataFrame(rows) for a table)

**Offline metrics** (no model, no network): ``rouge_score``, ``bleu_score``, ``chrf_score``, ``exact_match``,
``string_present``, ``non_llm_string_similarity`` (need expected answers; the best over them is kept, our any-of
rule) and ``non_llm_context_recall``, ``non_llm_context_precision_with_reference`` (retrieved ``contexts`` against
the sample's reference contexts: ``metadata["reference_contexts"]``, else ``[metadata["evidence"]]``, else its
documents' texts).
**LLM metrics** ``faithfulness`` and ``answer_relevancy`` call a model through *our* model layer (a ragas LLM
wrapper over a workbench ``Model``, chosen by ``models=RagasModels(...)``) and need a real model: offline they
raise ``UsageError`` instead of grading with a heuristic. A value that cannot be computed (no output, no
reference, no contexts) is ``None``, never NaN. **Errors stay per item**: a reply ragas cannot parse, or a provider
error, makes only that item's metric ``None`` and is kept in the row's ``errors`` (``{metric: "ParseError: ..."}``);
the call goes on with the other items and metrics. Metrics are called one sample at a time
(``single_turn_ascore``) on fresh metric objects, so ragas' ``evaluate()`` never mutates anything of ours and
never picks a default OpenAI model behind our back.
"""
from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field, field_validator

from ..errors import ConfigError, UsageError
from .base import Score, ScorerBase

RAGAS_METRICS: dict[str, tuple[str, str, str]] = {
    "rouge_score": ("_rouge_score", "RougeScore", "reference"),
    "bleu_score": ("_bleu_score", "BleuScore", "reference"),
    "chrf_score": ("_chrf_score", "ChrfScore", "reference"),
    "exact_match": ("_string", "ExactMatch", "reference"),
    "string_present": ("_string", "StringPresence", "reference"),
    "non_llm_string_similarity": ("_string", "NonLLMStringSimilarity", "reference"),
    "non_llm_context_recall": ("_context_recall", "NonLLMContextRecall", "contexts"),
    "non_llm_context_precision_with_reference": ("_context_precision", "NonLLMContextPrecisionWithReference",
                                                 "contexts"),
    "faithfulness": ("_faithfulness", "Faithfulness", "llm"),
    "answer_relevancy": ("_answer_relevance", "ResponseRelevancy", "llm"),
}
"""metric name -> (module under ``ragas.metrics``, class, what it needs: reference | contexts | llm)."""
OFFLINE_METRICS = [m for m, (_, _, needs) in RAGAS_METRICS.items() if needs != "llm"]
DEFAULT_METRICS = ["rouge_score", "bleu_score", "non_llm_string_similarity", "string_present"]


@dataclass(frozen=True)
class RagasModels:
    """The models ragas' LLM metrics (``faithfulness``, ``answer_relevancy``) call; offline ones use none."""

    llm_tier: str = "large"
    """The tier that answers ragas' prompts, when ``llm`` is not given (it must not be answered offline)."""
    llm: Any = None
    """A workbench ``Model`` to use instead of the tier's."""
    embedder: Any = None
    """The ``Embedder`` of ``answer_relevancy`` (None:
    ``LiteLLMEmbedder("openai/text-embedding-3-small")``)."""


def _check_metrics(metrics: list[str]) -> None:
    unknown = [m for m in metrics if m not in RAGAS_METRICS]
    if unknown:
        raise UsageError(f"unknown ragas metric(s) {', '.join(unknown)}",
                         hint=f"known: {', '.join(RAGAS_METRICS)} (offline: {', '.join(OFFLINE_METRICS)})")


def _real_model(tier: str, llm: Any) -> Any:
    """The workbench Model for LLM metrics; ``UsageError`` when only an offline heuristic would answer."""
    if llm is not None:
        return llm
    from ..models import build_model, current_tiers, route

    t = current_tiers().get(tier)
    answering = route(t.model, t.stand_in).call
    if answering.startswith("local/"):
        raise UsageError(
            f"ragas LLM metrics (faithfulness, answer_relevancy) need a real model, but tier {tier!r} is answered "
            f"offline by {answering}, a heuristic that cannot follow ragas' prompts",
            hint=f"set the key for {t.model} and unset WORKBENCH_OFFLINE, pass llm=<a workbench Model>, or use "
                 f"the offline metrics: {', '.join(OFFLINE_METRICS)}")
    return build_model(tier=tier)


def _ragas_llm(model: Any) -> Any:
    """A ragas ``BaseRagasLLM`` whose every call goes through a workbench ``Model``."""
    from langchain_core.outputs import Generation, LLMResult
    from ragas.llms.base import BaseRagasLLM
    from ragas.run_config import RunConfig

    class WorkbenchRagasLLM(BaseRagasLLM):
        def _messages(self, prompt: Any) -> list[dict[str, str]]:
            return [{"role": "user", "content": prompt.to_string()}]

        def generate_text(self, prompt, n=1, temperature=0.01, stop=None, callbacks=None):
            settings = {"temperature": temperature, **({"stop": stop} if stop else {})}
            texts = [model.complete(self._messages(prompt), **settings).text for _ in range(n)]
            return LLMResult(generations=[[Generation(text=t) for t in texts]])

        async def agenerate_text(self, prompt, n=1, temperature=0.01, stop=None, callbacks=None):
            settings = {"temperature": temperature or 0.01, **({"stop": stop} if stop else {})}
            done = await asyncio.gather(*(model.acomplete(self._messages(prompt), **settings) for _ in range(n)))
            return LLMResult(generations=[[Generation(text=c.text) for c in done]])

        def is_finished(self, response) -> bool:
            return True

    # our model layer already retries (with the provider's Retry-After); ragas' own retry (10 tries, waits up to a
    # minute each) would only make one failing item take minutes
    return WorkbenchRagasLLM(run_config=RunConfig(max_retries=1, max_wait=1))


def _ragas_embeddings(embedder: Any) -> Any:
    """A ragas embeddings object over a workbench ``Embedder``."""
    from ragas.embeddings.base import BaseRagasEmbeddings

    class WorkbenchRagasEmbeddings(BaseRagasEmbeddings):
        def embed_query(self, text):
            return embedder.embed([text])[0].tolist()

        def embed_documents(self, texts):
            return embedder.embed(list(texts)).tolist()

        async def aembed_query(self, text):
            return self.embed_query(text)

        async def aembed_documents(self, texts):
            return self.embed_documents(texts)

    return WorkbenchRagasEmbeddings()


def _metric(name: str, llm: Any = None, embeddings: Any = None) -> Any:
    import importlib

    module, cls, needs = RAGAS_METRICS[name]
    metric = getattr(importlib.import_module(f"ragas.metrics.{module}"), cls)()
    if needs == "llm":
        metric.llm = llm
        if hasattr(metric, "embeddings"):
            metric.embeddings = embeddings
    return metric


async def _one(metric: Any, needs: str, sample: Any, output: Any, contexts: list[str] | None,
               reference_contexts: list[str]) -> float | None:
    """One metric on one sample: the best over expected answers for reference metrics; None when not computable."""
    from ragas.dataset_schema import SingleTurnSample

    if not isinstance(output, str):
        return None
    base = {"user_input": sample.inputs.question, "response": output}
    if needs == "reference":
        refs = [e for e in sample.expected if e.strip()]
        values = [await metric.single_turn_ascore(SingleTurnSample(**base, reference=r)) for r in refs]
    elif needs == "contexts":
        if not contexts or not reference_contexts:
            return None
        values = [await metric.single_turn_ascore(SingleTurnSample(
            **base, retrieved_contexts=contexts, reference_contexts=reference_contexts))]
    else:
        ctx = contexts or [d.text for d in sample.inputs.documents]
        values = [await metric.single_turn_ascore(SingleTurnSample(**base, retrieved_contexts=ctx))] if ctx else []
    values = [float(v) for v in values if v is not None and not math.isnan(float(v))]
    return max(values) if values else None


async def _guarded(work: Any) -> tuple[float | None, str | None]:
    """``(value, None)``, or ``(None, "<error>")`` when ragas or the model failed on this one item."""
    try:
        return await work, None
    except UsageError:  # a setup problem (no real model offline): the same for every item, said once
        raise
    except Exception as e:  # noqa: BLE001 - a parse failure or a provider error costs only this item's metric
        message = " ".join(f"{type(e).__name__}: {e}".split())
        return None, message[:300]


def _reference_contexts(sample: Any) -> list[str]:
    """``metadata["reference_contexts"]``, else ``[metadata["evidence"]]``, else the documents' texts."""
    meta = sample.metadata
    if isinstance(meta.get("reference_contexts"), list):
        return [str(c) for c in meta["reference_contexts"]]
    if isinstance(meta.get("evidence"), str) and meta["evidence"].strip():
        return [meta["evidence"]]
    return [d.text for d in sample.inputs.documents]


async def aragas_scores(samples: list, outputs: list, contexts: list[list[str]] | None = None,
                        metrics: list[str] | None = None, *, reference_contexts: list[list[str]] | None = None,
                        models: RagasModels | None = None) -> list[dict[str, Any]]:
    """Async twin of ``ragas_scores``."""
    models = models or RagasModels()
    metrics = list(metrics or DEFAULT_METRICS)
    _check_metrics(metrics)
    if len(outputs) != len(samples) or (contexts is not None and len(contexts) != len(samples)):
        raise UsageError("give one output (and one context list, if any) per sample")
    ragas_llm = ragas_emb = None
    if any(RAGAS_METRICS[m][2] == "llm" for m in metrics):
        ragas_llm = _ragas_llm(_real_model(models.llm_tier, models.llm))
        if "answer_relevancy" in metrics:
            from ..models import LiteLLMEmbedder

            ragas_emb = _ragas_embeddings(models.embedder or LiteLLMEmbedder("openai/text-embedding-3-small"))
    rows = []
    for i, (sample, output) in enumerate(zip(samples, outputs, strict=True)):
        refctx = (reference_contexts[i] if reference_contexts else None) or _reference_contexts(sample)
        ctx = contexts[i] if contexts is not None else None
        outcomes = await asyncio.gather(*(_guarded(_one(_metric(m, ragas_llm, ragas_emb), RAGAS_METRICS[m][2],
                                                              sample, output, ctx, refctx)) for m in metrics))
        row: dict[str, Any] = {"id": sample.id, **{m: value for m, (value, _) in zip(metrics, outcomes, strict=True)}}
        errors = {m: error for m, (_, error) in zip(metrics, outcomes, strict=True) if error}
        if errors:
            row["errors"] = errors
        rows.append(row)
    return rows


def ragas_scores(samples: list, outputs: list, contexts: list[list[str]] | None = None,
                 metrics: list[str] | None = None, *, reference_contexts: list[list[str]] | None = None,
                 models: RagasModels | None = None) -> list[dict[str, Any]]:
    """One dict per sample: ``{"id", <metric>: value in [0, 1] or None}``, plus ``"errors": {metric: message}`` for
    an item whose metric failed (a parse or provider error: that value is None, the rest go on); see the module
    docstring.
    ``reference_contexts``: per sample, instead of its own; ``models``: for the LLM metrics
    (``RagasModels()``).

    Inside a running event loop (Jupyter) it runs in a worker thread; there, ``await aragas_scores(...)`` is better.
    """
    coro = aragas_scores(samples, outputs, contexts, metrics, reference_contexts=reference_contexts,
                         models=models)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


class RagasScorer(ScorerBase):
    """A ragas metric as a criterion: ``{scorer: ragas, metric: rouge_score, threshold: 0.5}``."""

    kind: Literal["ragas"] = "ragas"
    metric: str = "rouge_score"
    threshold: float | None = Field(0.5, ge=0, le=1)
    llm_tier: str = "large"

    @field_validator("metric")
    @classmethod
    def _known(cls, metric: str) -> str:
        if metric not in RAGAS_METRICS:
            raise ConfigError(f"ragas: unknown metric {metric!r}", hint=f"known: {', '.join(RAGAS_METRICS)}")
        return metric

    @property
    def name(self) -> str:
        """``ragas:<metric>``."""
        return f"ragas:{self.metric}"

    def score(self, sample, output) -> Score:
        """The ragas metric of one output (LLM metrics use ``llm_tier``); unmeasured when ragas cannot compute it."""
        models = RagasModels(llm_tier=self.llm_tier)
        return self._to_score(ragas_scores([sample], [output], metrics=[self.metric], models=models)[0])

    async def ascore(self, sample, output) -> Score:
        """Async twin of ``score``."""
        rows = await aragas_scores([sample], [output], metrics=[self.metric],
                                   models=RagasModels(llm_tier=self.llm_tier))
        return self._to_score(rows[0])

    def _to_score(self, row: dict[str, Any]) -> Score:
        value = row[self.metric]
        error = (row.get("errors") or {}).get(self.metric)
        if error:
            return Score.unmeasured(self.name, f"ragas {self.metric} failed on this item: {error}")
        if value is None:
            return Score.unmeasured(self.name, f"ragas {self.metric} could not be computed (no text output, "
                                               "no expected answer or no contexts)")
        return Score.of(self.name, value, self.pass_mark, f"ragas {self.metric} {value:.3f}")
