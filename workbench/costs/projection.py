"""Cost at production volume: a ``Scenario`` (volume, tier mix, levers) applied to measured ``ItemCost``s.

    base = Scenario(items_per_day=50_000, mix={"small": 0.7, "large": 0.3}, cache_hit_rate=0.2)
    p = project(base, ics)                 # p.monthly_usd, p.to_pandas(), p.basis, p.plot()
    sensitivity(base, ics, vary={"batch_share": [0, 0.5, 1]})
    compare_scenarios(what_if_ladder(50_000, largest="large", mix={...}, cache_hit_rate=0.2), ics)

Per tier, the cost of one item is its mean prompt tokens (minus ``prompt_shortening``; ``cached_input_share``
of them at the cached-input price, ``cache_write_share`` at the cache-write price: Anthropic's prompt-cache writes
cost 1.25x the input price, and litellm's map says so) and output tokens at list price; ``batch_share`` of items pay the batch
price (``batch_discount``, default: the model's own batch prices when litellm has them, else 50 % off); a
``cache_hit_rate`` share of items is answered by the response cache at ``cache_hit_cost`` of the full cost.
"""
from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..errors import UsageError
from ..models.pricing import Price
from .items import ItemCost, basis_label, fmt_usd

DEFAULT_BATCH_DISCOUNT = 0.5
"""Batch discount when neither the scenario nor the model's price says otherwise (OpenAI's and Anthropic's)."""
_SHARE_TOLERANCE = 1e-6


class Scenario(BaseModel):
    """A production volume and the levers that change its cost. Frozen: ``replace()`` makes a variant."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["scenario"] = "scenario"
    items_per_day: float = Field(ge=0, description="items processed per day")
    mix: dict[str, float] = Field(description="share of items per tier; shares sum to 1")
    cache_hit_rate: float = Field(0.0, ge=0, le=1, description="share of items answered by the response cache")
    cache_hit_cost: float = Field(0.0, ge=0, le=1,
                                  description="what a cache hit costs, as a fraction of a full item (0: free)")
    batch_share: float = Field(0.0, ge=0, le=1, description="share of (uncached) items sent through a batch API")
    batch_discount: float | None = Field(None, ge=0, le=1, description="batch discount; None: the model's batch "
                                         "prices when litellm has them, else 50 %")
    prompt_shortening: float = Field(0.0, ge=0, le=1, description="fraction of input tokens removed")
    cached_input_share: float | None = Field(None, ge=0, le=1, description="share of input tokens billed at the "
                                             "provider's cached-input price; None: as measured")
    cache_write_share: float | None = Field(None, ge=0, le=1, description="share of input tokens written to the "
                                            "provider's prompt cache, at its cache-write price (a premium where "
                                            "litellm knows one); None: as measured")
    days_per_month: float = Field(30.0, gt=0)

    @field_validator("mix")
    @classmethod
    def _shares_sum_to_one(cls, mix: dict[str, float]) -> dict[str, float]:
        if not mix:
            raise ValueError("mix is empty: give at least one tier, e.g. {'medium': 1.0}")
        bad = {t: s for t, s in mix.items() if not 0.0 <= s <= 1.0}
        if bad:
            raise ValueError(f"tier shares must be in [0, 1], got {bad}")
        total = sum(mix.values())
        if abs(total - 1.0) > _SHARE_TOLERANCE:
            raise ValueError(f"tier shares sum to {total:g}, not 1: {mix}")
        return mix

    def replace(self, **changes: Any) -> Scenario:
        """A validated copy with ``changes`` applied."""
        return type(self).model_validate({**self.model_dump(), **changes})


@dataclass(frozen=True)
class TierProjection:
    """One tier's part of a projection."""

    tier: str
    model: str | None
    """The model priced (``None``: a free local model)."""
    share: float
    items_per_day: float
    cost_per_item_usd: float | None
    """Expected cost of one item on this tier with every lever applied; ``None`` when unpriced."""
    daily_usd: float | None
    monthly_usd: float | None
    cost_basis: str
    batch_discount: tuple[float, float]
    """(input, output) batch discount applied."""


