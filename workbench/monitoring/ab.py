"""A/B in production: per-variant quality (sampled), cost and latency from the live split, each candidate
compared with the control (the variant with the largest split weight) by a two-sample bootstrap, and a plain
recommendation.

Differences are *candidate − control*, with a percentile bootstrap interval (both groups resampled
independently, seeded). The recommendation, in this order:

- ``keep collecting`` — fewer than ``min_scored`` sampled outputs (or ``min_requests`` requests) on a side;
- ``roll back`` — quality significantly lower (interval entirely below 0) or the failure rate significantly higher;
- ``promote`` — quality not worse by more than ``margin`` (interval's low end above −margin) *and* either quality
  significantly higher or cost per request significantly lower;
- ``keep collecting`` — otherwise: the data cannot tell them apart yet.

Reference-free checks cannot see a confident wrong answer: confirm a promotion with ``workbench gate`` on the eval
set before ``workbench rollout promote``.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np

from .alerts import Alert
from .ops import percentile
from .quality import RowScore

MIN_SCORED = 30
MIN_REQUESTS = 50


@dataclass(frozen=True)
class ABRules:
    """When the A/B section may recommend anything but ``keep collecting`` (see the module docstring)."""

    min_scored: int = MIN_SCORED
    """Sampled (scored) outputs needed on each side."""
    min_requests: int = MIN_REQUESTS
    """Requests needed on each side."""
    margin: float = 0.02
    """How much lower quality (as a share) still counts as "not worse" for a promotion."""


def bootstrap_difference(a: list[float], b: list[float], *, n_boot: int = 4000, ci: float = 0.95,
                         seed: int = 0) -> dict[str, float | int]:
    """Mean of ``b`` − mean of ``a`` with a two-sample percentile bootstrap interval."""
    x, y = np.asarray(a, float), np.asarray(b, float)
    rng = np.random.default_rng(seed)
    diffs = (y[rng.integers(0, len(y), size=(n_boot, len(y)))].mean(axis=1)
             - x[rng.integers(0, len(x), size=(n_boot, len(x)))].mean(axis=1))
    lo, hi = np.quantile(diffs, [(1 - ci) / 2, (1 + ci) / 2])
    return {"difference": float(y.mean() - x.mean()), "ci_low": float(lo), "ci_high": float(hi),
            "n_a": len(x), "n_b": len(y), "ci": ci}


def _variant(rows: list[dict[str, Any]], scores: dict[int, RowScore]) -> dict[str, list[float]]:
    return {"quality": [float(scores[r["id"]].passed) for r in rows if r.get("id") in scores],
            "cost": [r["cost_usd"] for r in rows if r["cost_usd"] is not None and r["status"] != "rejected"],
            "latency": [r["latency_ms"] for r in rows if r["latency_ms"] is not None],
            "failed": [float(r["status"] == "failed") for r in rows]}


def _describe(values: dict[str, list[float]], n: int) -> dict[str, Any]:
    def mean(xs: list[float]) -> float | None:
        return float(np.mean(xs)) if xs else None

    return {"requests": n, "scored": len(values["quality"]), "pass_rate": mean(values["quality"]),
            "cost_per_request": mean(values["cost"]), "latency_p50_ms": percentile(values["latency"], 50),
            "latency_mean_ms": mean(values["latency"]), "error_rate": mean(values["failed"])}


def recommend(comparison: dict[str, Any], *, margin: float = 0.02) -> tuple[str, str]:
    """``(recommendation, reason)`` for one candidate's comparison (see the module docstring)."""
    q, cost, failed = comparison.get("quality"), comparison.get("cost_per_request"), comparison.get("error_rate")
    if q is None:
        return "keep collecting", comparison.get("reason", "not enough data on one side")
    if q["ci_high"] < 0:
        return "roll back", f"quality is lower by {-q['difference'] * 100:.1f} points (interval below 0)"
    if failed is not None and failed["ci_low"] > 0:
        return "roll back", f"failure rate is higher by {failed['difference'] * 100:.1f} points"
    cheaper = cost is not None and cost["ci_high"] < 0
    if q["ci_low"] > -margin and (q["ci_low"] > 0 or cheaper):
        why = "quality is higher" if q["ci_low"] > 0 else f"quality is not worse (by more than {margin * 100:.0f} " \
                                                           "points) and cost per request is lower"
        return "promote", why
    return "keep collecting", "the intervals cannot tell the variants apart yet"


def ab(window: list[dict[str, Any]], scores: dict[int, RowScore], weights: dict[str, float] | None = None, *,
       rules: ABRules | None = None, seed: int = 0) -> tuple[dict[str, Any], list[Alert]]:
    """The ``ab`` part of the report and an ``ab_rollback`` alert per candidate to roll back (``rules``:
    default ``ABRules()``; ``seed``: the bootstrap's)."""
    rules = rules or ABRules()
    min_scored, min_requests = rules.min_scored, rules.min_requests
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in window:
        if r.get("variant"):
            groups[str(r["variant"])].append(r)
    if len(groups) < 2:
        return {"status": "single_variant", "variants": {v: _describe(_variant(g, scores), len(g))
                                                         for v, g in groups.items()}}, []
    weights = weights or {}
    control = max(groups, key=lambda v: (weights.get(v, 0.0), len(groups[v])))
    values = {v: _variant(g, scores) for v, g in groups.items()}
    out: dict[str, Any] = {"status": "ok", "control": control,
                           "variants": {v: _describe(values[v], len(groups[v])) for v in sorted(groups)},
                           "comparisons": {}}
    alerts = []
    for cand in sorted(v for v in groups if v != control):
        a, b = values[control], values[cand]
        comp: dict[str, Any] = {}
        if min(len(a["quality"]), len(b["quality"])) < min_scored or min(len(groups[control]),
                                                                          len(groups[cand])) < min_requests:
            comp["reason"] = (f"needs {min_scored} sampled outputs and {min_requests} requests per variant; has "
                              f"{len(a['quality'])}/{len(b['quality'])} and {len(groups[control])}/{len(groups[cand])}")
        else:
            comp["quality"] = bootstrap_difference(a["quality"], b["quality"], seed=seed)
            for key, metric in (("cost", "cost_per_request"), ("latency", "latency_ms"), ("failed", "error_rate")):
                if a[key] and b[key]:
                    comp[metric] = bootstrap_difference(a[key], b[key], seed=seed)
        comp["recommendation"], comp["reason"] = recommend(comp, margin=rules.margin)
        out["comparisons"][cand] = comp
        if comp["recommendation"] == "roll back":
            alerts.append(Alert("ab_rollback", "pass_rate", f"roll back {cand!r}: {comp['reason']}",
                                value=comp["quality"]["difference"] if "quality" in comp else None,
                                scope=f"variant={cand}", severity="critical"))
    return out, alerts
