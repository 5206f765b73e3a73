"""Checks a matplotlib figure for what makes a plot hard to read, and records every figure a notebook shows.

``figure_problems(fig)`` lists, per axes with data: a missing title, a missing axis label, an axis label that is
a raw column name (``bad_cut_pct``, ``ts``), a legend drawn over the data, text labels (annotations, tick labels)
that overlap or are cut off by the figure's edge, and a series named after a tier whose colour is not that tier's
(``workbench._util.figures``). ``install(path)`` makes every figure rendered in this process (the inline
backend's ``print_figure``) append ``{"source", "titles", "problems"}`` to ``path`` as a JSON line: the test
settings install it in each notebook kernel, and ``notebooks/test_figures.py`` reads the file.
"""
from __future__ import annotations

import itertools
import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from .._util.figures import TIER_COLOURS, tier_of

RAW_NAMES = {"ts", "n", "start", "hour", "index", "value", "count", "name", "id", "x", "y"}
"""Labels that are a column's name, not a description (snake_case names are caught by their shape)."""
_SNAKE = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)+$")
_SLACK = 1.0  # pixels: boxes that merely touch do not overlap


def _boxes_overlap(a: Any, b: Any) -> bool:
    return (min(a.x1, b.x1) - max(a.x0, b.x0) > _SLACK) and (min(a.y1, b.y1) - max(a.y0, b.y0) > _SLACK)


def _inside(box: Any, points: np.ndarray) -> bool:
    if points.size == 0:
        return False
    x, y = points[:, 0], points[:, 1]
    ok = np.isfinite(x) & np.isfinite(y)
    return bool(np.any(ok & (x > box.x0 + _SLACK) & (x < box.x1 - _SLACK) & (y > box.y0 + _SLACK)
                       & (y < box.y1 - _SLACK)))


def _line_points(line: Any) -> np.ndarray:
    """Display coordinates of a line's vertices and of points along each segment (a line may pass under a box)."""
    xy = line.get_transform().transform(np.asarray(line.get_xydata(), dtype=float))
    if len(xy) < 2:
        return xy
    steps = np.linspace(0.0, 1.0, 12)[:, None, None]
    return (xy[:-1] + steps * (xy[1:] - xy[:-1])).reshape(-1, 2)


def _data_artists(ax: Any) -> tuple[list[Any], list[np.ndarray]]:
    """(bounding boxes of bars and patches, point sets of lines and scatters) drawn in ``ax``."""
    boxes = [p.get_window_extent() for p in ax.patches if p.get_visible() and p is not ax.patch
             and p.get_width() * p.get_height() != 0] if ax.patches else []
    points = [_line_points(line) for line in ax.lines if line.get_visible()]
    for coll in ax.collections:
        offsets = np.asarray(coll.get_offsets(), dtype=float)
        if coll.get_visible() and offsets.size:
            points.append(coll.get_offset_transform().transform(offsets))
    return boxes, points


def _has_data(ax: Any) -> bool:
    return bool(ax.patches or ax.lines or ax.collections or ax.images)


def _label_problem(axis: str, label: str) -> str | None:
    text = label.strip()
    if not text:
        return f"no {axis} label"
    if text.lower() in RAW_NAMES or _SNAKE.match(text):
        return f"{axis} label {text!r} is a column name, not a description"
    return None


def _ticks_visible(ax: Any, axis: str) -> bool:
    ticks = ax.get_xticklabels() if axis == "x" else ax.get_yticklabels()
    return any(t.get_visible() and t.get_text() for t in ticks)


def _text_problems(ax: Any, fig_box: Any, renderer: Any) -> list[str]:
    found = []
    texts = [t for t in ax.texts if t.get_visible() and t.get_text().strip()]
    boxes = [(t.get_text().strip(), t.get_window_extent(renderer)) for t in texts]
    for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2):
        if _boxes_overlap(box_a, box_b):
            found.append(f"labels {a!r} and {b!r} overlap")
            break
    for text, box in boxes:
        if box.x1 > fig_box.x1 + _SLACK or box.x0 < fig_box.x0 - _SLACK or box.y1 > fig_box.y1 + _SLACK \
                or box.y0 < fig_box.y0 - _SLACK:
            found.append(f"label {text!r} is cut off by the figure's edge")
    for axis, ticks in (("x", ax.get_xticklabels()), ("y", ax.get_yticklabels())):
        shown = [(t.get_text(), t.get_window_extent(renderer)) for t in ticks if t.get_visible() and t.get_text()]
        for (a, box_a), (b, box_b) in zip(shown, shown[1:], strict=False):
            if _boxes_overlap(box_a, box_b):
                found.append(f"{axis} tick labels {a!r} and {b!r} overlap")
                break
    return found


