"""What models are available: every tier with what answers it now and why, and the offline models."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import MissingKeyError
from .credentials import key_found, offline_mode
from .offline import OFFLINE_MODELS
from .tiers import load_tiers, route, tier_price

_BASIS = {"key": "provider", "offline": "simulated", "local": "offline", "explicit": "provider"}


def describe_models(tiers_path: str | Path | None = None) -> list[dict[str, Any]]:
    """One row per tier (model, stand-in, what answers now and why, price per 1M tokens and its source), then one
    per offline model. ``why`` is ``key found: OPENAI_API_KEY``, ``offline mode`` or ``missing OPENAI_API_KEY``."""
    out = []
    for t in load_tiers(tiers_path).tiers.values():
        try:  # the one decision every call makes (``route``), with its reason in words
            r = route(t.model, t.stand_in, params=t.params)
            answers, basis = r.call, _BASIS[r.reason]
            why = {"offline": "offline mode", "local": "local model (a heuristic that ships with workbench)"}.get(
                r.reason) or key_found(t.model)
        except MissingKeyError as e:
            missing = e.details.get("missing")
            answers, basis = "-", "-"
            why = "missing " + "; ".join(missing) if missing else "offline mode, and no stand-in"
        price = tier_price(t)
        per_1m = price.per_million() if price else (None, None)
        out.append({"tier": t.name, "model": t.model, "stand_in": t.stand_in, "answers_now": answers, "why": why,
                    "cost_basis": basis, "input_per_1m": per_1m[0], "output_per_1m": per_1m[1],
                    "price_source": price.source if price else "unpriced", "description": t.description})
    for name, desc in OFFLINE_MODELS.items():
        out.append({"tier": None, "model": f"local/{name}", "stand_in": None, "answers_now": f"local/{name}",
                    "why": "a heuristic that ships with workbench", "cost_basis": "offline", "input_per_1m": 0.0,
                    "output_per_1m": 0.0, "price_source": "local", "description": desc})
    return out


def mode_line() -> str:
    """One line saying which mode answers now, for the top of a notebook or a command's output."""
    if offline_mode():
        return ("offline mode: the heuristic stand-ins (local/*) answer for every tier, with simulated costs "
                "(the real models' prices on real token counts); turn it off to call real models")
    return "real models: tiers call their providers with the keys in the environment (offline mode is off)"
