"""The semantic cache's records: a hit (``Match``), when entries go stale (``Expiry``) and how much work a
lookup may do (``SearchLimits``)."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Match:
    """A semantic-cache hit."""

    answer: dict[str, Any]
    """The cached answer (a fresh copy)."""
    question: str
    """The cached question it answered."""
    similarity: float
    """Cosine similarity of the normalised questions (1.0 for an exact key match)."""
    created: float
    """When the answer was stored (clock seconds)."""
    entry_id: int
    """The row id in SQLite."""


@dataclass(frozen=True)
class Expiry:
    """When entries go stale, e.g. ``Expiry(ttl_seconds=86400)``."""

    ttl_seconds: float | None = None
    """An entry older than this is never a hit (and ``prune`` deletes it); None: entries never expire."""
    clock: Callable[[], float] = time.time
    """Seconds now: stamps each entry when stored and ages it at lookup (a fake clock in tests)."""


@dataclass(frozen=True)
class SearchLimits:
    """How much work one lookup may do, and how much the cache keeps in memory (see the module docstring); the
    defaults suit 100k entries a scope."""

    brute_force_max: int = 4096
    """Up to this many entries in a scope are scored exactly (``vectors @ q``); above it the sketch index
    picks the candidates (thresholds below 0.7 always scan exactly)."""
    max_checks: int = 32
    """Entries at or above the threshold read from SQLite and guarded per lookup, best first."""
    max_candidates: int = 1024
    """Entries the index lets through to exact scoring."""
    memory_entries: int = 300_000
    """Entries kept in memory across scopes (~1.2 KB each with a 256-dimension embedder): past it, the least
    recently used scopes are dropped and read again from SQLite at their next lookup. A runner answering over
    ever-new documents has one scope per document set; they used to stay in memory for good (~70 KB each)."""
    memory_scopes: int = 10_000
    """Scopes kept in memory, least recently used dropped first (as ``memory_entries``)."""
