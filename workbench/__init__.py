"""workbench: take an LLM pipeline from notebook prototype to a validated, monitored production runner.

The flow, one module per step (the code experiments score is the code production runs):

    ① inputs       validate / normalise / classify an input
    ② chunking     split documents, select context within a token budget
    ③ prompts      versioned, hashed, sandboxed prompt templates
    ④ models       the only code that calls an LLM: tiers, offline stand-ins, retries, fallbacks, cache, cost
    ⑤ scoring      deterministic checks, LLM-as-judge, ragas
    ⑥ experiments  variants x eval set, statistics, cost projection
    ⑦ config       the exported, hashed PipelineConfig with its evidence
    ⑧ runner       the thin production runtime
    ⑨ monitoring   drift, sampled quality, cost anomalies

``import workbench`` is light: heavy dependencies (litellm, pandas, sqlalchemy, jinja2) load on first use.
"""
from ._util.lazy import lazy_exports
from .errors import WorkbenchError  # noqa: F401 - re-exported

__version__ = "0.1.0"

_EXPORTS = {
    "complete": ".models", "acomplete": ".models", "build_model": ".models", "Completion": ".models",
    "tokenizer_for": ".models", "register_offline": ".models",
    "content_hash": ".hashing", "canonical_json": ".hashing", "workspace": ".paths",
}
__all__ = sorted([*_EXPORTS, "WorkbenchError", "__version__"])
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
