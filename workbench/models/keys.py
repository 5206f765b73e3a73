"""The one key rule for cached answers: a key hashes exactly what changes a model's output — the model's identity
(model id, endpoint, output-affecting parameters), the messages and the call's output-affecting settings.
Transport settings (keys, timeouts, retry counts) are not part of it."""
from __future__ import annotations

from typing import Any

from ..hashing import content_hash

TRANSPORT_PARAMS = frozenset({"api_key", "timeout", "max_retries", "num_retries", "metadata", "headers",
                              "extra_headers", "stream_options"})
"""Parameters that never change what the model says; everything else goes into cache keys."""


def cache_key(identity: dict[str, Any], messages: list[dict[str, Any]], settings: dict[str, Any]) -> str:
    """The response-cache key of a call: the content hash of the model identity, the messages and the settings that are
    not transport parameters (``TRANSPORT_PARAMS``)."""
    return content_hash({"model": identity, "messages": messages,
                         "settings": {k: v for k, v in settings.items() if k not in TRANSPORT_PARAMS}})
