"""Read a run folder: records as a DataFrame, per-variant summaries, paired comparisons, listing runs.

Errors are counted, never averaged in as NaN: a cell whose pipeline failed or rejected the input scores as *not
passed* (value 0) for its criteria — a production error is a wrong answer — and is also counted in ``errors``
(unless the sample expects that status, e.g. ``rejected`` for a hostile input: then it passes);
a score the scorer could not measure (e.g. an unparseable judge verdict) is left out of means and counted in
``unmeasured``.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .records import RunRecord

if TYPE_CHECKING:
    from ..stats import ComparisonOptions


OVERALL = "overall"
"""The cell passes when every measured criterion of its sample passed; its value is their mean."""


def _cell_value(r: RunRecord, scorer: str) -> tuple[float | None, bool | None]:
    if r.status != "ok":
        return (1.0, True) if r.status == r.expected_status else (0.0, False)
    if r.expected_status != "ok":
        return 0.0, False  # the input should have been refused and was answered
    if scorer == OVERALL:
        measured = [s for s in r.scores.values() if s.get("measured") and s.get("value") is not None]
        if not measured:
            return None, None
        passed = [s["passed"] for s in measured if s.get("passed") is not None]
        return sum(s["value"] for s in measured) / len(measured), all(passed) if passed else None
    s = r.scores.get(scorer)
    if not s or not s.get("measured"):
        return None, None
    return s.get("value"), s.get("passed")


class ExperimentResults:
    """The records of one run folder (``records.jsonl`` + ``manifest.json``).

    Only the records of each variant's current config (its ``config_hash`` in the manifest) count: after a
    variant's config changed, the resumed run answers its cells again, and the old answers stay in the file but
    out of every table (``stale`` counts them)."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.manifest = json.loads((self.folder / "manifest.json").read_text(encoding="utf-8"))
        variants = self.manifest.get("variants")
        current = {name: v.get("config_hash") for name, v in variants.items()
                   if isinstance(v, dict)} if isinstance(variants, dict) else {}
        records = _read_records(self.folder / "records.jsonl")
        self.records = [r for r in records if current.get(r.variant) in (None, r.config_hash)]
        self.stale = len(records) - len(self.records)
        """Records of a variant's earlier config, left out."""

    @property
    def variants(self) -> list[str]:
        """The variant names, in the manifest's order."""
        return list(self.manifest.get("variants", {}))

    @property
    def scorers(self) -> list[str]:
        """``overall`` (every criterion of the sample passed) and each scorer that appears in the records."""
        return [OVERALL, *dict.fromkeys(k for r in self.records for k in r.scores)]

    def to_pandas(self):
        """One row per cell, one column per score (``score:<name>`` value and ``pass:<name>``)."""
        import pandas as pd

        rows = []
        for r in self.records:
            row = {k: v for k, v in r.to_dict().items() if k not in ("scores", "tags")}
            row["error_code"] = r.error["code"] if r.error else None
            for name in self.scorers:
                row[f"score:{name}"], row[f"pass:{name}"] = _cell_value(r, name)
            rows.append(row)
        return pd.DataFrame(rows)

    def values(self, variant: str, scorer: str, *, kind: str = "passed") -> dict[str, Any]:
        """``{sample_id: value}`` for one variant and scorer (repeats averaged), for ``workbench.stats``."""
        acc: dict[str, list[Any]] = {}
        for r in self.records:
            if r.variant == variant:
                value, passed = _cell_value(r, scorer)
                acc.setdefault(r.sample_id, []).append(passed if kind == "passed" else value)
        out: dict[str, Any] = {}
        for sid, vs in acc.items():
            vs = [v for v in vs if v is not None]
            out[sid] = None if not vs else (vs[0] if len(vs) == 1 else sum(map(float, vs)) / len(vs))
        return out

    def summary(self, scorer: str | None = None):
        """Per variant: cells, pass rate (with its 95 % Wilson interval) and mean score (errors count as fails),
        errors, unmeasured, cost per
        item (what an answer costs without any cache; NaN with basis ``unpriced`` when a model has no price, never
        $0), what the run paid and what the caches saved, latency p50/p95, model calls, tokens, who answered."""
        import numpy as np
        import pandas as pd

        df = self.to_pandas()
        if df.empty:
            return pd.DataFrame()
        scorer = scorer or self.primary_scorer()
        from ..stats.rates import wilson_interval

        rows = []
        for variant, g in df.groupby("variant", sort=False):
            costs, paid, saved = g["answer_cost_usd"], g["cost_usd"], g["saved_usd"].fillna(0.0)
            passes = g[f"pass:{scorer}"].dropna().astype(float)
            low, high = wilson_interval(int(passes.sum()), len(passes)) if len(passes) else (None, None)
            rows.append({
                "variant": variant, "cells": len(g),
                "pass_rate": passes.mean(), "pass_rate_ci_low": low, "pass_rate_ci_high": high,
                "mean_score": g[f"score:{scorer}"].dropna().mean(),
                "errors": int((g["status"] != "ok").sum()),
                "unmeasured": int(g[f"score:{scorer}"].isna().sum()),
                "cost_per_item": costs.mean() if costs.notna().all() else None,
                "total_cost": costs.sum() if costs.notna().all() else None,
                "paid": paid.sum() if paid.notna().all() else None,
                "saved": saved.sum(),
                "cost_basis": ",".join(sorted(set(g["cost_basis"].dropna()))),
                "answered_by": ",".join(sorted(set(g["answered_by"].dropna()))),
                "latency_p50_ms": float(np.percentile(g["latency_ms"], 50)),
                "latency_p95_ms": float(np.percentile(g["latency_ms"], 95)),
                "input_tokens": int(g["input_tokens"].sum()), "model_calls": int(g["model_calls"].sum()),
            })
        return pd.DataFrame(rows).set_index("variant")

    def primary_scorer(self) -> str:
        """``overall``: a cell passes when every criterion of its sample passed."""
        return OVERALL

    def by_category(self, scorer: str | None = None):
        """Pass rate per variant × category (errors count as fails)."""
        scorer = scorer or self.primary_scorer()
        df = self.to_pandas()
        return df.assign(passed=df[f"pass:{scorer}"].astype(float)).pivot_table(
            index="variant", columns="category", values="passed", aggfunc="mean", sort=False)

    def compare(self, a: str, b: str, scorer: str | None = None, *, kind: str = "passed",
                options: ComparisonOptions | None = None):
        """A paired comparison of two variants on the same samples (``workbench.stats.paired_comparison``)."""
        from ..stats import paired_comparison

        scorer = scorer or self.primary_scorer()
        return paired_comparison(self.values(a, scorer, kind=kind), self.values(b, scorer, kind=kind),
                                 name_a=a, name_b=b, options=options)

    def failures(self, variant: str | None = None, scorer: str | None = None) -> list[RunRecord]:
        """The records that did not pass ``scorer`` (default ``overall``), of one variant or all; unmeasured cells are
        not failures."""
        scorer = scorer or self.primary_scorer()
        return [r for r in self.records if (variant is None or r.variant == variant)
                and _cell_value(r, scorer)[1] is False]

    def _repr_html_(self) -> str:
        return f"<b>{self.manifest.get('name')}</b>: {len(self.records)} records<br>" + \
            self.summary().to_html(float_format=lambda x: f"{x:.4g}")


def _read_records(path: Path) -> list[RunRecord]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(RunRecord.from_dict(json.loads(line)))
        except (ValueError, TypeError):
            continue  # a line cut short by an interrupted write; the cell reruns
    return out


def list_runs(root: str | Path | None = None) -> list[dict[str, Any]]:
    """Run folders under ``root`` (default: the workspace's ``runs/``), newest first."""
    from .._util.paths import workspace

    base = Path(root) if root else workspace("runs")
    runs = []
    for manifest in sorted(base.glob("*/manifest.json")):
        m = json.loads(manifest.read_text(encoding="utf-8"))
        n = sum(1 for _ in (manifest.parent / "records.jsonl").open()) if (manifest.parent / "records.jsonl").exists() else 0
        runs.append({"run": manifest.parent.name, "path": str(manifest.parent), "name": m.get("name"),
                     "created": m.get("created"), "evalset": m.get("evalset", {}).get("name"),
                     "evalset_hash": m.get("evalset", {}).get("hash"), "variants": len(m.get("variants", {})),
                     "records": n})
    return sorted(runs, key=lambda r: r["created"] or "", reverse=True)
