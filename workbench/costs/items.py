"""Cost per item from measured token usage, priced offline (litellm's bundled map, registered prices, overrides).

    ics = item_costs(records)                       # records: dicts, Completions or a DataFrame
    ics["medium"].input_tokens, ics["medium"].cost_usd, ics["medium"].cost_basis
    ics.to_pandas()

An item's cost is recomputed from its mean token counts and the price of the model it is priced as, so a
projection can apply prompt shortening, provider prompt caching and batch prices token by token. A model without
a known price is *unpriced* (``cost_usd`` is ``None``), never $0; a ``local/*`` model on its own account is free.
"""
from __future__ import annotations

import dataclasses
import html
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import UsageError
from ..models.pricing import Price, price_for

PriceOverride = Price | Mapping[str, float]
"""A ``Price`` (USD per token) or a dict of USD per 1M tokens: ``input``, ``output`` and optionally
``cached_input``, ``batch_input``, ``batch_output``."""

SIMULATED_LABEL = "simulated: offline stand-ins priced as the real models"
BASIS_LABELS = {
    "simulated": SIMULATED_LABEL,
    "provider": "provider: real model calls priced from litellm's price map",
    "estimate": "estimate: token counts priced from litellm's price map",
    "offline": "offline: local heuristic models, free",
    "unpriced": "unpriced: no known price (not counted as $0)",
}
_BASIS_ORDER = ("unpriced", "simulated", "estimate", "provider", "offline")
_PRICE_KEYS = ("input", "output", "cached_input", "batch_input", "batch_output")


def price_from_override(value: PriceOverride) -> Price:
    """A ``Price`` as given, or one built from a dict of USD per 1M tokens (``source="override"``)."""
    if isinstance(value, Price):
        return value
    unknown = set(value) - set(_PRICE_KEYS)
    if unknown or "input" not in value or "output" not in value:
        raise UsageError(f"bad price override {dict(value)!r}",
                         hint=f"give USD per 1M tokens with keys input, output (and optionally "
                              f"{', '.join(_PRICE_KEYS[2:])}), or a workbench Price")
    if any(v is not None and v < 0 for v in value.values()):
        raise UsageError(f"negative price in override {dict(value)!r}")
    per_token = {k: (None if value.get(k) is None else float(value[k]) / 1e6) for k in _PRICE_KEYS}
    return Price(per_token["input"], per_token["output"], per_token["cached_input"], per_token["batch_input"],
                 per_token["batch_output"], source="override")


def resolve_price(model: str, overrides: Mapping[str, PriceOverride] | None = None) -> Price | None:
    """The price of ``model``: an override (by full id or bare name) first, else the default price book."""
    if overrides:
        bare = model.partition("/")[2]
        for key in (model, bare):
            if key and key in overrides:
                return price_from_override(overrides[key])
    return price_for(model)


def basis_label(bases: Iterable[str]) -> str:
    """A human label for the cost bases behind a number, most cautious first (``simulated`` says so)."""
    given = set(bases)
    present = [b for b in _BASIS_ORDER if b in given]
    return "; ".join(BASIS_LABELS[b] for b in present) or BASIS_LABELS["estimate"]


