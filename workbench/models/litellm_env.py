"""The one place that imports litellm: offline settings first, then the import (once, on first use).

Library code sets no litellm globals, with two documented exceptions: registering the offline provider
(``workbench.models.offline``) and, here, ``suppress_debug_info``. litellm prints a "Give Feedback / Get Help"
banner to stdout on every failed call; the model layer translates each failure into a typed ``WorkbenchError``
with its own hint (and retries many on purpose), so the banner would only be noise in notebooks, logs and JSON
written to stdout. Set ``WORKBENCH_LITELLM_DEBUG=1`` to keep litellm's banner.
"""
from __future__ import annotations

import functools
import os
from types import ModuleType

# Read by litellm at import time: use the bundled price map instead of fetching one over the network.
OFFLINE_ENV = {"LITELLM_LOCAL_MODEL_COST_MAP": "True"}


@functools.cache
def import_litellm() -> ModuleType:
    """Import litellm with its offline settings applied before the import (a user's own setting wins)."""
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
    import litellm

    if os.environ.get("WORKBENCH_LITELLM_DEBUG", "") not in ("1", "true"):
        litellm.suppress_debug_info = True
    return litellm
