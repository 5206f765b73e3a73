"""``RunnerResult``: what the runner did with one input, and the output line of ``workbench run``."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ..pipeline import Result, Status

LINE_KEYS = ("id", "status", "output", "variant", "model", "answered_by", "tier", "cost_usd", "saved_usd", "cost_basis",
             "latency_ms", "cache", "flags", "error")
"""The keys of ``RunnerResult.to_line()``, in order."""


@dataclass(frozen=True)
class RunnerResult:
    """What the runner did with one input. ``to_line()`` is the output line of ``workbench run``."""

    id: Any
    """The input's ``id`` (None when it had none)."""
    status: Status
    """``ok``, ``degraded`` (offline model or partial context), ``escalated``, ``rejected`` or ``failed``."""
    output: str | None = None
    variant: str | None = None
    model: str | None = None
    """The model the answering tier is configured with (the real model, also when its stand-in answered)."""
    answered_by: str | None = None
    """The model that produced ``output`` (``local/...`` in offline mode or when degraded; None when none did)."""
    tier: str | None = None
    cost_usd: float | None = 0.0
    """What was paid now: 0 for a cache hit or a rejected input; None when unpriced."""
    saved_usd: float | None = None
    """What a cache hit saved (the answer's cost when it was made); 0 without a hit, None when unknown."""
    cost_basis: str | None = None
    """``provider``, ``simulated`` (an offline stand-in priced as the real model), ``offline``, ``unpriced`` or
    ``cached``."""
    latency_ms: float = 0.0
    cache: Literal["miss", "exact", "semantic"] = "miss"
    flags: tuple[str, ...] = ()
    """The codes the input policy flagged but let through (``injection_suspected``, ``pii``, ``zero_width``...),
    and for a rejection the codes found; empty for a clean input."""
    error: dict[str, str] | None = None
    """``{"code", "message"}``; for ``degraded`` the failure that was degraded from."""
    fallback: bool = False
    """Answered by a model other than the tier's first (a fallback tier or the offline model)."""
    input_tokens: int = 0
    output_tokens: int = 0
    escalation_id: int | None = None
    """The row in the escalation table (None when not escalated or when the log store was unavailable)."""
    pipeline: Result | None = field(default=None, repr=False, compare=False)
    """The pipeline's own ``Result`` (classes, flags, context, attempts), when the pipeline ran."""

    def to_line(self) -> dict[str, Any]:
        """Exactly ``LINE_KEYS``, JSON-ready."""
        line = {k: getattr(self, k) for k in LINE_KEYS}
        line["flags"] = list(self.flags)
        return line


def bare_line(item_id: Any, status: str, error: dict[str, str]) -> dict[str, Any]:
    """An output line for an item the runner did not answer (a crash, an unfinished queue item): every key of
    ``LINE_KEYS``, the others None."""
    return {**dict.fromkeys(LINE_KEYS), "id": item_id, "status": status, "flags": [], "error": error}
