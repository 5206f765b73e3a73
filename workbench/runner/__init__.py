"""⑧ The thin production runner: load an exported config, run the same ``Pipeline`` on every input, and log,
meter, cache, degrade and escalate around it; a durable queue, a worker and an HTTP server around the runner.

Imports nothing from the notebook side (no pandas, matplotlib, ipywidgets, datasets or ragas; a test pins it).

    from workbench.runner import Runner
    runner = Runner.from_config("configs/pipeline.yaml")
    result = runner.run({"id": "q1", "question": "...", "documents": [...]})
"""
from .._util.lazy import lazy_exports

_EXPORTS = {
    "Runner": ".runner", "RunnerResult": ".result", "Reporting": ".runner", "Metrics": ".metrics",
    "render_metrics": ".metrics",
    "ConfigSource": ".source", "WorkQueue": ".queue", "Worker": ".worker", "WorkerOptions": ".worker",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
