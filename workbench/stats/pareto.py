"""Quality against cost and latency: the variants no other beats on every axis at once (the Pareto front)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import UsageError
from ._data import is_missing


def _records(rows: Any) -> list[dict[str, Any]]:
    """Rows as dicts, from a list of dicts or a DataFrame."""
    if hasattr(rows, "to_dict") and hasattr(rows, "columns"):
        return rows.to_dict("records")
    return [dict(r) for r in rows]


def _objectives(records: list[dict[str, Any]], maximise: Sequence[str],
                minimise: Sequence[str]) -> np.ndarray:
    """(rows × criteria) matrix oriented so larger is better everywhere; NaN where a value is missing."""
    cols = [*maximise, *minimise]
    sign = np.array([1.0] * len(maximise) + [-1.0] * len(minimise))
    for name in cols:
        if records and not any(name in r for r in records):
            raise UsageError(f"no row has a {name!r} column", hint=f"columns: {sorted(records[0])}")
    values = [[np.nan if is_missing(r.get(c)) else float(r[c]) for c in cols] for r in records]
    m = np.array(values, dtype=float)
    return m.reshape(len(records), len(cols)) * sign


def pareto_front(rows: Any, maximise: Sequence[str] = ("quality",),
                 minimise: Sequence[str] = ("cost", "latency")) -> list[bool]:
    """Non-dominated flags, one per row: True when no other row is at least as good on every criterion and
    strictly better on one. Rows missing a criterion (None/NaN) are never on the front and dominate nothing;
    identical rows do not dominate each other."""
    m = _objectives(_records(rows), maximise, minimise)
    complete = ~np.isnan(m).any(axis=1)
    full = m[complete]
    # dominated[i] = some j with full[j] >= full[i] everywhere and > somewhere
    ge = (full[:, None, :] >= full[None, :, :]).all(axis=2)   # ge[j, i]: j at least as good as i
    gt = (full[:, None, :] > full[None, :, :]).any(axis=2)
    dominated = (ge & gt).any(axis=0)
    flags = np.zeros(len(m), dtype=bool)
    flags[np.flatnonzero(complete)] = ~dominated
    return flags.tolist()


@dataclass(frozen=True)
class PointStyle:
    """Which columns mark the points of ``plot_pareto``; a column that is absent (or None) is skipped."""

    label: str | None = "variant"
    """Names each point in a legend beside the plot (no text on the data, so labels never pile up). A point takes
    its tier's colour (``workbench._util.figures.colour_for``); the part of the name before `` · `` (the prompt)
    picks its marker."""
    colour: str | None = None
    """A numeric column that colours the points instead, with a colour bar."""
    colour_label: str | None = None
    """The colour bar's label, with its unit (default: the column's name)."""
    size: str | None = None
    """Scales the marker areas (30 to 300) over its range."""


_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def plot_pareto(df: Any, x: str = "cost", y: str = "quality", *, style: PointStyle | None = None,
                ax: Any = None) -> Any:
    """Scatter ``y`` (maximised) against ``x`` (minimised), the 2-D front as a step line; returns the axes.

    ``style``: the columns that name, colour and size the points (default ``PointStyle()``). Points on the front
    are outlined; the legend sits outside the axes. matplotlib is imported here, on first use."""
    import pandas as pd

    from .._util.figures import colour_for, legend_outside

    style = style or PointStyle()
    frame = df if isinstance(df, pd.DataFrame) else pd.DataFrame(_records(df))
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(9, 4), layout="constrained")
    front = np.array(pareto_front(frame, maximise=(y,), minimise=(x,)))
    sizes = np.broadcast_to(_sizes(frame, style.size), (len(frame),))
    numeric = style.colour in frame and pd.api.types.is_numeric_dtype(frame[style.colour])
    if numeric:
        from matplotlib.cm import ScalarMappable
        from matplotlib.colors import Normalize

        values = frame[style.colour].astype(float)
        mappable = ScalarMappable(Normalize(values.min(), values.max()), "viridis")
        ax.figure.colorbar(mappable, ax=ax, label=style.colour_label or style.colour)
    names = [str(v) for v in frame[style.label]] if style.label in frame else [""] * len(frame)
    groups = list(dict.fromkeys(n.split(" · ")[0] for n in names))
    for i, name in enumerate(names):
        marker = _MARKERS[groups.index(name.split(" · ")[0]) % len(_MARKERS)]
        colour = mappable.to_rgba(values.iloc[i]) if numeric else colour_for(name)
        ax.scatter(frame[x].iloc[i], frame[y].iloc[i], s=sizes[i], marker=marker, zorder=3, linewidths=1.5,
                   label=name or None, edgecolors="black" if front[i] else "none", color=colour)
    pts = frame.loc[front, [x, y]].sort_values(x)
    ax.step(pts[x], pts[y], where="post", color="black", linewidth=1, zorder=2, label="Pareto front (outlined)")
    ax.set_xlabel(f"{x} (lower is better)")
    ax.set_ylabel(f"{y} (higher is better)")
    ax.set_title(f"{y} against {x}: the Pareto front")
    legend_outside(ax)
    return ax


def _column(frame: Any, name: str | None, default: Any) -> Any:
    return frame[name] if name is not None and name in frame else default


def _sizes(frame: Any, name: str | None) -> Any:
    """Marker areas 30–300 scaled from ``name``'s range, or a constant 60."""
    if name is None or name not in frame:
        return 60
    v = frame[name].astype(float).to_numpy()
    span = np.nanmax(v) - np.nanmin(v)
    return 30 + 270 * ((v - np.nanmin(v)) / span if span > 0 else np.zeros_like(v))
