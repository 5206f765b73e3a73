"""The figure audit finds each fault it names on a figure built to have it, and nothing on a figure without faults;
the palette gives a tier, its variants and its scenarios one colour."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from workbench._util.figures import TIER_COLOURS, colour_for, colours_for, legend_outside, tier_of  # noqa: E402
from workbench.testing.figure_audit import figure_problems  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def good_bars():
    fig, ax = plt.subplots(figsize=(6, 3), layout="constrained")
    for i, tier in enumerate(("small", "large")):
        ax.bar([i], [3 + i], color=colour_for(tier), label=tier)
    ax.set_title("Cost of 1,000 calls")
    ax.set_xlabel("model tier")
    ax.set_ylabel("USD per 1,000 calls")
    ax.set_xticks([0, 1], ["small", "large"])
    legend_outside(ax, title="tier")
    return fig, ax


def test_a_clean_figure_has_no_problems():
    fig, _ = good_bars()
    assert figure_problems(fig) == []


def test_missing_title_and_labels_are_found():
    fig, ax = good_bars()
    ax.set_title("")
    ax.set_xlabel("")
    problems = figure_problems(fig)
    assert any("no title" in p for p in problems)
    assert any("no x label" in p for p in problems)


@pytest.mark.parametrize("label", ["bad_cut_pct", "ts", "n", "start", "latency_p50_ms"])
def test_a_column_name_is_not_an_axis_label(label):
    fig, ax = good_bars()
    ax.set_ylabel(label)
    assert any("column name" in p for p in figure_problems(fig))


def test_a_legend_over_the_bars_is_found():
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.bar(range(4), [5, 5, 5, 5], width=0.95, color=colour_for("small"), label="small")
    ax.set_title("t"), ax.set_xlabel("x axis"), ax.set_ylabel("y axis")
    ax.legend(loc="upper left")
    assert any("legend covers data" in p for p in figure_problems(fig))


def test_a_legend_over_a_line_is_found_even_between_its_points():
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.plot([0, 10], [1, 1], color="k", label="a line")  # two points, far apart: the segment passes under the legend
    ax.plot([0, 10], [0, 2], color="r", label="another")
    ax.set_ylim(0, 2)
    ax.set_title("t"), ax.set_xlabel("x axis"), ax.set_ylabel("y axis")
    ax.legend(loc="center")
    assert any("legend covers data" in p for p in figure_problems(fig))


def test_overlapping_annotations_and_cut_off_labels_are_found():
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.scatter([1, 1.01, 5], [1, 1.01, 5])  # two points close together on this scale
    ax.annotate("grounded_qa@v2 · small", (1, 1))
    ax.annotate("grounded_qa@v1 · small", (1.01, 1.01))
    ax.annotate("routed small/large with a very long label", (5, 5))
    ax.set_title("t"), ax.set_xlabel("x axis"), ax.set_ylabel("y axis")
    problems = figure_problems(fig)
    assert any("overlap" in p for p in problems)
    assert any("cut off" in p for p in problems)


def test_overlapping_tick_labels_are_found():
    fig, ax = plt.subplots(figsize=(3, 3))
    names = ["a long strategy name", "another long strategy", "and a third long one"]
    ax.bar(names, [1, 2, 3])
    ax.set_title("t"), ax.set_xlabel("x axis"), ax.set_ylabel("y axis")
    assert any("tick labels" in p for p in figure_problems(fig))


def test_a_tier_in_another_colour_is_found():
    fig, ax = plt.subplots(figsize=(6, 3), layout="constrained")
    ax.bar([0], [1], color="#d62728", label="grounded_qa@v2 · large")
    ax.set_title("t"), ax.set_xlabel("x axis"), ax.set_ylabel("y axis")
    legend_outside(ax)
    assert any("large tier's colour" in p for p in figure_problems(fig))


@pytest.mark.parametrize("draw", ["line", "marker", "scatter", "rgb"])
def test_a_tier_line_or_point_in_another_colour_is_found(draw):
    fig, ax = plt.subplots(figsize=(6, 3), layout="constrained")
    for tier, right in (("small", True), ("large", False)):
        colour = colour_for(tier) if right else "C3"
        if draw == "line":
            ax.plot([0, 1], [0, 1], color=colour, label=tier)
        elif draw == "marker":
            ax.plot([0, 1], [0, 1], "o-", color=colour, label=tier)
        elif draw == "scatter":
            ax.scatter([0, 1], [1, 0], color=colour, label=tier)
        else:
            ax.plot([0, 1], [0, 1], color=matplotlib.colors.to_rgb(colour), label=tier)
    ax.set_title("t"), ax.set_xlabel("x axis"), ax.set_ylabel("y axis")
    legend_outside(ax)
    problems = figure_problems(fig)
    assert [p for p in problems if "tier's colour" in p] == [f"[t] 'large' is not drawn in the large tier's colour "
                                                             f"{TIER_COLOURS['large']}"], problems


def test_a_colour_bar_needs_no_title_of_its_own():
    fig, ax = plt.subplots(figsize=(6, 3), layout="constrained")
    points = ax.scatter([1, 2], [1, 2], c=[1, 2])
    fig.colorbar(points, ax=ax, label="latency (ms)")
    ax.set_title("t"), ax.set_xlabel("x axis"), ax.set_ylabel("y axis")
    assert figure_problems(fig) == []


def test_tiers_variants_and_scenarios_share_a_colour():
    assert tier_of("grounded_qa@v2 · small") == "small"
    assert tier_of("grounded_qa@v2 · routed small/large") == "routed"
    assert tier_of("all large") == "large"
    assert tier_of("tier large (gpt-4o)") == "large"
    assert tier_of("eval set") is None
    assert colour_for("grounded_qa@v1 · medium") == colour_for("medium") == TIER_COLOURS["medium"]
    assert colours_for(["small", "large"]) == [TIER_COLOURS["small"], TIER_COLOURS["large"]]
    others = {colour_for(n) for n in ("eval set", "window", "bm25", "embedding")}
    assert not others & set(TIER_COLOURS.values())  # no other series is mistaken for a tier


def test_a_name_gets_the_same_colour_in_another_process():
    code = "from workbench._util.figures import colour_for; print(colour_for('eval set'), colour_for('window'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONHASHSEED": "123"})
    assert out.stdout.split() == [colour_for("eval set"), colour_for("window")]


def test_install_records_every_rendered_figure(tmp_path, monkeypatch):
    import io

    from matplotlib.backend_bases import FigureCanvasBase

    from workbench.testing.figure_audit import install

    monkeypatch.setattr(FigureCanvasBase, "print_figure", FigureCanvasBase.print_figure)  # restored afterwards
    out = tmp_path / "figures.jsonl"
    install(out)
    fig, ax = good_bars()
    fig.savefig(io.BytesIO(), format="png")  # what the inline backend does when a cell shows a figure
    ax.set_title("")
    fig.savefig(io.BytesIO(), format="png")
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["problems"] for r in rows][0] == []
    assert any("no title" in p for p in rows[1]["problems"])
