"""Models built by wrapping models: each wrapper is itself a ``Model``.

``RetryingModel(model, policy)`` retries transient failures with exponential backoff and jitter (honouring
Retry-After); ``FallbackModel([a, b])`` tries models in order; ``CachedModel(model, cache)`` answers repeats from
disk; ``LimitedModel(model, n)`` caps concurrent calls. Every try is recorded in ``Completion.attempts``.
"""
from __future__ import annotations

import asyncio
import random
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from ..errors import AllModelsFailedError, ModelError, WorkbenchError
from .keys import cache_key
from .records import Attempt, ChainMessages, Completion, Message


@runtime_checkable
class Model(Protocol):
    """Anything that answers chat messages with a ``Completion``, sync and async."""

    @property
    def name(self) -> str:
        """The model id (the first one, for a chain), as shown in results and logs."""

    def identity(self) -> dict[str, Any]:
        """What about this model changes its output (for cache keys)."""

    def complete(self, messages: list[Message], **settings: Any) -> Completion:
        """The model's reply to ``messages``; a failure raises a ``WorkbenchError``."""

    async def acomplete(self, messages: list[Message], **settings: Any) -> Completion:
        """Async twin of ``complete``."""


@dataclass(frozen=True)
class RetryPolicy:
    """How transient failures (429, 5xx, timeouts, malformed replies) are retried."""

    retries: int = 2
    """Extra tries after the first one."""
    base_delay: float = 0.5
    """Delay before the first retry, in seconds; doubled at each retry."""
    max_delay: float = 20.0
    """Cap on any single delay, Retry-After included."""
    jitter: float = 0.5
    """Each delay is multiplied by a uniform factor in [1 - jitter, 1]."""

    def delay(self, retry: int, error: ModelError, rng: random.Random) -> float:
        """Seconds to wait before retry number ``retry`` (0-based): exponential backoff with jitter, at least the
        error's Retry-After, at most ``max_delay``."""
        backoff = min(self.max_delay, self.base_delay * (2 ** retry)) * (1 - self.jitter * rng.random())
        if error.retry_after is not None:
            return min(self.max_delay, max(backoff, error.retry_after))
        return backoff


def _failed(model: str, error: WorkbenchError, seconds: float) -> Attempt:
    return Attempt(model, False, seconds * 1000.0, error.code, error.message)


class RetryingModel:
    """Retries ``inner`` on retryable ``ModelError``s."""

    def __init__(self, inner: Model, policy: RetryPolicy | None = None, *, seed: int | None = None):
        self.inner, self.policy = inner, policy or RetryPolicy()
        self._rng = random.Random(seed)

    name = property(lambda self: self.inner.name)

    def identity(self) -> dict[str, Any]:
        """The inner model's identity (retries do not change the output)."""
        return self.inner.identity()

    def _should_retry(self, error: ModelError, tries: int) -> bool:
        return error.retryable and tries <= self.policy.retries

    def complete(self, messages: list[Message], **settings: Any) -> Completion:
        """The inner model's reply, retrying retryable errors per the policy; the last error carries every attempt in
        ``details['attempts']``."""
        failed: list[Attempt] = []
        started = time.perf_counter()
        while True:
            start = time.perf_counter()
            try:
                return _with_attempts(self.inner.complete(messages, **settings), failed, started)
            except ModelError as e:
                failed.append(_failed(self.inner.name, e, time.perf_counter() - start))
                if not self._should_retry(e, len(failed)):
                    _with_history(e, failed)
                    raise
                time.sleep(self.policy.delay(len(failed) - 1, e, self._rng))

    async def acomplete(self, messages: list[Message], **settings: Any) -> Completion:
        """Async twin of ``complete`` (waits with ``asyncio.sleep``)."""
        failed: list[Attempt] = []
        started = time.perf_counter()
        while True:
            start = time.perf_counter()
            try:
                return _with_attempts(await self.inner.acomplete(messages, **settings), failed, started)
            except ModelError as e:
                failed.append(_failed(self.inner.name, e, time.perf_counter() - start))
                if not self._should_retry(e, len(failed)):
                    _with_history(e, failed)
                    raise
                await asyncio.sleep(self.policy.delay(len(failed) - 1, e, self._rng))


class FallbackModel:
    """Tries each model in order until one answers; raises ``AllModelsFailedError`` with every attempt."""

    def __init__(self, models: list[Model]):
        if not models:
            raise ValueError("FallbackModel needs at least one model")
        self.models = list(models)

    name = property(lambda self: self.models[0].name)

    def identity(self) -> dict[str, Any]:
        """The identities of the chain, in order."""
        return {"fallback": [m.identity() for m in self.models]}

    def complete(self, messages: list[Message], **settings: Any) -> Completion:
        """The first model's reply that succeeds, with the failed attempts before it; ``AllModelsFailedError`` when none
        does."""
        failed: list[Attempt] = []
        started = time.perf_counter()
        for i, model in enumerate(self.models):
            start = time.perf_counter()
            try:
                return _with_attempts(model.complete(_for_link(messages, i), **settings), failed, started)
            except WorkbenchError as e:
                failed.extend(_history(e) or [_failed(model.name, e, time.perf_counter() - start)])
        raise _all_failed(failed)

    async def acomplete(self, messages: list[Message], **settings: Any) -> Completion:
        """Async twin of ``complete``."""
        failed: list[Attempt] = []
        started = time.perf_counter()
        for i, model in enumerate(self.models):
            start = time.perf_counter()
            try:
                return _with_attempts(await model.acomplete(_for_link(messages, i), **settings), failed, started)
            except WorkbenchError as e:
                failed.extend(_history(e) or [_failed(model.name, e, time.perf_counter() - start)])
        raise _all_failed(failed)