@dataclass(frozen=True)
class ItemCost:
    """Mean tokens and cost of one item on one tier, with how that cost is known."""

    tier: str
    """The tier (or model, for records without a tier) the items ran on."""
    model: str | None
    """The model whose price applies (the real model for a stand-in); ``None`` for a free ``local/*`` model."""
    n_items: int
    """Items measured."""
    input_tokens: float
    """Mean prompt tokens per item (cached ones included)."""
    output_tokens: float
    """Mean generated tokens per item."""
    cached_input_tokens: float = 0.0
    """Mean prompt tokens per item served from the provider's prompt cache."""
    price: Price | None = None
    """The price used; ``None`` when the model is unpriced or free."""
    cost_basis: str = "estimate"
    """``simulated``, ``provider``, ``estimate``, ``offline`` (free) or ``unpriced``."""
    measured_cost_usd: float | None = None
    """Mean ``cost_usd`` the calls reported (response-cache hits excluded); ``None`` when not all were priced."""
    bases: dict[str, int] = field(default_factory=dict)
    """How many records had each ``cost_basis``."""
    cache_write_tokens: float = 0.0
    """Mean prompt tokens per item written to the provider's prompt cache (priced at its cache-write premium)."""

    @property
    def free(self) -> bool:
        """A ``local/*`` model on its own account: it costs nothing (a real $0, not a missing price)."""
        return self.cost_basis == "offline"

    @property
    def unpriced(self) -> bool:
        """The model has no known price: ``cost_usd`` is ``None``."""
        return self.cost_basis == "unpriced"

    @property
    def write_share(self) -> float:
        """Share of prompt tokens written to the provider's prompt cache when measured."""
        return self.cache_write_tokens / self.input_tokens if self.input_tokens else 0.0

    @property
    def cached_share(self) -> float:
        """Share of prompt tokens that were provider-cached when measured."""
        return self.cached_input_tokens / self.input_tokens if self.input_tokens else 0.0

    @property
    def cost_usd(self) -> float | None:
        """List-price cost per item from the mean tokens (``None`` when unpriced, 0 when free)."""
        if self.free:
            return 0.0
        if self.price is None:
            return None
        return self.price.cost(self)

    @property
    def label(self) -> str:
        """The human label of this cost's basis (``basis_label``)."""
        return basis_label([self.cost_basis])

    def to_dict(self) -> dict[str, Any]:
        """The fields as JSON-ready values, with the price as a dict and the computed ``cost_usd``."""
        d = dataclasses.asdict(self)
        d["price"] = None if self.price is None else dataclasses.asdict(self.price)
        d["cost_usd"] = self.cost_usd
        return d

    def _repr_html_(self) -> str:
        return ItemCosts({self.tier: self})._repr_html_()


class ItemCosts(dict[str, ItemCost]):
    """``{tier: ItemCost}`` that shows itself as a table."""

    def to_pandas(self):
        """One row per tier: model, items, mean tokens, cost per item, measured cost, basis, price source."""
        import pandas as pd

        return pd.DataFrame([{
            "tier": ic.tier, "model": ic.model, "n_items": ic.n_items, "input_tokens": ic.input_tokens,
            "output_tokens": ic.output_tokens, "cached_input_tokens": ic.cached_input_tokens,
            "cost_per_item_usd": ic.cost_usd, "measured_cost_usd": ic.measured_cost_usd,
            "cost_basis": ic.cost_basis, "price_source": None if ic.price is None else ic.price.source,
        } for ic in self.values()]).set_index("tier")

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(ic.tier)}</td><td>{html.escape(ic.model or '—')}</td><td>{ic.n_items}</td>"
            f"<td>{ic.input_tokens:,.0f}</td><td>{ic.output_tokens:,.0f}</td><td>{fmt_usd(ic.cost_usd, 6)}</td>"
            f"<td>{html.escape(ic.cost_basis)}</td></tr>" for ic in self.values())
        return ("<table><tr><th>tier</th><th>model</th><th>items</th><th>in tok</th><th>out tok</th>"
                f"<th>$/item</th><th>basis</th></tr>{rows}</table>"
                f"<small>{html.escape(basis_label(ic.cost_basis for ic in self.values()))}</small>")


def fmt_usd(value: float | None, digits: int = 2) -> str:
    """``$1,234.56``, or ``unpriced`` for ``None`` (never ``$0``)."""
    return "unpriced" if value is None else f"${value:,.{digits}f}"


def item_cost(tier: str, model: str | None, input_tokens: float, output_tokens: float, *,
              cached_input_tokens: float = 0.0,
              price_overrides: Mapping[str, PriceOverride] | None = None) -> ItemCost:
    """An ``ItemCost`` from assumed token counts: a what-if before anything is measured, so ``n_items`` is 0
    and the basis ``estimate`` (``unpriced`` without a price, ``offline`` for a ``local/*`` model)."""
    if model is None or model.startswith("local/"):
        return ItemCost(tier, None, 0, input_tokens, output_tokens, cached_input_tokens, None, "offline")
    price = resolve_price(model, price_overrides)
    return ItemCost(tier, model, 0, float(input_tokens), float(output_tokens), float(cached_input_tokens),
                    price, "estimate" if price is not None else "unpriced")


