"""⑨ Monitoring over the runner's log store: operations, sampled quality, input drift, cost anomalies and A/B,
with alerts (an ``alerts`` table, a log sink, a webhook) and new eval candidates.

    from workbench.monitoring import Window, monitor
    report = monitor("sqlite:///build/runner/runner.sqlite", config="configs/pipeline.yaml",
                     baseline="evalsets/northwind_qa.jsonl", window=Window(since="7d"))
    report.alerts, report.to_dict(), report.candidates

The sections are modules of their own (``ops``, ``quality``, ``drift``, ``costs``, ``ab``, ``alerts``,
``candidates``, ``simulate``); the names below are the ones a notebook needs.

Notebook-side and CLI-side (numpy, scipy, SQLAlchemy); the runner never imports it.
"""
from .._util.lazy import lazy_exports

_EXPORTS = {
    "monitor": ".report", "MonitorReport": ".report", "reference_for": ".report", "Window": ".report",
    "AlertDelivery": ".report",
    "load": ".logdata", "LogData": ".logdata", "parse_since": ".logdata",
    "operations": ".ops", "summarise": ".ops",
    "score_rows": ".quality", "score_output": ".quality", "RowScore": ".quality",
    "psi": ".drift", "Reference": ".drift", "TopicModel": ".drift",
    "detect": ".costs", "hourly": ".costs",
    "bootstrap_difference": ".ab", "recommend": ".ab",
    "Alert": ".alerts", "deliver": ".alerts", "stored_alerts": ".alerts", "post_webhook": ".alerts",
    "drifted_inputs": ".candidates", "candidate_samples": ".candidates", "export_candidates": ".candidates",
    "simulate_stream": ".simulate", "run_stream": ".simulate", "write_rows": ".simulate",
    "simulate_ab_rows": ".simulate",
    "SimRequest": ".simulate", "PlantedChanges": ".simulate", "RunawayModel": ".simulate",
    "START": ".simulate", "DAY": ".simulate",
    "row_features": ".drift",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
