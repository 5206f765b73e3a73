"""``complete()`` / ``acomplete()``: call a tier or a model, with retries, fallbacks, cache and cost.

    from workbench.models import complete
    c = complete("Context: ... Question: ...", tier="medium")
    c.text, c.usage, c.cost_usd, c.cost_basis, c.latency_ms, c.attempts

``build_model()`` returns the composed ``Model`` (retrying, fallback, cached, limited) for code that makes many
calls, e.g. ``m = build_model(tier="small", max_concurrency=32)`` then ``await m.acomplete(msgs)``.
"""
from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import UsageError
from .litellm_model import LiteLLMModel
from .pricing import PriceBook
from .records import Completion, Message
from .tiers import ChainLink, TierSet, default_tiers_path, load_tiers, route
from .wrappers import CachedModel, FallbackModel, LimitedModel, Model, ResponseStore, RetryingModel, RetryPolicy


@functools.lru_cache(maxsize=8)
def _tiers_at(path: str, mtime: float) -> TierSet:
    return load_tiers(path)


def current_tiers(path: str | Path | None = None) -> TierSet:
    """The tiers file, re-read only when it changes."""
    p = Path(path) if path else default_tiers_path()
    try:
        mtime = p.stat().st_mtime
    except OSError:
        mtime = -1.0
    return _tiers_at(str(p), mtime)


def _leaf(link: ChainLink, *, explicit: bool, **kw: Any) -> LiteLLMModel:
    t = link.tier
    r = route(link.model, t.stand_in if t else None, explicit=explicit)
    return LiteLLMModel(r.call, params=dict(t.params) if t else {}, priced_as=r.priced_as,
                        tier=t.name if t else None, **kw)


def build_model(tier: str | None = None, *, model: str | None = None, chain: Sequence[ChainLink] | None = None,
                tiers: TierSet | None = None,
                retries: int | RetryPolicy = 2, fallbacks: bool = True,
                cache: ResponseStore | None = None, max_concurrency: int | None = None,
                api_base: str | None = None, api_key: str | None = None, timeout: float = 60.0,
                pricebook: PriceBook | None = None, params: dict[str, Any] | None = None) -> Model:
    """Compose the model for a tier (with its stand-in and fallbacks), for a fallback ``chain`` already computed
    (``TierSet.chain``, ``PipelineConfig.fallback_chain``), or for one model id."""
    if sum(x is not None for x in (tier, model, chain)) != 1:
        raise UsageError("give exactly one of tier=, model= or chain=", hint="e.g. complete(msgs, tier='small')")
    policy = retries if isinstance(retries, RetryPolicy) else RetryPolicy(retries=retries)
    explicit = bool(api_base or api_key)
    kw = dict(api_base=api_base, api_key=api_key, timeout=timeout, pricebook=pricebook)
    if model is not None:
        chain = (ChainLink(None, model),)
    elif chain is None:
        chain = (tiers or current_tiers()).chain(tier)
    leaves = [_leaf(link, explicit=explicit, **kw) for link in (chain if fallbacks else chain[:1])]
    if params:
        for leaf in leaves:
            leaf.params.update(params)
    wrapped: list[Model] = [RetryingModel(leaf, policy) if policy.retries else leaf for leaf in leaves]
    result: Model = wrapped[0] if len(wrapped) == 1 else FallbackModel(wrapped)
    if cache is not None:
        result = CachedModel(result, cache)
    if max_concurrency:
        result = LimitedModel(result, max_concurrency)
    return result


def as_messages(prompt: str | list[Message]) -> list[Message]:
    """A plain string becomes one user message; a list must hold ``{"role", "content"}`` dicts."""
    if isinstance(prompt, str):
        return [{"role": "user", "content": prompt}]
    if not isinstance(prompt, list) or not all(isinstance(m, dict) and "role" in m for m in prompt):
        raise UsageError("messages must be a string or a list of {'role': ..., 'content': ...} dicts")
    return prompt


def complete(messages: str | list[Message], *, tier: str | None = None, model: str | None = None,
             retries: int | RetryPolicy = 2, fallbacks: bool = True,
             cache: ResponseStore | None = None, api_base: str | None = None,
             api_key: str | None = None, timeout: float = 60.0, **settings: Any) -> Completion:
    """One call to a tier or model; ``settings`` (temperature, max_tokens, response_format...) go to the model."""
    m = build_model(tier, model=model, retries=retries, fallbacks=fallbacks, cache=cache, api_base=api_base,
                    api_key=api_key, timeout=timeout)
    return m.complete(as_messages(messages), **settings)


async def acomplete(messages: str | list[Message], *, tier: str | None = None, model: str | None = None,
                    retries: int | RetryPolicy = 2, fallbacks: bool = True,
                    cache: ResponseStore | None = None, api_base: str | None = None,
                    api_key: str | None = None, timeout: float = 60.0, **settings: Any) -> Completion:
    """The async twin of ``complete()``."""
    m = build_model(tier, model=model, retries=retries, fallbacks=fallbacks, cache=cache, api_base=api_base,
                    api_key=api_key, timeout=timeout)
    return await m.acomplete(as_messages(messages), **settings)
