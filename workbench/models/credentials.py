"""Offline mode and provider credentials: what may answer, decided before any item is processed.

**Offline mode is explicit.** The heuristic stand-ins (``local/*``) answer for a tier only when offline mode is on:
``WORKBENCH_OFFLINE=1`` in the environment, ``--offline`` on any ``workbench`` command, or ``set_offline(True)`` in
a notebook. Outside it, a tier whose provider has no credentials is an error (``MissingKeyError``, exit 2) that
names the missing variable and the offline switch, raised when the pipeline is built, never as a silent stand-in.

**Credentials and endpoints** come from the environment (or, for the endpoint, from the tier's ``params``):
``PROVIDERS`` lists the variables litellm reads for the common providers. A provider not listed is assumed to be
configured; if it is not, its own authentication error is translated into ``MissingKeyError`` at call time.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

OFFLINE_VARIABLE = "WORKBENCH_OFFLINE"
OFFLINE_SWITCH = f"{OFFLINE_VARIABLE}=1 or --offline"
"""How to turn offline mode on, as error messages say it."""


@dataclass(frozen=True, slots=True)
class Provider:
    """The environment variables a provider's calls need."""

    keys: tuple[str, ...] = ()
    """Any one of these holds the API key (empty: the provider needs no key)."""
    bases: tuple[str, ...] = ()
    """Any one of these holds the endpoint (``api_base``), in litellm's order of preference."""
    base_required: bool = False
    """True when there is no default endpoint: a base must be set (in the environment or the tier's params)."""


PROVIDERS: dict[str, Provider] = {
    "openai": Provider(("OPENAI_API_KEY",), ("OPENAI_BASE_URL", "OPENAI_API_BASE")),
    "azure": Provider(("AZURE_API_KEY", "AZURE_OPENAI_API_KEY"), ("AZURE_API_BASE", "AZURE_OPENAI_ENDPOINT"), True),
    "anthropic": Provider(("ANTHROPIC_API_KEY",), ("ANTHROPIC_API_BASE", "ANTHROPIC_BASE_URL")),
    "gemini": Provider(("GEMINI_API_KEY", "GOOGLE_API_KEY")),
    "mistral": Provider(("MISTRAL_API_KEY",), ("MISTRAL_API_BASE",)),
    "groq": Provider(("GROQ_API_KEY",), ("GROQ_API_BASE",)),
    "cohere": Provider(("COHERE_API_KEY", "CO_API_KEY")),
    "deepseek": Provider(("DEEPSEEK_API_KEY",), ("DEEPSEEK_API_BASE",)),
    "together_ai": Provider(("TOGETHERAI_API_KEY", "TOGETHER_API_KEY", "TOGETHER_AI_API_KEY")),
    "openrouter": Provider(("OPENROUTER_API_KEY", "OR_API_KEY"), ("OPENROUTER_API_BASE",)),
    "xai": Provider(("XAI_API_KEY",), ("XAI_API_BASE",)),
    "hosted_vllm": Provider((), ("HOSTED_VLLM_API_BASE",), True),
    "ollama": Provider((), ("OLLAMA_API_BASE",)),
    "ollama_chat": Provider((), ("OLLAMA_API_BASE",)),
}


def offline_mode() -> bool:
    """True when offline mode is on (``WORKBENCH_OFFLINE`` is ``1``, ``true`` or ``yes``)."""
    return os.environ.get(OFFLINE_VARIABLE, "").strip().lower() in ("1", "true", "yes")


def set_offline(on: bool = True) -> bool:
    """Turn offline mode on or off for this process (a notebook's first cell); returns the new state."""
    if on:
        os.environ[OFFLINE_VARIABLE] = "1"
    else:
        os.environ.pop(OFFLINE_VARIABLE, None)
    return offline_mode()


def provider_of(model: str) -> str:
    """The provider prefix of a model id (``openai`` for a bare id, as litellm does)."""
    return model.split("/", 1)[0] if "/" in model else "openai"


def _first_set(names: tuple[str, ...]) -> str | None:
    return next((n for n in names if os.environ.get(n)), None)


def missing_credentials(model: str, params: Mapping[str, Any] | None = None) -> list[str]:
    """What is missing to call ``model`` for real: one entry per unmet need, each naming its variables
    (``"OPENAI_API_KEY"``, ``"AZURE_API_BASE or AZURE_OPENAI_ENDPOINT"``); empty when it can be called."""
    spec = PROVIDERS.get(provider_of(model))
    if spec is None:
        return []
    missing = []
    if spec.keys and not _first_set(spec.keys):
        missing.append(" or ".join(spec.keys))
    if spec.base_required and not (params or {}).get("api_base") and not _first_set(spec.bases):
        missing.append(" or ".join(spec.bases) + " (or api_base in the tier's params)")
    return missing


def api_base_of(model: str, params: Mapping[str, Any] | None = None, explicit: str | None = None) -> str | None:
    """The endpoint a call to ``model`` goes to: the one given in code, else the tier's ``api_base``, else the
    provider's variable in the environment; None for the provider's default endpoint. Part of the cache key: the
    same request to another endpoint is another answer."""
    if explicit:
        return explicit
    if params and params.get("api_base"):
        return str(params["api_base"])
    spec = PROVIDERS.get(provider_of(model))
    name = _first_set(spec.bases) if spec else None
    return os.environ.get(name) if name else None


def key_found(model: str) -> str:
    """Why ``model`` may be called for real, in words: ``key found: OPENAI_API_KEY``, ``no key needed`` or
    ``provider not checked`` (one ``PROVIDERS`` does not list)."""
    spec = PROVIDERS.get(provider_of(model))
    found = _first_set(spec.keys) if spec and spec.keys else None
    return f"key found: {found}" if found else "no key needed" if spec else "provider not checked"
