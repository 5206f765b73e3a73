"""``LiteLLMModel``: one model, one call through litellm, no retries; the reply as a ``Completion``.

This is the only class that calls litellm's completion functions. Retries, fallbacks, caching and concurrency
limits are wrappers around it (``workbench.models.wrappers``).
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from .credentials import api_base_of
from .keys import TRANSPORT_PARAMS
from .litellm_env import import_litellm
from .pricing import PriceBook, default_pricebook
from .records import Attempt, Completion, CostBasis, Message, Usage
from .tokens import tokenizer_for
from .translate import translate


@dataclass(frozen=True)
class Endpoint:
    """Where and how a model is reached, e.g. ``Endpoint(api_base=server.base_url, api_key="sk-fake")``."""

    api_base: str | None = None
    """The provider's base URL (None: litellm's default for the model's provider)."""
    api_key: str | None = None
    """The key sent with each call (None: litellm reads the provider's environment variable)."""
    timeout: float = 60.0
    """Seconds one call may take."""


class LiteLLMModel:
    """Calls ``model`` through litellm once. ``priced_as`` prices a stand-in as the real model it stands in for."""

    def __init__(self, model: str, *, params: dict[str, Any] | None = None, priced_as: str | None = None,
                 tier: str | None = None, endpoint: Endpoint | None = None,
                 pricebook: PriceBook | None = None):
        self.model = model
        self.params = dict(params or {})
        self.priced_as = priced_as
        self.tier = tier
        self.endpoint = endpoint or Endpoint()
        self.pricebook = pricebook or default_pricebook()
        self.basis: CostBasis = ("offline" if priced_as is None else "simulated") if model.startswith("local/") \
            else "provider"

    @property
    def name(self) -> str:
        """The litellm model id."""
        return self.model

    def __repr__(self) -> str:
        extra = f", priced_as={self.priced_as!r}" if self.priced_as and self.priced_as != self.model else ""
        return f"LiteLLMModel({self.model!r}{extra})"

    def identity(self) -> dict[str, Any]:
        """What about this model changes its output (for cache keys): the model called, the endpoint it is called
        at (given in code, in the tier's params, or in the provider's environment variable, read now), and the
        output-affecting parameters."""
        base = None if self.model.startswith("local/") else api_base_of(self.model, self.params, self.endpoint.api_base)
        return {"model": self.model, "api_base": base,
                "params": {k: v for k, v in self.params.items() if k not in TRANSPORT_PARAMS}}

    def _kwargs(self, messages: list[Message], settings: dict[str, Any]) -> dict[str, Any]:
        if self.model.startswith("local/"):
            from .offline import register_offline

            register_offline()
        kwargs = {**self.params, **settings, "model": self.model, "messages": messages,
                  "timeout": self.endpoint.timeout, "max_retries": 0, "num_retries": 0}
        if self.endpoint.api_base:
            kwargs["api_base"] = self.endpoint.api_base
        if self.endpoint.api_key:
            kwargs["api_key"] = self.endpoint.api_key
        return kwargs

    def complete(self, messages: list[Message], **settings: Any) -> Completion:
        """One call through ``litellm.completion``: the ``Completion`` with usage, cost and basis, or the provider's
        error as a ``WorkbenchError`` (``models.translate``)."""
        kwargs, litellm = self._kwargs(messages, settings), import_litellm()
        start = time.perf_counter()
        try:
            response = litellm.completion(**kwargs)
            if kwargs.get("stream"):  # the whole stream, assembled into one reply (usage included when sent)
                response = litellm.stream_chunk_builder(list(response), messages=messages)
        except Exception as e:
            raise translate(e, self.model) from e
        return self._completion(response, messages, kwargs, time.perf_counter() - start)

    async def acomplete(self, messages: list[Message], **settings: Any) -> Completion:
        """Async twin of ``complete`` (``litellm.acompletion``)."""
        kwargs, litellm = self._kwargs(messages, settings), import_litellm()
        start = time.perf_counter()
        try:
            response = await litellm.acompletion(**kwargs)
            if kwargs.get("stream"):
                response = litellm.stream_chunk_builder([chunk async for chunk in response], messages=messages)
        except Exception as e:
            raise translate(e, self.model) from e
        return self._completion(response, messages, kwargs, time.perf_counter() - start)

    def _completion(self, response: Any, messages: list[Message], kwargs: dict, seconds: float) -> Completion:
        try:
            choice = response.choices[0]
            message = choice.message
            text = message.content or ""
        except (AttributeError, IndexError, TypeError) as e:
            raise translate(ValueError(f"Invalid JSON: reply without choices ({e})"), self.model) from e
        usage = _usage(getattr(response, "usage", None))
        if self.basis == "simulated" or not usage.total_tokens:
            # a stand-in: the real token counts of the model it stands in for; a reply without usage (some
            # OpenAI-compatible servers): counted here, never priced as 0 tokens
            tok = tokenizer_for(self.priced_as or self.model)
            usage = Usage(tok.count_messages(messages), tok.count(text or json.dumps(_tool_calls(message) or "")))
        cost, basis = self._cost(usage)
        latency = seconds * 1000.0
        return Completion(
            text=text, model=self.model, usage=usage, cost_usd=cost, cost_basis=basis, latency_ms=latency,
            priced_as=self.priced_as or (self.model if self.basis == "provider" else None), tier=self.tier,
            data=_structured(text, kwargs.get("response_format")), tool_calls=_tool_calls(message),
            finish_reason=getattr(choice, "finish_reason", None),
            attempts=(Attempt(self.model, True, latency),),
        )

    def _cost(self, usage: Usage) -> tuple[float | None, CostBasis]:
        if self.basis == "offline":
            return 0.0, "offline"
        price = self.pricebook.get(self.priced_as or self.model)
        if price is None:
            return None, "unpriced"
        return price.cost(usage), self.basis


def _usage(u: Any) -> Usage:
    if u is None:
        return Usage()
    details = getattr(u, "prompt_tokens_details", None)
    cached = getattr(details, "cached_tokens", None) or 0 if details is not None else 0
    return Usage(int(getattr(u, "prompt_tokens", 0) or 0), int(getattr(u, "completion_tokens", 0) or 0),
                 int(cached), int(getattr(u, "cache_creation_input_tokens", 0) or 0))


def _structured(text: str, response_format: Any) -> Any:
    """The parsed JSON reply when a JSON response format was asked for; None when it was not or does not parse."""
    if not response_format or not text:
        return None
    kind = response_format.get("type") if isinstance(response_format, dict) else "json_schema"
    if kind not in ("json_object", "json_schema"):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _tool_calls(message: Any) -> list[dict[str, Any]] | None:
    calls = getattr(message, "tool_calls", None)
    if not calls:
        return None
    return [{"id": getattr(c, "id", None), "name": getattr(c.function, "name", None),
             "arguments": getattr(c.function, "arguments", None)} for c in calls]
