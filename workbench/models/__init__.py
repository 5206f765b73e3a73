"""④ The model layer: the only code that talks to an LLM.

Everything goes through litellm (imported on first use, offline settings first). ``local/*`` models are
offline heuristics that ship with workbench and are registered in litellm as a custom provider.

    from workbench.models import complete, build_model, ModelOptions, Endpoint, tokenizer_for, price_for
"""
from .._util.lazy import lazy_exports

_EXPORTS = {
    # calls
    "complete": ".client", "acomplete": ".client", "build_model": ".client", "current_tiers": ".client",
    "as_messages": ".client", "ModelOptions": ".client", "Endpoint": ".litellm_model",
    # records
    "Completion": ".records", "Usage": ".records", "Attempt": ".records", "CostBasis": ".records",
    # models and wrappers
    "Model": ".wrappers", "LiteLLMModel": ".litellm_model", "RetryingModel": ".wrappers",
    "RetryPolicy": ".wrappers", "FallbackModel": ".wrappers", "CachedModel": ".wrappers",
    "LimitedModel": ".wrappers", "ResponseStore": ".wrappers", "cache_key": ".keys",
    # tiers, prices, tokens, errors
    "Tier": ".tiers", "TierSet": ".tiers", "load_tiers": ".tiers", "route": ".tiers",
    "Price": ".pricing", "PriceBook": ".pricing", "price_for": ".pricing", "register_price": ".pricing",
    "tokenizer_for": ".tokens", "Tokenizer": ".tokens", "translate": ".translate",
    # offline tier and embedders
    "register_offline": ".offline", "set_offline": ".credentials", "offline_mode": ".credentials",
    "mode_line": ".catalog", "missing_credentials": ".credentials", "TierPrice": ".tiers", "OFFLINE_MODELS": ".offline",
    "Embedder": ".embedders", "HashingEmbedder": ".embedders", "LiteLLMEmbedder": ".embedders",
    "MiniLMEmbedder": ".embedders",
    # catalog
    "describe_models": ".catalog",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