# --- measured records -> ItemCosts ------------------------------------------------------------------------------

def as_rows(records: Any) -> list[dict[str, Any]]:
    """Records as plain dicts: a DataFrame, dicts, ``Completion``s or other dataclasses (NaN becomes ``None``)."""
    if hasattr(records, "to_dict") and hasattr(records, "columns"):
        records = records.to_dict("records")
    rows = []
    for r in records:
        if isinstance(r, Mapping):
            d = dict(r)
        elif hasattr(r, "to_dict"):
            d = r.to_dict()
        elif dataclasses.is_dataclass(r):
            d = dataclasses.asdict(r)
        else:
            d = dict(vars(r))
        rows.append({k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in d.items()})
    return rows


def _tokens(row: Mapping[str, Any], name: str) -> float:
    value = row.get(name)
    if value is None and isinstance(row.get("usage"), Mapping):
        value = row["usage"].get(name)
    return float(value or 0)


def _priced_model(row: Mapping[str, Any]) -> str | None:
    model = row.get("priced_as") or row.get("model")
    return None if not model or str(model).startswith("local/") else str(model)


def _group_items(rows: list[dict[str, Any]], item_key: str | None) -> dict[str, list[list[dict[str, Any]]]]:
    """``{tier: [records of one item, ...]}``: records sharing ``item_key`` on a tier are one item."""
    items: dict[str, dict[Any, list[dict[str, Any]]]] = {}
    for i, row in enumerate(rows):
        tier = str(row.get("tier") or row.get("priced_as") or row.get("model") or "?")
        key = row.get(item_key) if item_key else None
        items.setdefault(tier, {}).setdefault(("item", key) if key is not None else ("row", i), []).append(row)
    return {tier: list(groups.values()) for tier, groups in items.items()}


def _tier_cost(tier: str, items: list[list[dict[str, Any]]],
               overrides: Mapping[str, PriceOverride] | None) -> ItemCost:
    flat = [r for item in items for r in item]
    n = len(items)
    mean = {k: sum(_tokens(r, k) for r in flat) / n
            for k in ("input_tokens", "output_tokens", "cached_input_tokens", "cache_write_tokens")}
    bases = Counter(str(r.get("cost_basis") or "unknown") for r in flat)
    models = Counter(m for m in map(_priced_model, flat) if m)
    paid = [r for r in flat if not r.get("cached") and r.get("cache", "miss") == "miss"]
    measured = (None if not paid or any(r.get("cost_usd") is None for r in paid)
                else sum(float(r["cost_usd"]) for r in paid) / n)
    model = models.most_common(1)[0][0] if models else None
    price = resolve_price(model, overrides) if model else None
    if model is None:
        basis = "offline"
    elif price is None:
        basis = "unpriced"
    else:
        basis = next((b for b in ("simulated", "provider") if bases.get(b)), "estimate")
    return ItemCost(tier, model, n, mean["input_tokens"], mean["output_tokens"], mean["cached_input_tokens"],
                    price, basis, measured, dict(bases), mean["cache_write_tokens"])


def item_costs(records: Any, *, item_key: str | None = "sample_id",
               price_overrides: Mapping[str, PriceOverride] | None = None) -> ItemCosts:
    """Mean tokens and cost per item, per tier, from measured usage records.

    A record has ``tier``, ``input_tokens``, ``output_tokens``, ``cached_input_tokens`` (or a ``usage`` dict of
    them), ``cost_usd``, ``cost_basis`` and ``priced_as``/``model``. Records of one tier that share ``item_key``
    (e.g. a sample's answer and its retry) add up to one item. Each tier is priced as its most common
    ``priced_as`` model; ``price_overrides`` (``{model: Price or per-1M dict}``) win over litellm's map.
    """
    rows = as_rows(records)
    if not rows:
        raise UsageError("no usage records to measure cost per item from")
    return ItemCosts({tier: _tier_cost(tier, items, price_overrides)
                      for tier, items in _group_items(rows, item_key).items()})
