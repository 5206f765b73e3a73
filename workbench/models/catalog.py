"""What models are available: every tier with the model that answers it now, and the offline models."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import MissingKeyError
from .offline import OFFLINE_MODELS
from .pricing import price_for
from .tiers import load_tiers, route

_BASIS = {"key": "provider", "stand-in": "simulated", "local": "offline", "explicit": "provider"}


def describe_models(tiers_path: str | Path | None = None) -> list[dict[str, Any]]:
    """One row per tier (model, stand-in, what answers now, price per 1M tokens), then one per offline model."""
    out = []
    for t in load_tiers(tiers_path).tiers.values():
        try:
            r = route(t.model, t.stand_in)
            answers, basis = r.call, _BASIS[r.reason]
        except MissingKeyError:
            answers, basis = "(no key, no stand-in)", "-"
        price = None if t.model.startswith("local/") else price_for(t.model)
        per_1m = price.per_million() if price else (0.0, 0.0) if t.model.startswith("local/") else (None, None)
        out.append({"tier": t.name, "model": t.model, "stand_in": t.stand_in, "answers_now": answers,
                    "cost_basis": basis, "input_per_1m": per_1m[0], "output_per_1m": per_1m[1],
                    "description": t.description})
    for name, desc in OFFLINE_MODELS.items():
        out.append({"tier": None, "model": f"local/{name}", "stand_in": None, "answers_now": f"local/{name}",
                    "cost_basis": "offline", "input_per_1m": 0.0, "output_per_1m": 0.0, "description": desc})
    return out
