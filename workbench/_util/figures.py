"""One look for every plot: a fixed colour per model tier (and so per variant), legends outside the data.

    from workbench._util.figures import colour_for, legend_outside
    ax.bar(tiers, costs, color=[colour_for(t) for t in tiers])
    legend_outside(ax, title="tier")

A variant (``"grounded_qa@v2 · small"``) or a scenario (``"all large"``) takes the colour of the tier it names, so
notebook 00's bars, notebook 03's Pareto points and notebook 04's cost bars agree; a name with no tier in it gets a
stable colour of its own (the same in every notebook and every run). matplotlib is never imported here.
"""
from __future__ import annotations

import re
import zlib
from typing import Any

TIER_COLOURS = {"small": "#2ca02c", "medium": "#ff7f0e", "large": "#1f77b4", "routed": "#9467bd"}
"""The tiers' colours: green (cheap) to blue (frontier); ``routed`` (a mix of tiers) in purple."""
UNPRICED = "#9e9e9e"
"""Grey: a bar with no price (never drawn as a $0 that looks real)."""
_OTHERS = ("#d62728", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f", "#aec7e8", "#ffbb78", "#98df8a",
           "#c5b0d5", "#c49c94", "#f7b6d2", "#9edae5", "#dbdb8d")
_WORD = re.compile(r"[a-z]+")


def tier_of(name: str) -> str | None:
    """The tier a label names: ``routed`` when it says so, else the last tier word in it (``None`` if none)."""
    words = _WORD.findall(str(name).lower())
    if "routed" in words:
        return "routed"
    return next((w for w in reversed(words) if w in TIER_COLOURS), None)


def colour_for(name: str) -> str:
    """The colour of a tier, a variant or a scenario (its tier's), else a stable colour picked by the name."""
    tier = tier_of(name)
    if tier is not None:
        return TIER_COLOURS[tier]
    return _OTHERS[zlib.crc32(str(name).encode("utf-8")) % len(_OTHERS)]


def colours_for(names: Any) -> list[str]:
    """``colour_for`` of each name, in order (for ``color=`` of a bar chart or a DataFrame plot)."""
    return [colour_for(n) for n in names]


def legend_outside(ax: Any, **kwargs: Any) -> Any:
    """A legend to the right of the axes, where it cannot cover the data; ``kwargs`` go to ``ax.legend``."""
    kwargs.setdefault("fontsize", 8)
    return ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, **kwargs)
