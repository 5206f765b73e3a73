"""Sliders over a cost projection: volume, tier mix and levers -> live monthly total, per-tier bars, basis label.

    from workbench.widgets.costs import projection_sliders
    projection_sliders(ics, Scenario(items_per_day=50_000, mix={"small": 0.6, "large": 0.4}))

Notebook-only (``lab`` extra): never imported by the runner. Tier sliders are weights, normalised to shares.
"""
from __future__ import annotations

import html
import math
from collections.abc import Mapping
from typing import Any

from .._util.figures import UNPRICED, colour_for
from ..costs.items import ItemCost, fmt_usd
from ..costs.projection import Projection, Scenario, project

LEVERS = (("cache_hit_rate", "cache hits", 1.0), ("batch_share", "batch share", 1.0),
          ("prompt_shortening", "prompt −", 0.9))


def scenario_from(base: Scenario, items_per_day: float, weights: Mapping[str, float],
                  levers: Mapping[str, float]) -> Scenario:
    """``base`` with the slider values: tier weights normalised to shares (all zero: keep the base mix)."""
    total = sum(weights.values())
    mix = {t: w / total for t, w in weights.items() if w > 0} if total > 0 else dict(base.mix)
    return base.replace(items_per_day=items_per_day, mix=mix, **levers)


def render(p: Projection) -> str:
    """HTML: the monthly total, one bar per tier (unpriced in grey, labelled), and the basis label."""
    top = max((t.monthly_usd or 0.0 for t in p.tiers), default=0.0) or 1.0
    bars = []
    for t in p.tiers:
        width = 0 if t.monthly_usd is None else 100 * t.monthly_usd / top
        colour = UNPRICED if t.monthly_usd is None else colour_for(t.tier)
        bars.append(f"<div style='display:flex;align-items:center;gap:6px;font-size:12px'>"
                    f"<span style='width:90px'>{html.escape(t.tier)} {t.share:.0%}</span>"
                    f"<span style='width:260px;background:#eee'><span style='display:block;height:12px;"
                    f"width:{width:.1f}%;background:{colour}'></span></span>"
                    f"<span>{fmt_usd(t.monthly_usd)}/mo · {fmt_usd(t.cost_per_item_usd, 6)}/item</span></div>")
    per_item = p.cost_per_item_usd
    head = (f"<div style='font-size:16px'><b>{fmt_usd(p.monthly_usd)}</b> per month"
            f" · {fmt_usd(p.daily_usd)} per day · {fmt_usd(per_item, 6)} per item</div>")
    if p.unpriced:
        head += f"<div style='color:#b71c1c'>unpriced: {html.escape(', '.join(p.unpriced))} (not counted as $0)</div>"
    return f"{head}{''.join(bars)}<div style='font-size:11px;color:#555'>{html.escape(p.basis)}</div>"


def kept(value: float, exact: float, step: float, *, log: bool = False) -> bool:
    """A slider still within half a step of ``exact`` (its readout rounds to it): the browser snaps a starting value
    to the slider's steps and sends it back, which is not a move."""
    if log:
        return abs(math.log10(max(value, 1e-12)) - math.log10(max(exact, 1e-12))) <= step / 2 + 1e-9
    return abs(value - exact) <= step / 2 + 1e-9


def projection_sliders(item_costs: Mapping[str, ItemCost], base: Scenario) -> Any:
    """An ipywidgets box: sliders for items/day (log scale), tier weights, cache hits, batch share and prompt
    shortening, over a live view of ``project(...)``. ``box.scenario()`` returns the scenario shown: a slider
    within half a step of ``base``'s value counts as ``base``'s exact value, so the first total shown is the one the
    notebook printed for ``base`` (the browser rounds the sliders to their steps when it draws them), and moving one
    slider changes only its own parameter."""
    import ipywidgets as w

    exponent = math.log10(max(base.items_per_day, 1.0))
    step = 0.05
    volume = w.FloatLogSlider(value=max(base.items_per_day, 1.0), base=10, min=exponent - step * (exponent // step),
                              max=max(7.0, exponent + 1), step=step, description="items/day", readout_format=",.0f")
    weights = {t: w.FloatSlider(value=base.mix.get(t, 0.0), min=0, max=1, step=0.01, description=f"tier {t}")
               for t in item_costs}
    levers = {name: w.FloatSlider(value=getattr(base, name), min=0, max=top, step=0.01, description=label,
                                  readout_format=".0%") for name, label, top in LEVERS}
    view = w.HTML()

    base_mix = {t: base.mix.get(t, 0.0) for t in weights}
    base_levers = {n: getattr(base, n) for n in levers}

    def scenario() -> Scenario:
        items = volume.value
        if kept(items, max(base.items_per_day, 1.0), volume.step, log=True):
            items = base.items_per_day
        mix = {t: base_mix[t] if kept(s.value, base_mix[t], s.step) else s.value for t, s in weights.items()}
        lever_values = {n: base_levers[n] if kept(s.value, base_levers[n], s.step) else s.value
                        for n, s in levers.items()}
        if items == base.items_per_day and mix == base_mix and lever_values == base_levers:
            return base  # nothing moved (a moved slider is over half a step away, so never equal)
        return scenario_from(base, items, mix, lever_values)

    def update(change: Any = None) -> None:
        view.value = render(project(scenario(), item_costs))

    for slider in (volume, *weights.values(), *levers.values()):
        slider.observe(update, names="value")
    update()
    box = w.HBox([w.VBox([volume, *weights.values(), *levers.values()]), view])
    box.scenario = scenario
    box.view = view
    box.sliders = {"items_per_day": volume, **{f"tier:{t}": s for t, s in weights.items()}, **levers}
    return box
