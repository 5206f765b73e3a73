"""Prices per token, offline: litellm's bundled price map, plus prices you register.

The map is read from the JSON file litellm ships (without importing litellm), so ``workbench models`` and cost
estimates work with no network. A model with no known price gives ``None``: callers report it as *unpriced*,
never as $0.
"""
from __future__ import annotations

import functools
import importlib.util
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..errors import UsageError


class TokenCounts(Protocol):
    """Anything with token counts: a call's ``Usage``, or an item's mean tokens."""

    input_tokens: float
    output_tokens: float
    cached_input_tokens: float
    cache_write_tokens: float


@dataclass(frozen=True, slots=True)
class Price:
    """USD per token for one model."""

    input: float
    """Per prompt token."""
    output: float
    """Per generated token."""
    cached_input: float | None = None
    """Per prompt token served from the provider's prompt cache, when the provider discounts them."""
    batch_input: float | None = None
    """Per prompt token through the provider's batch API, when it has one."""
    batch_output: float | None = None
    """Per generated token through the batch API."""
    cache_write: float | None = None
    """Per prompt token written to the provider's prompt cache, when the provider prices writes apart (a premium:
    Anthropic charges 1.25x the input price); None: writes cost the input price."""
    source: str = "litellm"
    """Where the price comes from: ``litellm`` (its bundled map), ``registered`` (``register_price``) or ``config``
    (a tier's ``price`` in ``configs/tiers.yaml`` or an exported config)."""

    def cost(self, usage: TokenCounts) -> float:
        """USD for the given token counts (cached prompt tokens at the cached price when there is one): the one
        cost formula, for a call's ``Usage`` and for the mean tokens of an item (``costs.ItemCost``) alike."""
        return (self.input_cost(usage.input_tokens, usage.cached_input_tokens, usage.cache_write_tokens)
                + self.output_cost(usage.output_tokens))

    def input_cost(self, tokens: float, cached: float = 0.0, written: float = 0.0) -> float:
        """USD for ``tokens`` prompt tokens, ``cached`` of them served from the provider's prompt cache and
        ``written`` of them written to it (at the cache-write price, a premium where the provider charges one)."""
        cached = min(cached, tokens)
        written = min(written, tokens - cached)
        cached_rate = self.input if self.cached_input is None else self.cached_input
        write_rate = self.input if self.cache_write is None else self.cache_write
        return (tokens - cached - written) * self.input + cached * cached_rate + written * write_rate

    def output_cost(self, tokens: float) -> float:
        """USD for ``tokens`` generated tokens."""
        return tokens * self.output

    def per_million(self) -> tuple[float, float]:
        """(input, output) USD per 1M tokens, the way price pages show them."""
        return self.input * 1e6, self.output * 1e6


@functools.cache
def _bundled_map() -> dict[str, dict]:
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        raise UsageError("litellm is not installed", hint="install workbench's core dependencies")
    path = Path(list(spec.submodule_search_locations)[0]) / "model_prices_and_context_window_backup.json"
    return json.loads(path.read_text(encoding="utf-8"))


def _from_entry(entry: dict) -> Price | None:
    if not isinstance(entry, dict) or entry.get("input_cost_per_token") is None:
        return None
    return Price(
        input=float(entry["input_cost_per_token"]),
        output=float(entry.get("output_cost_per_token") or 0.0),
        cached_input=entry.get("cache_read_input_token_cost"),
        batch_input=entry.get("input_cost_per_token_batches"),
        batch_output=entry.get("output_cost_per_token_batches"),
        cache_write=entry.get("cache_creation_input_token_cost"),
    )


class PriceBook:
    """Looks prices up: registered prices first, then litellm's bundled map (with and without the provider)."""

    def __init__(self, parent: PriceBook | None = None) -> None:
        """``parent``: a price book asked when this one has no registered price for a model."""
        self._registered: dict[str, Price] = {}
        self._lock = threading.Lock()
        self._parent = parent

    def overlay(self, prices: dict[str, Price]) -> PriceBook:
        """A price book with ``prices`` (model -> ``Price``, e.g. a tier's configured price) over this one."""
        book = PriceBook(parent=self)
        book._registered.update(prices)
        return book

    def register(self, model: str, *, input_per_1m: float, output_per_1m: float,
                 cached_input_per_1m: float | None = None) -> Price:
        """Set a custom price (USD per 1M tokens) for ``model``; it wins over litellm's map."""
        if input_per_1m < 0 or output_per_1m < 0:
            raise UsageError(f"negative price for {model!r}")
        price = Price(input_per_1m / 1e6, output_per_1m / 1e6,
                      None if cached_input_per_1m is None else cached_input_per_1m / 1e6, source="registered")
        with self._lock:
            self._registered[model] = price
        return price

    def get(self, model: str) -> Price | None:
        """The price of ``model``, or ``None`` when unknown (``local/*`` models are not priced: they are free)."""
        if model in self._registered:
            return self._registered[model]
        if self._parent is not None:
            return self._parent.get(model)
        table = _bundled_map()
        _, _, bare = model.partition("/")
        for key in (model, bare):
            price = _from_entry(table.get(key)) if key else None
            if price is not None:
                return price
        return None


@functools.cache
def default_pricebook() -> PriceBook:
    """The process-wide price book that ``complete()`` uses unless given another."""
    return PriceBook()


def register_price(model: str, *, input_per_1m: float, output_per_1m: float,
                   cached_input_per_1m: float | None = None) -> Price:
    """Register a custom price in the default price book."""
    return default_pricebook().register(model, input_per_1m=input_per_1m, output_per_1m=output_per_1m,
                                        cached_input_per_1m=cached_input_per_1m)


def price_for(model: str) -> Price | None:
    """The price of ``model`` in the default price book, or ``None`` when unknown."""
    return default_pricebook().get(model)