@runtime_checkable
class ResponseStore(Protocol):
    """Where ``CachedModel`` keeps answers by key (``workbench.caches.ResponseCache`` is the one that ships)."""

    def get(self, key: str, max_age: float | None = None) -> Completion | None:
        """The completion stored under ``key``; None when absent or older than ``max_age`` seconds."""

    def put(self, key: str, completion: Completion) -> None:
        """Store ``completion`` under ``key``."""


class CachedModel:
    """Answers repeated requests from a ``ResponseStore`` (``workbench.caches.ResponseCache``). A hit says so
    (``cached=True``, no attempts, ``cost_usd`` 0, the answer's ``cost_basis`` kept) and keeps what the answer cost
    when it was made in ``saved_usd``, so a variant's cost per item (``answer_cost_usd``) does not depend on what was
    cached."""

    def __init__(self, inner: Model, cache: ResponseStore, *, ttl_seconds: float | None = None):
        """``ttl_seconds``: an entry older than this is a miss (None: no limit)."""
        self.inner, self.cache, self.ttl_seconds = inner, cache, ttl_seconds

    name = property(lambda self: self.inner.name)

    def identity(self) -> dict[str, Any]:
        """The inner model's identity (the cache key is made from it)."""
        return self.inner.identity()

    def _hit(self, key: str, start: float) -> Completion | None:
        hit = self.cache.get(key, self.ttl_seconds)
        if hit is None:
            return None
        return hit.as_cache_hit((time.perf_counter() - start) * 1000.0)

    def complete(self, messages: list[Message], **settings: Any) -> Completion:
        """The stored answer to the same request when there is a fresh one (``cached=True``), else the inner model's,
        stored."""
        start, key = time.perf_counter(), cache_key(self.identity(), messages, settings)
        hit = self._hit(key, start)
        if hit is not None:
            return hit
        completion = self.inner.complete(messages, **settings)
        self.cache.put(key, completion)
        return completion

    async def acomplete(self, messages: list[Message], **settings: Any) -> Completion:
        """Async twin of ``complete``."""
        start, key = time.perf_counter(), cache_key(self.identity(), messages, settings)
        hit = self._hit(key, start)
        if hit is not None:
            return hit
        completion = await self.inner.acomplete(messages, **settings)
        self.cache.put(key, completion)
        return completion


class LimitedModel:
    """At most ``max_concurrency`` calls in flight at once (threads for sync calls, tasks for async ones)."""

    def __init__(self, inner: Model, max_concurrency: int):
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.inner, self.max_concurrency = inner, max_concurrency
        self._threads = threading.BoundedSemaphore(max_concurrency)
        self._tasks: dict[int, asyncio.Semaphore] = {}

    name = property(lambda self: self.inner.name)

    def identity(self) -> dict[str, Any]:
        """The inner model's identity (the limit does not change the output)."""
        return self.inner.identity()

    def complete(self, messages: list[Message], **settings: Any) -> Completion:
        """The inner model's reply, waiting for a free thread slot first."""
        with self._threads:
            return self.inner.complete(messages, **settings)

    async def acomplete(self, messages: list[Message], **settings: Any) -> Completion:
        """The inner model's reply, waiting for a free task slot first (one semaphore per event loop)."""
        loop_id = id(asyncio.get_running_loop())  # a semaphore belongs to one event loop
        sem = self._tasks.get(loop_id)
        if sem is None:
            sem = self._tasks.setdefault(loop_id, asyncio.Semaphore(self.max_concurrency))
        async with sem:
            return await self.inner.acomplete(messages, **settings)


def _for_link(messages: list[Message], index: int) -> list[Message]:
    """The messages the chain's ``index``-th model gets: its own when the request carries per-model messages."""
    return messages.for_link(index) if isinstance(messages, ChainMessages) else messages


def _with_attempts(completion: Completion, failed: list[Attempt], started: float) -> Completion:
    """The completion with the failed tries before it; latency is then the wall time since the first try."""
    if not failed:
        return completion
    return completion.replace(attempts=(*failed, *completion.attempts),
                              latency_ms=(time.perf_counter() - started) * 1000.0)


def _with_history(error: ModelError, failed: list[Attempt]) -> ModelError:
    error.details["attempts"] = tuple(failed)
    return error


def _history(error: WorkbenchError) -> list[Attempt]:
    return list(getattr(error, "attempts", None) or error.details.get("attempts") or ())


def _all_failed(failed: list[Attempt]) -> AllModelsFailedError:
    tried = ", ".join(dict.fromkeys(a.model for a in failed))
    last = failed[-1] if failed else None
    return AllModelsFailedError(f"every model failed ({tried}); last error: {last.error if last else '?'}",
                                attempts=tuple(failed), code="all_models_failed",
                                hint="check keys and provider status, or add a fallback tier")
