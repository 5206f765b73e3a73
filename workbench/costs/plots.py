"""Plots of projections and sensitivity tables (matplotlib, imported on first use). Titles carry the cost basis,
so a chart built on simulated costs says so."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._util.figures import UNPRICED, colour_for, legend_outside
from .items import basis_label, fmt_usd
from .projection import Projection


def _axes(ax: Any, size: tuple[float, float]) -> Any:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=size, layout="constrained")[1]


def _single(p: Projection, ax: Any) -> Any:
    names = [f"{t.tier}\n{t.model or 'local'}" for t in p.tiers]
    values = [t.monthly_usd or 0.0 for t in p.tiers]
    bars = ax.barh(names, values, color=[UNPRICED if t.monthly_usd is None else colour_for(t.tier) for t in p.tiers])
    for bar, t in zip(bars, p.tiers, strict=True):
        ax.annotate(f" {fmt_usd(t.monthly_usd)} ({t.share:.0%})", (bar.get_width(), bar.get_y() + bar.get_height() / 2),
                    va="center", fontsize=8)
    ax.invert_yaxis()
    ax.margins(x=0.2)
    ax.set_xlabel("USD per month")
    ax.set_ylabel("tier (model)")
    ax.set_title(f"{fmt_usd(p.monthly_usd)} per month at {p.scenario.items_per_day:,.0f} items/day\n{p.basis}",
                 fontsize=9)
    return ax


def _stacked(projections: Mapping[str, Projection], ax: Any) -> Any:
    names = list(projections)
    tiers = list(dict.fromkeys(t.tier for p in projections.values() for t in p.tiers))
    left = [0.0] * len(names)
    for tier in tiers:
        widths = [next((t.monthly_usd or 0.0 for t in p.tiers if t.tier == tier), 0.0) for p in projections.values()]
        ax.barh(names, widths, left=left, label=tier, color=colour_for(tier))
        left = [a + b for a, b in zip(left, widths, strict=True)]
    for i, p in enumerate(projections.values()):
        ax.annotate(f" {fmt_usd(p.monthly_usd)}", (left[i], i), va="center", fontsize=8)
    ax.invert_yaxis()
    ax.margins(x=0.15)
    legend_outside(ax, title="tier")
    ax.set_xlabel("USD per month")
    ax.set_ylabel("scenario")
    bases = [b for p in projections.values() for b in p.bases]
    ax.set_title(f"Monthly cost by scenario\n{basis_label(bases)}", fontsize=9)
    return ax


def plot_projection(projection: Projection | Mapping[str, Projection], ax: Any = None) -> Any:
    """Monthly cost per tier (one projection), or stacked by tier per scenario (``{name: projection}``).

    Unpriced tiers are grey with the label ``unpriced``, never drawn as a $0 that looks real. Returns the Axes.
    """
    if isinstance(projection, Projection):
        return _single(projection, _axes(ax, (7, 1 + 0.6 * len(projection.tiers))))
    return _stacked(projection, _axes(ax, (8, 1 + 0.6 * len(projection))))


def plot_sensitivity(table: Any, ax: Any = None) -> Any:
    """A tornado plot of a ``sensitivity()`` table: per parameter, the range of monthly change it spans."""
    ranges = table.dropna(subset=["delta_usd"]).groupby("parameter", sort=False)["delta_usd"].agg(["min", "max"])
    ranges = ranges.assign(span=ranges["max"] - ranges["min"]).sort_values("span")
    ranges.index = [str(name).replace("_", " ") for name in ranges.index]  # "prompt shortening", not a column name
    ax = _axes(ax, (7, 1 + 0.5 * len(ranges)))
    ax.barh(ranges.index, ranges["max"].clip(lower=0), color="#d62728", label="costs more")
    ax.barh(ranges.index, ranges["min"].clip(upper=0), color="#2ca02c", label="saves")
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel("change in USD per month vs the base scenario")
    ax.set_ylabel("parameter varied")
    legend_outside(ax)
    base = table.attrs.get("base_monthly_usd")
    ax.set_title(f"Sensitivity around {fmt_usd(base)} per month\n{table.attrs.get('basis', '')}", fontsize=9)
    return ax
