"""Which fallback prompts an experiment never evaluated.

Every model of a tier's fallback chain renders the prompt version its config pins for it
(``PipelineConfig.prompt_for``). An export may only ship a chain whose every model was measured with that prompt:
some variant of the run must have answered with the same prompt version on the same model as its primary.
"""
from __future__ import annotations

from typing import Any

from ..config.pipeline import PipelineConfig


def evaluated_pairs(results: Any) -> set[tuple[str, str]]:
    """``(prompt hash, model)`` of every variant of the run that has records: what it measured as a primary."""
    measured = {r.variant for r in results.records}
    pairs = set()
    for name, entry in results.manifest.get("variants", {}).items():
        if name in measured:
            cfg = PipelineConfig(**entry["config"])
            for tier in cfg.entry_tiers():
                pairs.add((cfg.prompt_for(tier).hash, cfg.tiers[tier].model))
    return pairs


def unevaluated_fallbacks(results: Any, variants: dict[str, PipelineConfig]) -> list[str]:
    """One line per fallback of a shipped variant whose own prompt on its own model the run never evaluated."""
    evaluated, missing = evaluated_pairs(results), []
    for name, cfg in variants.items():
        for start in cfg.entry_tiers():
            for link in cfg.fallback_chain(start)[1:]:
                prompt = cfg.prompt_for(link.tier.name if link.tier else start)
                if (prompt.hash, link.model) not in evaluated:
                    missing.append(f"{name}: fallback {link.name} ({prompt.ref} on {link.model}) was never "
                                   "evaluated")
    return list(dict.fromkeys(missing))
