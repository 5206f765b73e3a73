"""⑧ The thin production runner: load an exported config, run the same ``Pipeline`` on every input, and log,
meter, cache, degrade and escalate around it.

Imports nothing from the notebook side (no pandas, matplotlib, ipywidgets, datasets or ragas; a test pins it).

    from workbench.runner import Runner
    runner = Runner.from_config("configs/pipeline.yaml")
    result = runner.run({"id": "q1", "question": "...", "documents": [...]})
"""
from .._lazy import lazy_exports

_EXPORTS = {
    "ProductionConfig": ".config", "load_production_config": ".config", "ConfigTamperedError": ".config",
    "TrafficSplit": ".config", "CacheSettings": ".config", "DegradationPolicy": ".config",
    "EscalationRules": ".config", "GateThresholds": ".config", "LoggingSettings": ".config", "Evidence": ".config",
    # the runner, its split, log store, metrics and escalation queue
    "Runner": ".runner", "RunnerResult": ".runner", "assign": ".split", "LogStore": ".logstore",
    "LogStoreError": ".logstore", "default_db_url": ".logstore", "Metrics": ".metrics", "render_metrics": ".metrics",
    "escalate": ".escalation", "list_escalations": ".escalation", "resolve": ".escalation",
    "to_candidate_sample": ".escalation", "export_candidates": ".escalation",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
