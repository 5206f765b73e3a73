"""Tiers: names the pipeline asks for (``small``, ``medium``, ``large``...) mapped to models and parameters.

Tiers live in ``configs/tiers.yaml``. ``route(tier)`` decides which model actually answers: the real model when
its provider's key is set, else the offline stand-in (priced as the real model, marked ``simulated``).
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .._util.paths import project_root
from ..errors import ConfigError, MissingKeyError, UnknownTierError

# Environment variables that hold each provider's key. A provider not listed here is assumed to be configured;
# if it is not, the provider's own authentication error is translated into MissingKeyError at call time.
PROVIDER_KEYS: dict[str, tuple[str, ...]] = {
    "openai": ("OPENAI_API_KEY",),
    "anthropic": ("ANTHROPIC_API_KEY",),
    "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
    "mistral": ("MISTRAL_API_KEY",),
    "groq": ("GROQ_API_KEY",),
    "cohere": ("COHERE_API_KEY",),
    "deepseek": ("DEEPSEEK_API_KEY",),
    "together_ai": ("TOGETHERAI_API_KEY", "TOGETHER_API_KEY"),
    "openrouter": ("OPENROUTER_API_KEY",),
    "xai": ("XAI_API_KEY",),
}


class Tier(BaseModel):
    """One tier: the model to call, its parameters, its offline stand-in and its fallbacks."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    model: str = Field(description="litellm model id, e.g. openai/gpt-4o-mini or local/extractive")
    stand_in: str | None = Field(None, description="offline model that answers when the real model has no key")
    params: dict[str, Any] = Field(default_factory=dict, description="call parameters: temperature, max_tokens...")
    fallbacks: tuple[str, ...] = Field((), description="tiers or model ids to try, in order, when this one fails")
    description: str = ""


@dataclass(frozen=True, slots=True)
class Route:
    """Which model answers for a tier right now, and how its cost is counted."""

    call: str
    """The model id that is called."""
    priced_as: str | None
    """The model whose price applies (the real model for a stand-in; None for a free local model)."""
    reason: str
    """Why: ``key`` (the real model's key is set), ``stand-in``, ``local`` or ``explicit`` (an api_base/key given)."""


def provider_of(model: str) -> str:
    """The provider prefix of a model id (``openai`` for a bare id, as litellm does)."""
    return model.split("/", 1)[0] if "/" in model else "openai"


def has_key(model: str) -> bool:
    """True when the provider of ``model`` has its key in the environment (or is not one we know keys for)."""
    names = PROVIDER_KEYS.get(provider_of(model))
    return names is None or any(os.environ.get(n) for n in names)


def offline_forced() -> bool:
    """``WORKBENCH_OFFLINE=1`` makes every tier answer with its stand-in, keys or not (tests, CI, demos)."""
    return os.environ.get("WORKBENCH_OFFLINE", "").lower() in ("1", "true", "yes")


def route(model: str, stand_in: str | None = None, *, explicit: bool = False) -> Route:
    """Decide what answers for ``model``: itself, or its stand-in when no key is available."""
    if model.startswith("local/"):
        return Route(model, None, "local")
    if explicit:
        return Route(model, model, "explicit")
    if stand_in and (offline_forced() or not has_key(model)):
        return Route(stand_in, model, "stand-in")
    if not has_key(model):
        env = " or ".join(PROVIDER_KEYS.get(provider_of(model), ("the provider's API key",)))
        raise MissingKeyError(f"no API key for {model}",
                              hint=f"set {env}, or use a tier with an offline stand_in (configs/tiers.yaml)")
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
