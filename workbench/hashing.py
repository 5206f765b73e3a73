"""One rule for every content hash: prompts, eval sets, cache keys, configs.

``content_hash(obj) == "sha256:" + sha256(canonical_json(obj)).hexdigest()`` where canonical JSON sorts keys, uses
no whitespace and keeps non-ASCII characters as they are. Two objects that serialise the same hash the same.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(obj: Any) -> str:
    """The canonical JSON text of ``obj``: sorted keys, ``(",", ":")`` separators, ``ensure_ascii=False``."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(obj: Any) -> str:
    """``"sha256:<hex>"`` of the canonical JSON of ``obj``."""
    return "sha256:" + hashlib.sha256(canonical_json(obj).encode("utf-8")).hexdigest()
