"""``ExperimentSpec``: what to run — an eval set, variants (a grid over a base config), scorers, limits.

    name: prompt_variants_across_tiers
    evalset: evalsets/northwind_qa.jsonl
    base: {prompt: grounded_qa, version: 2, tier: medium, chunking: {strategy: structure, max_tokens: 256}}
    grid: {version: [2, 3], tier: [small, medium, large]}
    variants: [{name: v1-medium, version: 1}]
    scorers: [{scorer: llm_judge}]            # applied to every sample, besides each sample's own criteria
    repeats: 1
    concurrency: 16
    budget_usd: 5.0

A malformed spec is a ``ConfigError`` naming the field.
"""
from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..prompts import Criterion


class ExperimentSpec(BaseModel):
    """An experiment: every variant × every sample × ``repeats``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9_.\-]+$")
    evalset: str
    base: dict[str, Any] = Field(default_factory=dict, description="PipelineConfig.build arguments")
    grid: dict[str, list[Any]] = Field(default_factory=dict, description="field -> values; the product is run")
    variants: list[dict[str, Any]] = Field(default_factory=list, description="explicit variants: name + changes")
    scorers: list[Criterion] = Field(default_factory=list, description="criteria applied to every sample")
    repeats: int = Field(1, ge=1, le=20)
    concurrency: int = Field(16, ge=1, le=512)
    budget_usd: float | None = Field(None, ge=0, description="refuse a run estimated above this unless confirmed")
    allow_unpriced: bool = Field(False, description="with a budget, run although some cells are unpriced")
    limit: int | None = Field(None, ge=1, description="use only the first N samples (stratified by category)")
    expected_output_tokens: int = Field(60, ge=1, description="for the cost estimate before the run")

    def variant_changes(self) -> list[tuple[str, dict[str, Any]]]:
        """(name, changes over ``base``) for every grid point, then every explicit variant."""
        out = []
        keys = list(self.grid)
        for values in itertools.product(*(self.grid[k] for k in keys)) if keys else [()]:
            changes = dict(zip(keys, values, strict=True))
            out.append((_name(self.base, changes), changes))
        for v in self.variants:
            v = dict(v)
            name = v.pop("name", None) or _name(self.base, v)
            out.append((name, v))
        return out

    @classmethod
    def load(cls, path: str | Path) -> ExperimentSpec:
        """Read and validate a spec file; a relative ``evalset`` path that does not exist is taken from the project
        folder (the spec's folder, or its parent for a spec in ``experiments/``)."""
        from .._util.yamlfiles import build, read_mapping

        path = Path(path)
        spec = build(cls, read_mapping(path, "experiment spec"), path)
        base = path.parent.parent if path.parent.name == "experiments" else path.parent
        if not Path(spec.evalset).is_absolute() and not Path(spec.evalset).exists():
            spec = spec.model_copy(update={"evalset": str(base / spec.evalset)})
        return spec


def _name(base: dict[str, Any], changes: dict[str, Any]) -> str:
    merged = {**base, **changes}
    chunking = merged.get("chunking") or {}
    parts = [f"{merged.get('prompt', 'grounded_qa')}@v{merged.get('version', 'latest')}", str(merged.get("tier", "medium"))]
    if "chunking" in changes:
        parts.append(f"{chunking.get('strategy')}/{chunking.get('max_tokens', '')}")
    parts += [f"{k}={v}" for k, v in changes.items() if k not in ("version", "tier", "chunking", "prompt")]
    return " · ".join(parts)
