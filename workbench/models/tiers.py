"""Tiers: names the pipeline asks for (``small``, ``medium``, ``large``...) mapped to models and parameters.

Tiers live in ``configs/tiers.yaml``. ``route(tier)`` decides which model actually answers: the real model when
its provider's credentials are set, the offline stand-in in offline mode (priced as the real model, marked
``simulated``), else a ``MissingKeyError`` (see ``credentials``).
"""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .._util.paths import project_root
from .._util.secrets import find_secret
from ..errors import ConfigError, MissingKeyError, UnknownTierError
from .credentials import OFFLINE_SWITCH, OFFLINE_VARIABLE, missing_credentials, offline_mode
from .pricing import Price


class TierPrice(BaseModel):
    """A model's price, for models litellm does not know (a custom name served by vLLM or Ollama) or to override
    its list price: USD per 1M tokens, as price pages show them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    input_per_1m: float = Field(ge=0, description="USD per 1M prompt tokens")
    output_per_1m: float = Field(ge=0, description="USD per 1M generated tokens")
    cached_input_per_1m: float | None = Field(None, ge=0, description="USD per 1M prompt tokens served from the "
                                                                    "provider's prompt cache")
    batch_discount: float | None = Field(None, ge=0, le=1, description="share off through the provider's batch API "
                                                                      "(0.5 = half price)")
    cache_write_per_1m: float | None = Field(None, ge=0, description="USD per 1M prompt tokens written to the "
                                                                   "provider's prompt cache (when priced apart)")

    def price(self) -> Price:
        """The ``Price`` (USD per token) this stands for."""
        off = 1.0 - (self.batch_discount or 0.0)
        batch = self.batch_discount is not None
        return Price(self.input_per_1m / 1e6, self.output_per_1m / 1e6,
                     None if self.cached_input_per_1m is None else self.cached_input_per_1m / 1e6,
                     batch_input=self.input_per_1m / 1e6 * off if batch else None,
                     batch_output=self.output_per_1m / 1e6 * off if batch else None,
                     cache_write=None if self.cache_write_per_1m is None else self.cache_write_per_1m / 1e6,
                     source="config")


def tier_price(tier: Tier) -> Price | None:
    """What a tier's model costs: its configured ``price``, else the price book's; None when unknown (a ``local/*``
    model is free: its price is 0)."""
    from .pricing import price_for

    if tier.price is not None:
        return tier.price.price()
    if tier.model.startswith("local/"):
        return Price(0.0, 0.0, source="local")
    return price_for(tier.model)


class Tier(BaseModel):
    """One tier: the model to call, its parameters, its offline stand-in and its fallbacks."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=64, description="the tier's name (at most 64 characters: the log "
                                                                 "store's column)")
    model: str = Field(min_length=1, max_length=256,
                       description="litellm model id, e.g. openai/gpt-4o-mini or local/extractive")
    stand_in: str | None = Field(None, description="the offline heuristic that answers in offline mode")
    params: dict[str, Any] = Field(default_factory=dict, description="call parameters: temperature, max_tokens...")
    fallbacks: tuple[str, ...] = Field((), description="tiers or model ids to try, in order, when this one fails")
    price: TierPrice | None = Field(None, description="the model's price (else litellm's price map; a model in "
                                                      "neither is reported as unpriced, never as $0)")
    description: str = ""

    @field_validator("params")
    @classmethod
    def _no_credentials(cls, params: dict[str, Any]) -> dict[str, Any]:
        # a key in a tier would travel into exported configs and run manifests: keys come from the environment
        found = find_secret(params)
        if found is not None:
            raise ValueError(f"params.{found[0]} looks like a credential: keys come from the environment "
                             "(e.g. OPENAI_API_KEY, AZURE_API_KEY), or Endpoint(api_key=...) in code, never from "
                             "a tier")
        return params


@dataclass(frozen=True, slots=True)
class Route:
    """Which model answers for a tier right now, and how its cost is counted."""

    call: str
    """The model id that is called."""
    priced_as: str | None
    """The model whose price applies (the real model for a stand-in; None for a free local model)."""
    reason: str
    """Why: ``key`` (its credentials are set), ``offline`` (offline mode: the stand-in), ``local`` (a ``local/*``
    model) or ``explicit`` (an endpoint or key given in code)."""


def route(model: str, stand_in: str | None = None, *, explicit: bool = False,
          params: Mapping[str, Any] | None = None) -> Route:
    """Decide what answers for ``model``: itself (its credentials found, or an endpoint given in code), its
    stand-in (offline mode only), or nothing: ``MissingKeyError`` naming what to set and the offline switch."""
    if model.startswith("local/"):
        return Route(model, None, "local")
    if explicit:
        return Route(model, model, "explicit")
    if offline_mode():
        if stand_in:
            return Route(stand_in, model, "offline")
        raise MissingKeyError(f"offline mode is on and {model} has no offline stand-in",
                              hint="give its tier a stand_in (configs/tiers.yaml), or turn offline mode off "
                                   f"({OFFLINE_VARIABLE} unset, no --offline) and set the provider's key")
    missing = missing_credentials(model, params)
    if missing:
        also = f" to let its stand-in {stand_in} answer" if stand_in else ""
        raise MissingKeyError(f"no credentials for {model}: {'; '.join(missing)} not set",
                              hint=f"set {' and '.join(missing)}, or turn offline mode on ({OFFLINE_SWITCH}){also}",
                              missing=missing)
    return Route(model, model, "key")


@dataclass(frozen=True, slots=True)
class ChainLink:
    """One model of a fallback chain: a tier, or a bare model id named as a fallback."""

    tier: Tier | None
    """The tier (None for a bare model id)."""
    model: str
    """The model id: the tier's model, or the bare id."""

    @property
    def name(self) -> str:
        """The tier's name, else the model id."""
        return self.tier.name if self.tier is not None else self.model


class TierSet(BaseModel):
    """All tiers, by name."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tiers: dict[str, Tier]
    source: str = ""

    def get(self, name: str) -> Tier:
        """The tier called ``name``; ``UnknownTierError`` listing the known ones."""
        try:
            return self.tiers[name]
        except KeyError:
            raise UnknownTierError(f"unknown tier {name!r}", hint=f"known tiers: {', '.join(self.tiers)}"
                                   f"{' (from ' + self.source + ')' if self.source else ''}") from None

    def names(self) -> list[str]:
        """The tier names, in file order."""
        return list(self.tiers)

    def chain(self, tier: str, fallbacks: Sequence[str] | None = None) -> tuple[ChainLink, ...]:
        """``tier`` followed by what is tried when it fails: ``fallbacks`` when given, else the tier's own (tier
        names or model ids), without repeats. The one place a fallback chain is computed."""
        first = self.get(tier)
        links = [ChainLink(first, first.model)]
        for name in first.fallbacks if fallbacks is None else fallbacks:
            fb = self.tiers.get(name)
            links.append(ChainLink(fb, fb.model) if fb is not None else ChainLink(None, name))
        seen: set[str] = set()
        return tuple(link for link in links if not (link.name in seen or seen.add(link.name)))


def default_tiers_path() -> Path:
    """``$WORKBENCH_TIERS``, else ``configs/tiers.yaml`` of the project around the cwd, else the packaged copy."""
    if os.environ.get("WORKBENCH_TIERS"):
        return Path(os.environ["WORKBENCH_TIERS"])
    root = project_root()
    if root and (root / "configs" / "tiers.yaml").exists():
        return root / "configs" / "tiers.yaml"
    return Path(__file__).resolve().parent.parent / "data" / "tiers.yaml"


def load_tiers(path: str | Path | None = None) -> TierSet:
    """Read a tiers file; errors name the file and the tier/field."""
    from .._util.yamlfiles import read_mapping

    p = Path(path) if path else default_tiers_path()
    raw = read_mapping(p, "tiers file")
    if not isinstance(raw.get("tiers"), dict):
        raise ConfigError(f"{p}: expected a mapping with a 'tiers' key")
    tiers = {}
    for name, spec in raw["tiers"].items():
        try:
            tiers[name] = Tier(name=name, **(spec or {}))
        except (ValidationError, TypeError) as e:
            raise ConfigError(f"{p}: tier {name!r}: {_first_error(e)}") from None
    return TierSet(tiers=tiers, source=str(p))


def _first_error(e: Exception) -> str:
    from .._util.yamlfiles import field_error

    return field_error(e) if isinstance(e, ValidationError) else str(e)