@dataclass(frozen=True)
class Projection:
    """Daily and monthly cost of a scenario, per tier, with the basis of the numbers."""

    scenario: Scenario
    tiers: tuple[TierProjection, ...]
    daily_usd: float | None
    """Total per day; ``None`` when a tier in use is unpriced (see ``priced_daily_usd``)."""
    monthly_usd: float | None
    priced_daily_usd: float
    """Sum over the priced tiers only: a lower bound when some tier is unpriced."""
    unpriced: tuple[str, ...]
    """Tiers in use with no known price."""
    basis: str
    """Label of the cost basis, e.g. 'simulated: offline stand-ins priced as the real models'."""
    bases: tuple[str, ...] = field(default=())

    @property
    def cost_per_item_usd(self) -> float | None:
        """Daily cost over items per day; ``None`` when unpriced or there are no items."""
        if self.daily_usd is None or not self.scenario.items_per_day:
            return None
        return self.daily_usd / self.scenario.items_per_day

    @property
    def simulated(self) -> bool:
        """Some of the numbers are offline stand-ins priced as the real models (not measured spend)."""
        return "simulated" in self.bases

    def to_pandas(self):
        """One row per tier: model, share, items/day, cost per item, daily and monthly USD, basis."""
        import pandas as pd

        frame = pd.DataFrame([{k: getattr(t, k) for k in ("tier", "model", "share", "items_per_day",
                                                           "cost_per_item_usd", "daily_usd", "monthly_usd",
                                                           "cost_basis")} for t in self.tiers]).set_index("tier")
        frame.attrs["basis"] = self.basis
        return frame

    def to_dict(self) -> dict[str, Any]:
        """The scenario, totals, unpriced tiers, basis and per-tier rows as JSON-ready values."""
        return {"scenario": self.scenario.model_dump(), "daily_usd": self.daily_usd, "monthly_usd": self.monthly_usd,
                "priced_daily_usd": self.priced_daily_usd, "unpriced": list(self.unpriced), "basis": self.basis,
                "tiers": [t.__dict__ for t in self.tiers]}

    def summary(self) -> str:
        """One line: monthly total (or unpriced), items per day, basis."""
        total = fmt_usd(self.monthly_usd)
        if self.unpriced:
            total = (f"unpriced ({', '.join(self.unpriced)} unpriced; priced tiers alone "
                     f"{fmt_usd(self.priced_daily_usd * self.scenario.days_per_month)})")
        return f"{total} per month at {self.scenario.items_per_day:,.0f} items/day — {self.basis}"

    def plot(self, ax: Any = None) -> Any:
        """A bar chart of the monthly cost per tier (matplotlib, the ``lab`` extra); returns the axes."""
        from .plots import plot_projection

        return plot_projection(self, ax=ax)

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><td>{html.escape(t.tier)}</td><td>{html.escape(t.model or '—')}</td>"
                       f"<td>{t.share:.0%}</td><td>{fmt_usd(t.cost_per_item_usd, 6)}</td>"
                       f"<td>{fmt_usd(t.monthly_usd)}</td><td>{html.escape(t.cost_basis)}</td></tr>"
                       for t in self.tiers)
        return (f"<div><b>{html.escape(self.summary())}</b><table><tr><th>tier</th><th>model</th><th>share</th>"
                f"<th>$/item</th><th>$/month</th><th>basis</th></tr>{rows}</table></div>")


