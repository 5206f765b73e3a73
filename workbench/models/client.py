"""``complete()`` / ``acomplete()``: call a tier or a model, with retries, fallbacks, cache and cost.

    from workbench.models import complete
    c = complete("Context: ... Question: ...", tier="medium")
    c.text, c.usage, c.cost_usd, c.cost_basis, c.latency_ms, c.attempts

``build_model()`` returns the composed ``Model`` (retrying, fallback, cached, limited) for code that makes many
calls, e.g. ``m = build_model("small", options=ModelOptions(max_concurrency=32))`` then
``await m.acomplete(msgs)``. A provider URL and key go in an ``Endpoint``:
``complete(msgs, model="openai/gpt-4o-mini", endpoint=Endpoint(api_base=url, api_key=key))``.
"""
from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UsageError
from .litellm_model import Endpoint, LiteLLMModel
from .pricing import PriceBook, default_pricebook
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


@dataclass(frozen=True)
class ModelOptions:
    """How ``build_model`` composes its model, e.g. ``ModelOptions(retries=0, max_concurrency=32)``."""

    retries: int | RetryPolicy = 2
    """Extra tries after a transient failure (429, 5xx, timeout, malformed reply), or a ``RetryPolicy``."""
    fallbacks: bool = True
    """Fall back along the tier's chain when a model fails (False: only the chain's first model)."""
    cache: ResponseStore | None = None
    """Answer repeated requests from this store (e.g. a ``ResponseCache``); None: no response cache."""
    max_concurrency: int | None = None
    """At most this many calls in flight at once; None: no limit."""
    endpoint: Endpoint | None = None
    """The provider URL, key and timeout for every call; an explicit URL or key routes a tier to its real
    model, never to its offline stand-in."""
    pricebook: PriceBook | None = None
    """Prices for ``Completion.cost_usd`` (None: the process-wide price book)."""
    params: dict[str, Any] | None = None
    """litellm parameters added to every model's own (e.g. ``{"temperature": 0}``)."""


ENDPOINT_PARAMS = ("api_base", "api_key", "api_version", "base_url")
"""Tier parameters that say where the real model lives: a stand-in never gets them."""


def _leaf(link: ChainLink, *, explicit: bool, endpoint: Endpoint | None,
          pricebook: PriceBook | None) -> LiteLLMModel:
    t = link.tier
    params = dict(t.params) if t else {}
    r = route(link.model, t.stand_in if t else None, explicit=explicit, params=params)
    if r.call != link.model:  # a stand-in answers
        params = {k: v for k, v in params.items() if k not in ENDPOINT_PARAMS}
    if t is not None and t.price is not None:
        pricebook = (pricebook or default_pricebook()).overlay({t.model: t.price.price()})
    return LiteLLMModel(r.call, params=params, priced_as=r.priced_as, tier=t.name if t else None,
                        endpoint=endpoint, pricebook=pricebook)


def build_model(tier: str | None = None, *, model: str | None = None, chain: Sequence[ChainLink] | None = None,
                tiers: TierSet | None = None, options: ModelOptions | None = None) -> Model:
    """Compose the model for a tier (with its stand-in and fallbacks), for a fallback ``chain`` already computed
    (``TierSet.chain``, ``PipelineConfig.fallback_chain``), or for one model id; ``options`` say how (retries,
    fallbacks, cache, concurrency limit, endpoint, prices, extra parameters)."""
    if sum(x is not None for x in (tier, model, chain)) != 1:
        raise UsageError("give exactly one of tier=, model= or chain=", hint="e.g. complete(msgs, tier='small')")
    options = options or ModelOptions()
    retries = options.retries
    policy = retries if isinstance(retries, RetryPolicy) else RetryPolicy(retries=retries)
    endpoint = options.endpoint
    explicit = bool(endpoint and (endpoint.api_base or endpoint.api_key))
    if model is not None:
        chain = (ChainLink(None, model),)
    elif chain is None:
        chain = (tiers or current_tiers()).chain(tier)
    leaves = [_leaf(link, explicit=explicit, endpoint=endpoint, pricebook=options.pricebook)
              for link in (chain if options.fallbacks else chain[:1])]
    if options.params:
        for leaf in leaves:
            leaf.params.update(options.params)
    wrapped: list[Model] = [RetryingModel(leaf, policy) if policy.retries else leaf for leaf in leaves]
    result: Model = wrapped[0] if len(wrapped) == 1 else FallbackModel(wrapped)
    if options.cache is not None:
        result = CachedModel(result, options.cache)
    if options.max_concurrency:
        result = LimitedModel(result, options.max_concurrency)
    return result


def as_messages(prompt: str | list[Message]) -> list[Message]:
    """A plain string becomes one user message; a list must hold ``{"role", "content"}`` dicts."""
    if isinstance(prompt, str):
        return [{"role": "user", "content": prompt}]
    if not isinstance(prompt, list) or not all(isinstance(m, dict) and "role" in m for m in prompt):
        raise UsageError("messages must be a string or a list of {'role': ..., 'content': ...} dicts")
    return prompt


_MOVED = {"api_base": "endpoint=Endpoint(api_base=...)", "api_key": "endpoint=Endpoint(api_key=...)",
          "timeout": "endpoint=Endpoint(timeout=...)",
          "fallbacks": "build_model(..., options=ModelOptions(fallbacks=False))"}
"""Former keywords of ``complete()``: refused rather than sent to the model as settings."""


def _check_settings(settings: dict[str, Any]) -> None:
    moved = [k for k in settings if k in _MOVED]
    if moved:
        raise UsageError(f"complete() no longer takes {', '.join(moved)}=",
                         hint="use " + "; ".join(_MOVED[k] for k in moved))


def complete(messages: str | list[Message], *, tier: str | None = None, model: str | None = None,
             cache: ResponseStore | None = None, retries: int | RetryPolicy = 2,
             endpoint: Endpoint | None = None, **settings: Any) -> Completion:
    """One call to a tier or model; ``settings`` (temperature, max_tokens, response_format...) go to the
    model. For the rest of what ``build_model`` composes (no fallbacks, a concurrency limit...), use it."""
    _check_settings(settings)
    m = build_model(tier, model=model, options=ModelOptions(retries=retries, cache=cache, endpoint=endpoint))
    return m.complete(as_messages(messages), **settings)


async def acomplete(messages: str | list[Message], *, tier: str | None = None, model: str | None = None,
                    cache: ResponseStore | None = None, retries: int | RetryPolicy = 2,
                    endpoint: Endpoint | None = None, **settings: Any) -> Completion:
    """The async twin of ``complete()``."""
    _check_settings(settings)
    m = build_model(tier, model=model, options=ModelOptions(retries=retries, cache=cache, endpoint=endpoint))
    return await m.acomplete(as_messages(messages), **settings)
