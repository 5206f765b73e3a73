"""Is a routing policy worth it? Quality and cost per item of each policy over the same samples, and each policy's
change against the baseline **paired by sample**, with a 95 % paired bootstrap interval (quality over the samples
both policies scored; cost over the samples both priced).

    t = routing_tradeoff({"all large": records_a, "routed": records_b})
    t.to_pandas()          # quality, share per tier, cost per item, saving vs the baseline (the first policy)
    Scenario(items_per_day=..., mix=t.mix("routed"))      # project the routed mix at volume

Data in, data out: records are dicts or a DataFrame with ``sample_id``, ``tier``, ``cost_usd`` and a score
column, as the experiments engine writes them. Records of one sample (e.g. a classifier call and the answer, or
an escalation) add up: their costs are summed, the item's tier is the last record's, its score the last one given.
"""
from __future__ import annotations

import html
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import UsageError
from .items import as_rows, basis_label, fmt_usd


@dataclass(frozen=True)
class PolicyResult:
    """Quality and cost per item of one policy over the compared samples."""

    name: str
    n_items: int
    quality: float | None
    """Mean score over items with a score; ``None`` when none was measured."""
    n_unscored: int
    """Items without a score (excluded from ``quality``, counted here)."""
    tier_shares: dict[str, float]
    """Share of items answered by each tier."""
    cost_per_item_usd: float | None
    """Mean summed cost per item; ``None`` when some record is unpriced."""
    basis: str = ""
    """Label of the cost basis (``simulated``... when records carry ``cost_basis``)."""


@dataclass(frozen=True)
class PairedChange:
    """A policy minus the baseline on the samples both measured, with a 95 % paired bootstrap interval."""

    difference: float
    ci_low: float
    ci_high: float
    n_pairs: int


def _paired(base: dict[Any, dict[str, Any]], other: dict[Any, dict[str, Any]], ids: list[Any],
            key: str) -> PairedChange | None:
    from ..stats import bootstrap_ci

    pairs = [(base[i][key], other[i][key]) for i in ids if base[i][key] is not None and other[i][key] is not None]
    if len(pairs) < 2:
        return None
    diffs = [b - a for a, b in pairs]
    low, high = bootstrap_ci(diffs, n_boot=4000, seed=0)
    return PairedChange(sum(diffs) / len(diffs), low, high, len(pairs))


@dataclass(frozen=True)
class RoutingTradeoff:
    """Policies side by side on the samples they all ran, with savings against ``baseline``."""

    policies: tuple[PolicyResult, ...]
    baseline: str
    n_samples: int
    """Samples present in every policy (the ones compared)."""
    dropped: dict[str, int] = field(default_factory=dict)
    """Per policy, samples left out because another policy lacks them."""
    quality_change: dict[str, PairedChange | None] = field(default_factory=dict)
    """Per policy: its score minus the baseline's on the samples both scored (paired), with an interval."""
    cost_change: dict[str, PairedChange | None] = field(default_factory=dict)
    """Per policy: its cost per item minus the baseline's on the same samples, with an interval."""

    def __getitem__(self, name: str) -> PolicyResult:
        for p in self.policies:
            if p.name == name:
                return p
        raise KeyError(name)

    def saving(self, name: str) -> float | None:
        """Fractional cost saving of ``name`` against the baseline (0.4 = 40 % cheaper); ``None`` if unpriced."""
        base, other = self[self.baseline].cost_per_item_usd, self[name].cost_per_item_usd
        return None if base is None or other is None or base == 0 else 1.0 - other / base

    def quality_delta(self, name: str) -> float | None:
        """Quality of ``name`` minus the baseline's on the samples both scored (negative: worse); ``None`` when
        fewer than two samples were scored by both."""
        if name == self.baseline:
            return 0.0 if self[name].quality is not None else None
        change = self.quality_change.get(name)
        return None if change is None else change.difference

    def mix(self, name: str) -> dict[str, float]:
        """The tier shares of a policy, ready for ``Scenario(mix=...)``."""
        return dict(self[name].tier_shares)

    def to_pandas(self):
        """One row per policy: items, quality, quality delta, cost per item, saving, share per tier."""
        import pandas as pd

        tiers = sorted({t for p in self.policies for t in p.tier_shares})
        rows = []
        for p in self.policies:
            base = self[self.baseline].cost_per_item_usd
            q, c = self.quality_change.get(p.name), self.cost_change.get(p.name)
            rows.append({"policy": p.name, "n_items": p.n_items, "quality": p.quality,
                         "quality_delta": self.quality_delta(p.name),
                         "quality_delta_ci_low": q.ci_low if q else None,
                         "quality_delta_ci_high": q.ci_high if q else None, "n_paired": q.n_pairs if q else None,
                         "cost_delta_ci_low": c.ci_low if c else None, "cost_delta_ci_high": c.ci_high if c else None,
                         "cost_per_item_usd": p.cost_per_item_usd,
                         "saving_usd_per_item": None if base is None or p.cost_per_item_usd is None
                         else base - p.cost_per_item_usd, "saving_pct": self.saving(p.name), "basis": p.basis,
                         **{f"share[{t}]": p.tier_shares.get(t, 0.0) for t in tiers}})
        return pd.DataFrame(rows).set_index("policy")

    def _repr_html_(self) -> str:
        def num(x: float | None, f: str) -> str:
            return "—" if x is None else format(x, f)

        rows = "".join(
            f"<tr><td>{html.escape(p.name)}</td><td>{p.n_items}</td><td>{num(p.quality, '.3f')}</td>"
            f"<td>{num(self.quality_delta(p.name), '+.3f')}</td><td>{fmt_usd(p.cost_per_item_usd, 6)}</td>"
            f"<td>{num(self.saving(p.name), '.0%')}</td><td>"
            + html.escape(", ".join(f"{t} {s:.0%}" for t, s in p.tier_shares.items())) + "</td></tr>"
            for p in self.policies)
        bases = {p.basis for p in self.policies if p.basis}
        return (f"<div><table><tr><th>policy</th><th>items</th><th>quality</th><th>Δ quality</th><th>$/item</th>"
                f"<th>saving</th><th>tiers</th></tr>{rows}</table><small>baseline: {html.escape(self.baseline)}; "
                f"{html.escape('; '.join(sorted(bases)))}</small></div>")


