"""One rule for every content hash: prompts, eval sets, cache keys, configs.

``content_hash(obj) == "sha256:" + sha256(canonical_json(obj)).hexdigest()`` where canonical JSON sorts keys, uses
no whitespace and keeps non-ASCII characters as they are. Two objects that serialise the same hash the same.
"""
from __future__ import annotations

import hashlib
from typing import Any

from ._util.jsontext import dumps_with

_CANONICAL = dumps_with(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(obj: Any) -> str:
    """The canonical JSON text of ``obj``: sorted keys, ``(",", ":")`` separators, ``ensure_ascii=False``."""
    return _CANONICAL(obj)


def bucket(key: str) -> float:
    """A deterministic point in [0, 1) for ``key``: the first 8 bytes of its SHA-256 as a fraction (traffic splits,
    capture sampling)."""
    digest = hashlib.sha256(key.encode("utf-8", errors="surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0 ** 64


def content_hash(obj: Any) -> str:
    """``"sha256:<hex>"`` of the canonical JSON of ``obj``."""
    return "sha256:" + hashlib.sha256(canonical_json(obj).encode("utf-8")).hexdigest()
