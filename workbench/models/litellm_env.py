"""The one place that imports litellm: offline-safe environment first, then the import (cached)."""
from __future__ import annotations

import functools
import os
from types import ModuleType

OFFLINE_ENV = {"LITELLM_LOCAL_MODEL_COST_MAP": "True"}
"""Set (unless already set) before litellm is first imported, so it reads its bundled price map, not the network."""


@functools.cache
def import_litellm() -> ModuleType:
    """Set ``OFFLINE_ENV`` with ``os.environ.setdefault``, then import and return litellm (about 12 s the first time)."""
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
    import litellm

    return litellm
