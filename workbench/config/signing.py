"""Optional HMAC signing of exported configs. ``config_hash`` is a checksum: it catches a hand edit, not an edit
re-hashed with ``workbench.hashing.content_hash``. With ``WORKBENCH_SIGNING_KEY`` set, export signs the hash
(``signature: hmac-sha256:...``) and loading refuses an unsigned config or one whose signature does not match,
so only a holder of the key can produce a config the runner accepts."""
from __future__ import annotations

import hashlib
import hmac
import os
import re

from ..errors import ConfigTamperedError

SIGNING_KEY_VARIABLE = "WORKBENCH_SIGNING_KEY"
PREFIX = "hmac-sha256:"
_WELL_FORMED = re.compile(r"hmac-sha256:[0-9a-f]{64}")
"""What ``signature_of`` writes: the prefix and 64 lower-case hex digits (anything else cannot match)."""


def signing_key() -> bytes | None:
    """The signing key from the environment (None when unset or empty)."""
    key = os.environ.get(SIGNING_KEY_VARIABLE, "")
    return key.encode("utf-8") if key else None


def signature_of(config_hash: str, key: bytes) -> str:
    """The signature of a config with this hash."""
    return PREFIX + hmac.new(key, config_hash.encode("utf-8"), hashlib.sha256).hexdigest()


def verify(config_hash: str, signature: str | None, where: str) -> None:
    """With a signing key set: ``ConfigTamperedError`` (exit 2) unless ``signature`` signs ``config_hash``."""
    key = signing_key()
    if key is None:
        return
    if not signature:
        raise ConfigTamperedError(f"{where}: the config is not signed, and {SIGNING_KEY_VARIABLE} is set",
                                  hint=f"export it again with {SIGNING_KEY_VARIABLE} set, so it is signed")
    # format first, then bytes: ``compare_digest`` raises TypeError on a str that is not ASCII (``hmac-sha256:é…``)
    if not (isinstance(signature, str) and _WELL_FORMED.fullmatch(signature)
            and hmac.compare_digest(signature.encode("ascii"), signature_of(config_hash, key).encode("ascii"))):
        raise ConfigTamperedError(f"{where}: the signature does not match the config (edited and re-hashed, or "
                                  "signed with another key)",
                                  hint="use the file export wrote, or export again with this key")
