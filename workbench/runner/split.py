"""Sticky traffic split: the same key always gets the same variant.

A key is hashed with SHA-256 to a point in [0, 1) and compared with the cumulative weights of the variants (in
sorted name order, weights normalised to sum 1). The same mechanism serves A/B tests and gradual rollouts.

    assign(TrafficSplit(weights={"current": 0.9, "candidate": 0.1}), "user-42")  # -> "current" (always)
"""
from __future__ import annotations

import hashlib
from typing import Any

from ..hashing import canonical_json, content_hash
from .config import TrafficSplit


def bucket(key: str) -> float:
    """A deterministic point in [0, 1) for ``key``: the first 8 bytes of its SHA-256 as a fraction."""
    digest = hashlib.sha256(key.encode("utf-8", errors="surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0 ** 64


def assign(split: TrafficSplit, key: str) -> str:
    """The variant for ``key`` under ``split``: deterministic, proportional to the weights."""
    names = sorted(name for name, weight in split.weights.items() if weight > 0)
    total = sum(split.weights[name] for name in names)
    point, edge = bucket(key) * total, 0.0
    for name in names:
        edge += split.weights[name]
        if point < edge:
            return name
    return names[-1]  # floating-point edge: the point equals the total


def sticky_key(split: TrafficSplit, inputs: Any) -> str:
    """The key an input is assigned by: the value of ``split.sticky_key`` in it, else a hash of the whole input."""
    if isinstance(inputs, dict):
        value = inputs.get(split.sticky_key)
        if value is not None and value != "":
            return value if isinstance(value, str) else canonical_json(value)
    try:
        return content_hash(inputs)
    except (TypeError, ValueError):
        return repr(inputs)


def assign_input(split: TrafficSplit, inputs: Any) -> str:
    """The variant for a whole input (by its sticky key)."""
    return assign(split, sticky_key(split, inputs))