def _colour_problems(ax: Any) -> list[str]:
    from matplotlib.colors import to_hex

    legend = ax.get_legend()
    if legend is None:
        return []
    found = []
    for handle, text in zip(legend.legend_handles, legend.get_texts(), strict=False):
        tier = tier_of(text.get_text())
        if tier is None or handle is None:
            continue
        getter = getattr(handle, "get_facecolor", None) or getattr(handle, "get_color", None)
        colour = getter() if getter else None
        if hasattr(handle, "get_markerfacecolor") and handle.get_marker() not in (None, "None", ""):
            colour = handle.get_markerfacecolor()
        if colour is None:
            continue
        if not isinstance(colour, str):
            values = np.asarray(colour, dtype=float).ravel()  # RGB(A), or one RGBA row per point of a scatter
            width = 4 if values.size % 4 == 0 else 3 if values.size % 3 == 0 else 0
            colour = tuple(values[:width]) if width else None
        if colour is not None and to_hex(colour) != TIER_COLOURS[tier]:
            found.append(f"{text.get_text()!r} is not drawn in the {tier} tier's colour {TIER_COLOURS[tier]}")
    return found


def figure_problems(fig: Any) -> list[str]:
    """What makes ``fig`` hard to read (see the module docstring); empty when nothing does."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    fig_box = fig.bbox
    found: list[str] = []
    for i, ax in enumerate(fig.axes):
        if not ax.get_visible() or hasattr(ax, "_colorbar") or not _has_data(ax):
            continue
        name = ax.get_title() or ax.get_title("left") or f"axes {i + 1}"
        where = f"[{name}] "
        if not (ax.get_title() or ax.get_title("left") or ax.get_title("right")):
            found.append(f"{where}no title")
        for axis, label in (("x", ax.get_xlabel()), ("y", ax.get_ylabel())):
            if _ticks_visible(ax, axis):
                problem = _label_problem(axis, label)
                if problem:
                    found.append(where + problem)
        legend = ax.get_legend()
        if legend is not None and legend.get_visible():
            box = legend.get_window_extent(renderer)
            bars, point_sets = _data_artists(ax)
            if any(_boxes_overlap(box, b) for b in bars) or any(_inside(box, p) for p in point_sets):
                found.append(f"{where}the legend covers data")
        found += [where + p for p in _text_problems(ax, fig_box, renderer)]
        found += [where + p for p in _colour_problems(ax)]
    return found


def _titles(fig: Any) -> list[str]:
    suptitle = fig._suptitle.get_text() if getattr(fig, "_suptitle", None) else ""
    return [t for t in [suptitle, *(ax.get_title() for ax in fig.axes)] if t]


def install(path: str | os.PathLike[str]) -> None:
    """Audit every figure rendered in this process (``FigureCanvasBase.print_figure``), one JSON line each."""
    from matplotlib.backend_bases import FigureCanvasBase

    original = FigureCanvasBase.print_figure
    if getattr(original, "_workbench_audit", False):
        return
    out = Path(path)

    def print_figure(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            problems = figure_problems(self.figure)
        except Exception as e:  # noqa: BLE001 - the audit must never break the notebook it watches
            problems = [f"audit failed: {type(e).__name__}: {e}"]
        record = {"source": os.environ.get("WORKBENCH_FIGURE_SOURCE", "unknown"), "titles": _titles(self.figure),
                  "problems": problems}
        with out.open("a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        return original(self, *args, **kwargs)

    print_figure._workbench_audit = True  # type: ignore[attr-defined]
    FigureCanvasBase.print_figure = print_figure  # type: ignore[method-assign]
