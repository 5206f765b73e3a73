"""⑥ Experiments: run variants (each a ``PipelineConfig``) over an eval set, resumably, and read the results.

    from workbench.experiments import ExperimentSpec, Experiment, ExperimentResults
    exp = Experiment.from_spec(ExperimentSpec.load("experiments/prompt_variants_across_tiers.yaml"), out)
    exp.estimate(); exp.run()                       # in Jupyter: await exp.arun()
    res = ExperimentResults(out); res.summary(); res.compare("a", "b")
"""
from .._util.lazy import lazy_exports

_EXPORTS = {
    "ExperimentSpec": ".spec", "Experiment": ".engine", "RunOptions": ".engine", "Estimate": ".engine",
    "RunSummary": ".engine",
    "RunRecord": ".records", "ExperimentResults": ".results", "list_runs": ".results",
    "compare_prompt_lengths": ".shortening", "usage_rows": ".shortening",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
