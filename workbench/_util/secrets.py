"""No credentials in a config: keys come from the environment, never from a file that is exported, committed or
copied into a run's manifest. Checked at export, when an exported config is loaded, and on tier parameters before
a run writes them anywhere.

A credential is found by its field's name, however it is spelt (``api_key``, ``API-KEY``, ``apiKey``,
``x-api-key``, ``Authorization``, ``aws_access_key_id``, ``password``, ``*_token``, ``*_secret``, ``*credentials``)
and by its value, whatever the field: a string holding an ``sk-…``, ``AKIA…``, ``ghp_…``, ``xox…`` or ``AIza…`` key,
a Stripe key, a JWT, ``Bearer <token>``, a private key, or a URL with a password in it (``https://user:pass@host``).
The key shapes are shared with redaction (``_util.keyshapes``); the rest is stricter than redaction's keyed values:
a false alarm here refuses a whole config."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError
from .keyshapes import KEY_SHAPES

SECRET_NAMES = re.compile(r"(apikey|apisecret|secret|secretkey|accesskey|accesskeyid|privatekey|signingkey|accountkey|"
                          r"subscriptionkey|masterkey|token|password|passwd|passphrase|credentials?|authorization|auth|"
                          r"bearer|cookie|connectionstring)$")
"""Field names that hold a credential, matched at the end of the name normalised by ``normalised_name`` (lower
case, only letters and digits): ``apiKey``, ``api-key``, ``API_KEY`` and ``x-api-key`` all end in ``apikey``;
``aws_access_key_id`` in ``accesskeyid``; ``azure_ad_token`` in ``token``."""
_URL_WITH_PASSWORD = "a URL with a password (scheme://user:password@host)"
SECRET_VALUES: tuple[tuple[str, re.Pattern[str]], ...] = tuple((shape, rx) for shape, _, rx in KEY_SHAPES) + (
    ("a bearer token (Bearer …)",
     re.compile(r"(?i:\bbearer\s+)(?:(?=[A-Za-z0-9._~+/\-]*\d)[A-Za-z0-9._~+/\-]{8,}|[A-Za-z0-9._~+/\-]{24,})")),
    ("a private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
    (_URL_WITH_PASSWORD,
     re.compile(r"\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s/?#@:]*:[^\s/?#@]+@")),
)
"""What a credential looks like in a string value, whatever its field is called: (description, pattern)."""
DEPLOY_URL = re.compile(r"\b(postgres(ql)?|mysql|mariadb|sqlite|redis|rediss|amqps?|kafka|mongodb(\+srv)?)"
                        r"(\+\w+)?://", re.IGNORECASE)
"""Database and queue URLs (deployment settings: flags or the environment)."""
KEY_VARIABLES = "the provider's variable, e.g. OPENAI_API_KEY, ANTHROPIC_API_KEY or AZURE_API_KEY"
"""Where keys come from, when the field says nothing more specific."""


@dataclass(frozen=True, slots=True)
class Secret:
    """A credential or deployment URL found in a config (never the value itself)."""

    path: tuple[str, ...]
    """The keys (and list indices) leading to it."""
    kind: str
    """``credential`` (by its field's name), ``credential_value`` (by its value's shape) or ``url``."""
    shape: str = ""
    """For ``credential_value``: what the value looks like (``an API key (sk-…)``)."""

    @property
    def where(self) -> str:
        """The dotted path of the field."""
        return ".".join(self.path)


def normalised_name(name: Any) -> str:
    """A field name lower-cased with everything but letters and digits dropped (``X-Api-Key`` -> ``xapikey``)."""
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


_NOT_CREDENTIALS = ("pertoken",)
"""Name endings that look like a credential's and are not: litellm's prices (``input_cost_per_token``)."""


def _names_a_credential(name: Any) -> bool:
    normal = normalised_name(name)
    return SECRET_NAMES.search(normal) is not None and not normal.endswith(_NOT_CREDENTIALS)


def credential_shape(value: str) -> str | None:
    """What ``value`` looks like when it holds a credential (``SECRET_VALUES``), else None."""
    return next((shape for shape, rx in SECRET_VALUES if rx.search(value)), None)


def scan(data: Any) -> Secret | None:
    """The first credential (by field name or value) or deployment URL in ``data``, else None. Iterative: any depth
    is fine (the data is a tree: ``safe_yaml`` refuses recursive and alias-expanded ones)."""
    stack: list[tuple[Any, tuple[str, ...]]] = [(data, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            for k, v in node.items():
                if _names_a_credential(k) and v not in (None, "", [], {}):
                    return Secret((*path, str(k)), "credential")
                stack.append((v, (*path, str(k))))
        elif isinstance(node, list | tuple):
            stack.extend((v, (*path, str(i))) for i, v in enumerate(node))
        elif isinstance(node, str):
            if DEPLOY_URL.search(node):
                return Secret(path, "url")
            shape = credential_shape(node)
            if shape is not None:
                return Secret(path, "credential_value", shape)
    return None


def find_secret(data: Any) -> tuple[str, str] | None:
    """``(dotted path, "credential" | "credential_value" | "url")`` of the first credential (by field name or value)
    or deployment URL in ``data``, else None."""
    found = scan(data)
    return None if found is None else (found.where, found.kind)


def _variable_for(found: Secret, variable: Callable[[tuple[str, ...]], str | None] | None) -> str:
    """The environment variable(s) to set instead of the field ``found``."""
    name = normalised_name(found.path[-1]) if found.path else ""
    if name.startswith("aws") or "AWS" in found.shape:
        return "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    if name.startswith("azure"):
        return "AZURE_API_KEY (or AZURE_AD_TOKEN)"
    if name.startswith(("vertex", "google")):
        return "GOOGLE_APPLICATION_CREDENTIALS (the path of the credentials file)"
    return (variable(found.path) if variable is not None else None) or KEY_VARIABLES


def check_no_secrets(data: Any, what: str = "the export", *,
                     variable: Callable[[tuple[str, ...]], str | None] | None = None) -> None:
    """``ConfigError`` if ``data`` holds a credential (by field name or value) or a database/queue URL. The message
    names the field and the environment variable to set instead, never the value. ``variable(path)``, when given,
    names the variable for a field (e.g. the key variable of the provider of the tier the field is in)."""
    found = scan(data)
    if found is None:
        return
    if found.kind == "url":
        raise ConfigError(f"{what} holds a database/queue URL at {found.where}",
                          hint="deployment settings come from flags or the environment (--db, --queue)")
    why = "its name says so" if found.kind == "credential" else f"its value looks like {found.shape}"
    instead = _variable_for(found, variable)
    hint = (f"keys come only from the environment: write the URL without user:password@ and set {instead}"
            if found.shape == _URL_WITH_PASSWORD else
            f"keys come only from the environment, never from a config file: remove it and set {instead}")
    raise ConfigError(f"{what} holds a credential-like field {found.where} ({why}; the value is not shown)", hint=hint)
