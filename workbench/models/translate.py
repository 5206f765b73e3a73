"""Translate litellm's and providers' exceptions into the WorkbenchError tree, in one place."""
from __future__ import annotations

from ..errors import (
    BadRequestError,
    ContextWindowError,
    MalformedResponseError,
    MissingKeyError,
    ModelError,
    ModelTimeoutError,
    ProviderUnavailableError,
    RateLimitedError,
    WorkbenchError,
)

# litellm exception class names -> our class. Matched along the MRO, most specific first, so that litellm
# itself never has to be imported here.
_BY_NAME: dict[str, type[ModelError]] = {
    "ContextWindowExceededError": ContextWindowError,
    "RateLimitError": RateLimitedError,
    "Timeout": ModelTimeoutError,
    "APITimeoutError": ModelTimeoutError,
    "TimeoutError": ModelTimeoutError,
    "ServiceUnavailableError": ProviderUnavailableError,
    "InternalServerError": ProviderUnavailableError,
    "BadGatewayError": ProviderUnavailableError,
    "APIConnectionError": ProviderUnavailableError,
    "BadRequestError": BadRequestError,
    "UnprocessableEntityError": BadRequestError,
    "NotFoundError": BadRequestError,
    "UnsupportedParamsError": BadRequestError,
    "JSONDecodeError": MalformedResponseError,
    "APIResponseValidationError": MalformedResponseError,
}
_MALFORMED_HINTS = ("JSONDecodeError", "Expecting value", "Unterminated string", "Invalid control character",
                    "Extra data", "Expecting ',' delimiter", "Invalid JSON", "Unable to get json response")


def translate(exc: BaseException, model: str) -> WorkbenchError:
    """The WorkbenchError for an exception raised while calling ``model``."""
    if isinstance(exc, WorkbenchError):
        return exc
    inner = _wrapped_workbench_error(exc)
    if inner is not None:
        return inner
    return _from_provider(exc, model)


def _from_provider(exc: BaseException, model: str) -> WorkbenchError:
    """The WorkbenchError for a litellm or provider exception: by class name along the MRO, else by status."""
    names = [cls.__name__ for cls in type(exc).__mro__]
    message = _short(str(exc))
    status = getattr(exc, "status_code", None)
    if "AuthenticationError" in names or "PermissionDeniedError" in names:
        return MissingKeyError(f"{model}: the provider refused the credentials ({message})",
                               hint="check the provider's API key in the environment")
    if any(h in str(exc) for h in _MALFORMED_HINTS):
        return MalformedResponseError("the provider's reply could not be parsed", model=model, status=status)
    for name in names:
        cls = _BY_NAME.get(name)
        if cls is not None:
            return cls(message, model=model, status=status, retry_after=_retry_after(exc),
                       hint=_HINTS.get(cls))
    if isinstance(status, int) and status >= 500:
        return ProviderUnavailableError(message, model=model, status=status)
    return ModelError(f"{type(exc).__name__}: {message}", model=model, status=status)


_HINTS = {
    RateLimitedError: "lower the concurrency or raise the retry budget; the call is retried with backoff",
    ProviderUnavailableError: "the provider is down or unreachable; configure a fallback tier",
    ModelTimeoutError: "raise the timeout or configure a fallback tier",
    ContextWindowError: "shorten the prompt: fewer or smaller chunks, or a model with a larger window",
}


def _wrapped_workbench_error(exc: BaseException) -> WorkbenchError | None:
    """An error our own offline provider raised, possibly wrapped by litellm."""
    seen = 0
    cur: BaseException | None = exc
    while cur is not None and seen < 5:
        if isinstance(cur, WorkbenchError):
            return cur
        cur = getattr(cur, "original_exception", None) or cur.__cause__ or cur.__context__
        seen += 1
    return None


def _retry_after(exc: BaseException) -> float | None:
    """Seconds the provider asked us to wait (Retry-After / retry-after-ms), when it said."""
    headers = None
    for attr in ("litellm_response_headers", "headers"):
        headers = getattr(exc, attr, None) or headers
    response = getattr(exc, "response", None)
    if headers is None and response is not None:
        headers = getattr(response, "headers", None)
    if not headers:
        return None
    try:
        if headers.get("retry-after-ms") is not None:
            return float(headers.get("retry-after-ms")) / 1000.0
        value = headers.get("retry-after") or headers.get("Retry-After")
        return None if value is None else max(0.0, float(value))
    except (TypeError, ValueError):
        return None


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
