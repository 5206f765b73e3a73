"""The offline tier in litellm: ``local/<name>`` models answered by the heuristics of ``workbench.models.offline``.

``register_offline()`` appends ``{"provider": "local", "custom_handler": OfflineProvider()}`` to
``litellm.custom_provider_map`` (once; other entries are left alone). After it, ``litellm.completion(model=
"local/extractive", messages=...)`` goes through litellm's ordinary path (logging, callbacks, streaming wrapper)
like any provider, with real token counts (``tokenizer_for("local/...")``) and no network.

Errors: an exception raised inside a custom handler does not reach the caller as itself. litellm's
``completion()`` catches it and re-raises it through ``exception_type()``, which maps unknown exceptions to
``litellm.APIConnectionError`` (``status_code`` 500) whose message holds ours and whose ``__cause__`` /
``__context__`` is our exception. ``unwrap_error(exc)`` finds our ``WorkbenchError`` again (e.g.
``UnknownModelError`` for ``local/oracle``); the error translator should call it first. This module does not
import litellm at import time.
"""
from __future__ import annotations

import functools
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

from ...errors import WorkbenchError
from ..litellm_env import import_litellm
from ..tokens import tokenizer_for
from .dispatch import respond

PROVIDER = "local"
"""The litellm provider prefix of the offline models."""
_REGISTER_LOCK = threading.Lock()


def _reply(model: str, messages: list[dict[str, Any]], optional_params: dict[str, Any] | None) -> tuple[str, dict]:
    """The heuristic reply and its usage block (prompt tokens with chat framing, as litellm counts for OpenAI)."""
    text = respond(model, messages, (optional_params or {}).get("response_format"))
    tokenizer = tokenizer_for(f"{PROVIDER}/{model}")
    prompt, completion = tokenizer.count_messages(messages), tokenizer.count(text)
    return text, {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


@functools.cache
def _provider_class() -> type:
    """Build ``OfflineProvider`` (a ``litellm.CustomLLM``) on first use, so importing this module stays light."""
    litellm = import_litellm()

    class OfflineProvider(litellm.CustomLLM):
        """litellm handler for ``local/<name>``: deterministic heuristics, real token counts, no network."""

        def completion(  # noqa: PLR0913 - litellm's CustomLLM signature
                self, model: str, messages: list, api_base: str, custom_prompt_dict: dict,
                model_response: Any, print_verbose: Any, encoding: Any, api_key: Any, logging_obj: Any,
                optional_params: dict, acompletion: Any = None, litellm_params: Any = None,
                logger_fn: Any = None, headers: dict | None = None, timeout: Any = None,
                client: Any = None) -> Any:
            text, usage = _reply(model, messages, optional_params)
            model_response.choices[0].message.content = text
            model_response.choices[0].finish_reason = "stop"
            model_response.model = f"{PROVIDER}/{model}"
            model_response.usage = litellm.Usage(**usage)
            return model_response

        async def acompletion(self, *args: Any, **kwargs: Any) -> Any:
            return self.completion(*args, **kwargs)

        def streaming(self, model: str, messages: list, *args: Any, optional_params: dict | None = None,
                      **kwargs: Any) -> Iterator[dict[str, Any]]:
            text, usage = _reply(model, messages, optional_params)
            yield {"text": text, "tool_use": None, "is_finished": True, "finish_reason": "stop", "usage": usage,
                   "index": 0}

        async def astreaming(self, model: str, messages: list, *args: Any, optional_params: dict | None = None,
                             **kwargs: Any) -> AsyncIterator[dict[str, Any]]:
            for chunk in self.streaming(model, messages, optional_params=optional_params):
                yield chunk

    return OfflineProvider


def register_offline() -> None:
    """Make ``local/<name>`` models callable through litellm; idempotent, thread-safe, keeps other entries."""
    litellm = import_litellm()
    with _REGISTER_LOCK:
        if any(entry.get("provider") == PROVIDER for entry in litellm.custom_provider_map):
            return
        litellm.custom_provider_map.append({"provider": PROVIDER, "custom_handler": _provider_class()()})


def unwrap_error(exc: BaseException) -> BaseException:
    """The ``WorkbenchError`` a litellm exception wraps (via ``__cause__``/``__context__``), else ``exc`` itself."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, WorkbenchError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__ or getattr(current, "original_exception", None)
    return exc