def _per_sample(rows: list[dict[str, Any]], score: str) -> dict[Any, dict[str, Any]]:
    samples: dict[Any, dict[str, Any]] = {}
    for row in rows:
        if row.get("sample_id") is None:
            raise UsageError("a routing record has no sample_id", hint="records need sample_id, tier, cost_usd, score")
        s = samples.setdefault(row["sample_id"], {"cost": 0.0, "tier": None, "score": None, "bases": []})
        cost = row.get("cost_usd")
        s["cost"] = None if cost is None or s["cost"] is None else s["cost"] + float(cost)
        s["tier"] = row.get("tier") or s["tier"]
        value = row.get(score)
        if value is not None and not (isinstance(value, float) and math.isnan(value)):
            s["score"] = float(value)
        if row.get("cost_basis"):
            s["bases"].append(str(row["cost_basis"]))
    return samples


def _policy(name: str, samples: dict[Any, dict[str, Any]], ids: list[Any]) -> PolicyResult:
    items = [samples[i] for i in ids]
    scored = [s["score"] for s in items if s["score"] is not None]
    costs = [s["cost"] for s in items]
    tiers = Counter(str(s["tier"]) for s in items)
    bases = [b for s in items for b in s["bases"]]
    return PolicyResult(name, len(items), sum(scored) / len(scored) if scored else None, len(items) - len(scored),
                        {t: n / len(items) for t, n in tiers.most_common()},
                        None if any(c is None for c in costs) else sum(costs) / len(items),
                        basis_label(bases) if bases else "")


def routing_tradeoff(records_by_policy: Mapping[str, Any], *, baseline: str | None = None,
                     score: str = "score") -> RoutingTradeoff:
    """Quality (mean ``score``, share of items per tier) and cost per item of each policy, and the saving
    against ``baseline`` (default: the first policy, e.g. everything on the largest tier).

    Only samples present in every policy are compared; how many were left out is in ``dropped``. The changes
    against the baseline (``quality_change``, ``cost_change``) are paired by sample, with intervals.
    """
    if len(records_by_policy) < 2:
        raise UsageError("give at least two policies, e.g. {'all large': records, 'routed': records}")
    baseline = baseline or next(iter(records_by_policy))
    if baseline not in records_by_policy:
        raise UsageError(f"unknown baseline {baseline!r}", hint=f"one of {', '.join(records_by_policy)}")
    per_policy = {name: _per_sample(as_rows(recs), score) for name, recs in records_by_policy.items()}
    common = set.intersection(*(set(s) for s in per_policy.values()))
    if not common:
        raise UsageError("the policies share no sample_id", hint="run every policy over the same eval set")
    ids = [i for i in per_policy[baseline] if i in common]
    others = [n for n in per_policy if n != baseline]
    base = per_policy[baseline]
    return RoutingTradeoff(tuple(_policy(n, s, ids) for n, s in per_policy.items()), baseline, len(ids),
                           {n: len(s) - len(ids) for n, s in per_policy.items()},
                           {n: _paired(base, per_policy[n], ids, "score") for n in others},
                           {n: _paired(base, per_policy[n], ids, "cost") for n in others})
