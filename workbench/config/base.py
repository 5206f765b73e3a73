"""The frozen base every config component shares: immutable, no unknown fields, its dump is its config."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Frozen(BaseModel):
    """A config component: frozen (so it can be hashed and shared) and strict about unknown fields (a typo in a
    config file is an error, not a silently ignored setting)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