def batch_discounts(price: Price, override: float | None) -> tuple[float, float]:
    """(input, output) discount of the batch API: ``override``, else the model's batch prices, else 50 %."""
    if override is not None:
        return override, override

    def off(batch: float | None, full: float) -> float | None:
        return None if batch is None or full <= 0 else max(0.0, 1.0 - batch / full)

    d_in, d_out = off(price.batch_input, price.input), off(price.batch_output, price.output)
    if d_in is None and d_out is None:
        return DEFAULT_BATCH_DISCOUNT, DEFAULT_BATCH_DISCOUNT
    return (d_in if d_in is not None else d_out), (d_out if d_out is not None else d_in)


def cost_per_item(ic: ItemCost, s: Scenario) -> tuple[float | None, tuple[float, float]]:
    """Expected USD for one item on ``ic``'s tier under scenario ``s`` (``None`` when unpriced)."""
    if ic.free:
        return 0.0, (0.0, 0.0)
    price = ic.price
    if price is None:
        return None, (0.0, 0.0)
    prompt = ic.input_tokens * (1.0 - s.prompt_shortening)
    cached = s.cached_input_share if s.cached_input_share is not None else ic.cached_share
    written = s.cache_write_share if s.cache_write_share is not None else ic.write_share
    input_cost = price.input_cost(prompt, prompt * cached, prompt * written)
    output_cost = price.output_cost(ic.output_tokens)
    d_in, d_out = batch_discounts(price, s.batch_discount)
    batch_cost = input_cost * (1.0 - d_in) + output_cost * (1.0 - d_out)
    per_call = (1.0 - s.batch_share) * (input_cost + output_cost) + s.batch_share * batch_cost
    paid = (1.0 - s.cache_hit_rate) + s.cache_hit_rate * s.cache_hit_cost
    return per_call * paid, (d_in, d_out)


def _tier_projection(tier: str, share: float, ic: ItemCost, s: Scenario) -> TierProjection:
    per_item, discount = cost_per_item(ic, s)
    items = s.items_per_day * share
    daily = None if per_item is None else per_item * items
    return TierProjection(tier, ic.model, share, items, per_item, daily,
                          None if daily is None else daily * s.days_per_month, ic.cost_basis, discount)


def project(scenario: Scenario, item_costs: Mapping[str, ItemCost]) -> Projection:
    """Daily and monthly cost of ``scenario`` from per-tier ``item_costs`` (tiers with share 0 are skipped)."""
    missing = [t for t, share in scenario.mix.items() if share > 0 and t not in item_costs]
    if missing:
        raise UsageError(f"no cost per item for tier(s) {', '.join(missing)}",
                         hint=f"measure them, or build one with item_cost(); known: {', '.join(item_costs)}")
    tiers = tuple(_tier_projection(t, share, item_costs[t], scenario)
                  for t, share in scenario.mix.items() if share > 0)
    unpriced = tuple(t.tier for t in tiers if t.daily_usd is None)
    priced = sum(t.daily_usd for t in tiers if t.daily_usd is not None)
    daily = None if unpriced else priced
    bases = tuple(dict.fromkeys(t.cost_basis for t in tiers))
    return Projection(scenario, tiers, daily, None if daily is None else daily * scenario.days_per_month,
                      priced, unpriced, basis_label(bases), bases)


def default_vary(scenario: Scenario) -> dict[str, list[Any]]:
    """A sensible one-at-a-time grid around ``scenario``."""
    n = scenario.items_per_day
    return {"items_per_day": [n / 2, n * 2], "cache_hit_rate": [0.0, 0.2, 0.4, 0.6],
            "batch_share": [0.0, 0.5, 1.0], "prompt_shortening": [0.0, 0.2, 0.4],
            "cached_input_share": [0.0, 0.5, 0.9]}


