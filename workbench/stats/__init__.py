"""⑥ Statistics for comparing pipeline variants on small (100–200 sample) eval sets.

    from workbench.stats import paired_comparison, compare_many, comparison_table
    c = paired_comparison(scores_a, scores_b, name_a="baseline", name_b="rerank")   # {sample_id: value}
    c.verdict     # "rerank is better than baseline by 6.0 points (95% CI 2.1 to 9.8; McNemar p = 0.004, …"

Pairing is by sample id; None/NaN values are dropped pairwise and counted, never scored as 0. Binary data get
McNemar's exact test, continuous data Wilcoxon signed-rank (exact with few non-zero differences, else Pratt),
both with a paired bootstrap interval; rates of independent samples Wilson/Newcombe intervals and Fisher's test;
``compare_many`` Holm-corrects; the planner (``sample_size_paired_binary``, ``min_detectable_difference``,
``power_curve``) says how many samples a difference needs; ``aa_noise`` measures judge re-run noise;
``pareto_front`` / ``plot_pareto`` show quality against cost and latency.

Notebook-side: numpy and scipy load with the first name used; ``import workbench`` never imports this package.
"""
from .._util.lazy import lazy_exports

_EXPORTS = {
    # comparisons
    "Comparison": ".comparison", "ComparisonOptions": ".comparison", "paired_comparison": ".comparison",
    "compare_many": ".multiple", "comparison_table": ".multiple", "holm": ".multiple",
    # building blocks
    "pair": "._data", "Paired": "._data",
    "bootstrap_ci": ".inference", "mcnemar_exact": ".inference", "wilcoxon_test": ".inference",
    "McNemar": ".inference", "Wilcoxon": ".inference", "WILCOXON_ZERO_METHOD": ".inference",
    "wilcoxon_exact": ".inference",
    # rates: score intervals and exact tests
    "wilson_interval": ".rates", "newcombe_interval": ".rates", "fisher_exact_p": ".rates",
    "rate_difference": ".rates",
    # planning
    "sample_size_paired_binary": ".power", "sample_size_paired_continuous": ".power",
    "power_paired_binary": ".power", "power_paired_continuous": ".power",
    "min_detectable_difference": ".power", "power_curve": ".power", "default_discordance": ".power",
    "per_test_alpha": ".power", "TestLevel": ".power",
    # checking a plan by simulation
    "simulated_power_binary": ".simulation", "simulated_aa_false_positives": ".simulation",
    "holm_adjust": ".multiple", "SimulatedRate": ".simulation", "Draws": ".simulation",
    # judge noise, trade-offs
    "aa_noise": ".noise", "pareto_front": ".pareto", "plot_pareto": ".pareto",
    "PointStyle": ".pareto",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
