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
from .errors import WorkbenchError  # noqa: F401 - the root of the error tree, imported eagerly (it is light)

__version__ = "0.1.0"

_EXPORTS = {
    # ① ② ③ inputs, chunking, prompts
    "InputPolicy": ".inputs", "make_chunker": ".chunking",
    "PromptTemplate": ".prompts", "load_prompt": ".prompts",
    # ④ models
    "complete": ".models", "acomplete": ".models", "build_model": ".models", "Completion": ".models",
    # eval sets, ⑤ scoring, ⑥ experiments
    "EvalSet": ".evalsets", "Sample": ".evalsets", "load_evalset": ".evalsets",
    "Experiment": ".experiments", "ExperimentSpec": ".experiments", "ExperimentResults": ".experiments",
    # ⑦ the one path and its configs; release
    "PipelineConfig": ".config", "ProductionConfig": ".config", "load_production_config": ".config",
    "Pipeline": ".pipeline", "Result": ".pipeline", "Status": ".pipeline",
    "export_config": ".release", "run_gate": ".release",
    # ⑧ ⑨ runner, monitoring
    "Runner": ".runner", "monitor": ".monitoring",
    # errors, hashing, workspace
    "UsageError": ".errors", "ConfigError": ".errors", "ModelError": ".errors",
    "content_hash": ".hashing", "workspace": "._util.paths",
}
__all__ = sorted([*_EXPORTS, "WorkbenchError", "__version__"])
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