def sensitivity(scenario: Scenario, item_costs: Mapping[str, ItemCost],
                vary: Mapping[str, Sequence[Any]] | None = None):
    """One-at-a-time sensitivity: one row per (parameter, value) with the monthly total and its change.

    Columns: ``parameter``, ``value``, ``monthly_usd``, ``delta_usd`` and ``delta_pct`` against the base
    scenario (NaN when unpriced). ``attrs`` hold ``base_monthly_usd`` and ``basis``.
    """
    import pandas as pd

    base = project(scenario, item_costs)
    rows = []
    for name, values in (vary or default_vary(scenario)).items():
        if name not in Scenario.model_fields or name == "kind":
            raise UsageError(f"cannot vary {name!r}", hint=f"vary one of {', '.join(list(Scenario.model_fields)[1:])}")
        for value in values:
            monthly = project(scenario.replace(**{name: value}), item_costs).monthly_usd
            delta = None if monthly is None or base.monthly_usd is None else monthly - base.monthly_usd
            rows.append({"parameter": name, "value": value, "monthly_usd": monthly, "delta_usd": delta,
                         "delta_pct": None if delta is None or not base.monthly_usd else delta / base.monthly_usd})
    frame = pd.DataFrame(rows, columns=["parameter", "value", "monthly_usd", "delta_usd", "delta_pct"])
    frame[["monthly_usd", "delta_usd", "delta_pct"]] = frame[["monthly_usd", "delta_usd", "delta_pct"]].astype(float)
    frame.attrs.update(base_monthly_usd=base.monthly_usd, basis=base.basis)
    return frame


def compare_scenarios(scenarios: Mapping[str, Scenario], item_costs: Mapping[str, ItemCost]):
    """What-ifs side by side: one row per named scenario (in order) with per-item, daily and monthly USD,
    the change against the first scenario, the basis and the monthly USD of each tier (``monthly[<tier>]``)."""
    import pandas as pd

    if not scenarios:
        raise UsageError("no scenarios to compare", hint="e.g. compare_scenarios(what_if_ladder(...), item_costs)")
    projections = {name: project(s, item_costs) for name, s in scenarios.items()}
    first = next(iter(projections.values())).monthly_usd
    tiers = list(dict.fromkeys(t.tier for p in projections.values() for t in p.tiers))
    rows = [{"scenario": name, "items_per_day": p.scenario.items_per_day, "cost_per_item_usd": p.cost_per_item_usd,
             "daily_usd": p.daily_usd, "monthly_usd": p.monthly_usd,
             "vs_first_pct": None if p.monthly_usd is None or not first else p.monthly_usd / first - 1,
             "basis": p.basis, **{f"monthly[{t}]": 0.0 for t in tiers},
             **{f"monthly[{t.tier}]": t.monthly_usd for t in p.tiers}}
            for name, p in projections.items()]
    frame = pd.DataFrame(rows).set_index("scenario")
    frame.attrs["basis"] = basis_label(b for p in projections.values() for b in p.bases)
    return frame


def what_if_ladder(items_per_day: float, *, largest: str, mix: Mapping[str, float], cache_hit_rate: float = 0.0,
                   batch_share: float = 0.0, prompt_shortening: float = 0.0, **common: Any) -> dict[str, Scenario]:
    """The usual what-ifs, each adding one lever to the last: all on ``largest`` → tiered routing (``mix``) →
    + response caching → + batch → + shorter prompt. Levers left at 0 are skipped."""
    base = Scenario(items_per_day=items_per_day, mix={largest: 1.0}, **common)
    steps: list[tuple[str, dict[str, Any]]] = [
        ("tiered routing", {"mix": dict(mix)}),
        (f"+ cache hits {cache_hit_rate:.0%}", {"cache_hit_rate": cache_hit_rate}),
        (f"+ batch {batch_share:.0%}", {"batch_share": batch_share}),
        (f"+ prompt -{prompt_shortening:.0%}", {"prompt_shortening": prompt_shortening}),
    ]
    ladder, current = {f"all on {largest}": base}, base
    for name, change in steps:
        if any(v for v in change.values()) and change != {"mix": {largest: 1.0}}:
            current = current.replace(**change)
            ladder[name] = current
    return ladder
