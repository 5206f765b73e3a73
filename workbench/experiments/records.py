"""``RunRecord``: one (variant, sample, repeat) cell of an experiment — appended to ``records.jsonl``."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RunRecord:
    """The outcome of one cell: the pipeline's result and every score."""

    variant: str
    """The variant's name."""
    config_hash: str
    """The variant's ``PipelineConfig`` hash (the cell key uses it, so an edited variant is recomputed)."""
    sample_id: str
    repeat: int
    category: str
    status: str
    """The pipeline's status (ok, rejected, failed) — an error is a record with a code, never a missing row."""
    output: str | None
    scores: dict[str, dict[str, Any]] = field(default_factory=dict)
    """scorer name -> ``{"value", "passed", "measured", "explanation"}``."""
    error: dict[str, str] | None = None
    model: str | None = None
    """The model the answering tier is configured with (the real model, also when its stand-in answered)."""
    answered_by: str | None = None
    """The model that produced the output (``local/...`` when an offline stand-in answered)."""
    priced_as: str | None = None
    """The model the cost is priced as (the real model when an offline stand-in answered)."""
    tier: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None
    """What this cell paid (0 for a cache hit; None when unpriced)."""
    saved_usd: float | None = None
    """What a cache hit saved (the answer's cost when it was made)."""
    cost_basis: str | None = None
    """How the answer's cost is known (``provider``, ``simulated``, ``offline`` or ``unpriced``; a hit keeps its
    answer's)."""
    answer_cost_usd: float | None = None
    """What the answer costs without any cache (``cost_usd`` + ``saved_usd``): a variant's cost per item, which
    does not depend on what happened to be cached."""
    latency_ms: float = 0.0
    cache: str = "miss"
    model_calls: int = 0
    """Requests sent to a provider or the offline tier for this cell, judge included (cache hits excluded)."""
    tags: list[str] = field(default_factory=list)
    expected_status: str = "ok"
    """The status the sample expects (``metadata.expected_status``; e.g. ``rejected`` for a hostile input the
    policy must refuse): a cell whose status matches it passes even without an answer."""

    @property
    def key(self) -> tuple[str, str, int]:
        """(config hash, sample id, repeat): what makes a cell done."""
        return (self.config_hash, self.sample_id, self.repeat)

    def to_dict(self) -> dict[str, Any]:
        """The record as one ``records.jsonl`` line's object (equal to ``dataclasses.asdict``, without its generic
        deep copy: this runs once per cell)."""
        d = {f.name: getattr(self, f.name) for f in _FIELDS}
        d["scores"] = {k: dict(v) for k, v in self.scores.items()}
        d["error"] = None if self.error is None else dict(self.error)
        d["tags"] = list(self.tags)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunRecord:
        """The inverse of ``to_dict``; keys that are not fields (from a newer version) are ignored."""
        names = {f.name for f in dataclasses.fields(cls)}
        d = {k: v for k, v in d.items() if k in names}
        if "answer_cost_usd" not in d:  # written before 0.2, when cost_usd was the answer's cost
            d["answer_cost_usd"] = d.get("cost_usd")
        return cls(**d)


_FIELDS = dataclasses.fields(RunRecord)
