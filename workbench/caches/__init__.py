"""Response caches: one policy (``workbench.config.CacheConfig``), one key rule (``workbench.models.keys``).

- ``ResponseCache``: the exact cache, SQLite, answers the same request again (``CachedModel`` wraps a model with it);
- ``SemanticCache``: answers a question *similar enough* to one already answered in the same scope, guarded by the
  near-miss guard (``guard``: numbers, entities, negation must agree) and found through a sketch index (``index``).

    from workbench.caches import ResponseCache, SemanticCache
"""
from .._util.lazy import lazy_exports

_EXPORTS = {
    "ResponseCache": ".exact", "SemanticCache": ".semantic", "Match": ".records", "Expiry": ".records",
    "SearchLimits": ".records",
    "normalise_question": ".guard", "signature": ".guard", "Signature": ".guard", "SketchIndex": ".index",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
