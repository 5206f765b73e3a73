"""The pipeline's records: the ``Status`` values, what a run of one input gives (``Result``) and an input made
ready for the model (``Prepared``)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from ..chunking.base import Chunk


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
    """The model the answering tier is configured with (the real model, also when its offline stand-in answered)."""
    answered_by: str | None = None
    """The model that produced the text (``local/...`` when an offline stand-in answered; None when none did)."""
    priced_as: str | None = None
    """The model whose price applies (the real model for an offline stand-in; see ``Completion.priced_as``)."""
    tier: str | None = None
    """The tier the input was routed to (the answering model may be a fallback of it)."""
    cost_usd: float | None = None
    """What this run paid: the model calls, retries included; 0 for a cache hit or a rejected input (None when
    unpriced)."""
    saved_usd: float | None = None
    """What a cache hit saved: the answer's cost when it was made (0 without a hit; None when that was unpriced)."""
    answer_cost_usd: float | None = None
    """What the answer costs without any cache (``cost_usd`` + ``saved_usd``): the cost per item of a variant,
    which experiments compare."""
    cost_basis: str | None = None
    """How the answer's cost is known: ``provider``, ``simulated``, ``offline`` or ``unpriced`` (see
    ``workbench.models.records.CostBasis``); a cache hit keeps the basis its answer had."""
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
        """Every field as JSON-ready values."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Prepared:
    """An input made ready for the model: its messages and the tier it is routed to."""

    messages: list[dict[str, str]]
    """The rendered prompt."""
    tier: str
    """The routed tier."""
    check: Any
    """The input policy's ``InputResult``."""
    context: list[Chunk]
    """The selected chunks."""
    question: str = ""
    """The normalised question (the semantic cache's key)."""
    values: dict[str, Any] = field(default_factory=dict)
    """The template variables (declared input fields and the context), for rendering a fallback's own prompt."""
    documents_hash: str = ""
    """The content hash of the normalised documents (with the config hash, the semantic cache's scope)."""
