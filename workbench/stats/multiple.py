"""Many variants against one baseline: Holm–Bonferroni correction and a comparison table."""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import StatsError, UsageError
from .comparison import Comparison, ComparisonOptions, paired_comparison


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values, in the input order.

    Sort ascending; the i-th smallest (1-based) becomes ``max_{j ≤ i} min(1, (m − j + 1)·p_(j))``. Rejecting
    where the adjusted p < alpha controls the family-wise error rate at alpha, and is never less powerful than
    Bonferroni (Holm 1979; same as R's ``p.adjust(p, "holm")``)."""
    p = [float(x) for x in pvalues]
    if any(math.isnan(x) or not 0 <= x <= 1 for x in p):
        raise UsageError(f"p-values must be in [0, 1], got {p}")
    return holm_adjust(np.asarray(p)).tolist() if p else []


def holm_adjust(p: np.ndarray) -> np.ndarray:
    """``holm`` along the last axis of an array, unchecked (one row per simulated experiment, in
    ``workbench.stats.simulation``)."""
    p = np.asarray(p, dtype=float)
    k = p.shape[-1]
    order = np.argsort(p, axis=-1, kind="stable")
    ranked = np.take_along_axis(p, order, axis=-1) * (k - np.arange(k))
    adjusted = np.minimum(np.maximum.accumulate(ranked, axis=-1), 1.0)
    out = np.empty_like(adjusted)
    np.put_along_axis(out, order, adjusted, axis=-1)
    return out


def compare_many(values_by_variant: Mapping[str, Any], baseline: str, *, kind: str = "auto",
                 options: ComparisonOptions | None = None) -> list[Comparison]:
    """Compare every variant with ``baseline`` (B = variant, A = baseline), Holm-correcting the p-values;
    ``kind`` and ``options`` as in ``paired_comparison``.

    ``values_by_variant`` maps a variant name to its ``{sample_id: value}`` (or Series). Each comparison pairs
    on its own (a sample one variant missed is dropped from that comparison only). ``significant`` and the
    verdict use the adjusted p-value; the bootstrap intervals are per-comparison (not simultaneous).
    A variant with too few pairs raises ``StatsError`` naming it."""
    if baseline not in values_by_variant:
        raise StatsError(f"baseline {baseline!r} is not among the variants {sorted(values_by_variant)}",
                         code="unknown_variant", hint="pass the name of one of the variants as baseline")
    raw = [paired_comparison(values_by_variant[baseline], values, name_a=baseline, name_b=name, kind=kind,
                             options=options)
           for name, values in values_by_variant.items() if name != baseline]
    adjusted = holm([c.p_value for c in raw])
    label = f"holm ({len(raw)} comparisons)"
    return [dataclasses.replace(c, p_adjusted=p, correction=label) for c, p in zip(raw, adjusted, strict=True)]


TABLE_COLUMNS = ("variant", "baseline", "kind", "n_pairs", "mean_baseline", "mean_variant", "difference",
                 "ci_low", "ci_high", "test", "p_value", "p_adjusted", "significant", "b01", "b10",
                 "odds_ratio", "n_dropped", "n_unpaired", "equivalent", "more_items_needed", "verdict")


def comparison_table(comparisons: Sequence[Comparison]) -> Any:
    """A pandas DataFrame, one row per comparison (columns: ``TABLE_COLUMNS``), indexed by variant."""
    import pandas as pd

    rows = [_row(c) for c in comparisons]
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS)).set_index("variant")


def _row(c: Comparison) -> dict[str, Any]:
    return {"variant": c.name_b, "baseline": c.name_a, "kind": c.kind, "n_pairs": c.n_pairs,
            "mean_baseline": c.mean_a, "mean_variant": c.mean_b, "difference": c.difference,
            "ci_low": c.ci_low, "ci_high": c.ci_high, "test": c.test, "p_value": c.p_value,
            "p_adjusted": c.p_adjusted, "significant": c.significant, "b01": c.b01, "b10": c.b10,
            "odds_ratio": c.odds_ratio, "n_dropped": c.n_dropped,
            "n_unpaired": c.n_unpaired_a + c.n_unpaired_b, "equivalent": c.equivalent,
            "more_items_needed": c.more_items_needed, "verdict": c.verdict}
