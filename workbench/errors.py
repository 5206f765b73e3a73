"""One exception tree for the whole package.

Every error a user can meet is a ``WorkbenchError``: it carries a stable ``code`` (for logs, JSON output and
tests) and a message that says what to do. Errors from litellm and providers are translated into this tree in
one place (``workbench.models.translate``); nothing else raises a provider's exception type.

    WorkbenchError
    ├── UsageError                 bad arguments or environment (CLI exit 2)
    │   ├── ConfigError            a config / tiers / spec file is wrong
    │   │   └── ConfigTamperedError  an exported config was edited after export
    │   ├── UnknownTierError
    │   ├── UnknownModelError
    │   ├── MissingKeyError        a provider needs an API key that is not set
    │   └── QueueUnavailableError  the queue broker or its ledger cannot be reached
    ├── DataError                  a data file is malformed: names file, line and field (CLI exit 1)
    ├── BudgetExceededError        a run would cost more than its cap
    ├── PromptVariableError        a render got a missing, undeclared or mistyped variable
    ├── StatsError                 a statistic was refused (too few pairs, values that are not scores)
    ├── CalibrationError           a judge agrees with human labels below the bar for a gate
    ├── ExportRefusedError         the evidence misses a gate threshold; holds the missed checks
    ├── LogStoreError              the log store cannot be opened or written (CLI exit 2)
    └── ModelError                 a model call failed (after our retries, if any)
        ├── RateLimitedError       429                       retryable
        ├── ProviderUnavailableError 5xx, refused connection retryable
        ├── ModelTimeoutError      the call took too long    retryable
        ├── MalformedResponseError unparseable reply         retryable
        ├── BadRequestError        the request itself is wrong (not retryable)
        ├── ContextWindowError     the prompt does not fit the model
        └── AllModelsFailedError   every model of a fallback chain failed; holds the attempts
"""
from __future__ import annotations

from typing import Any


class WorkbenchError(Exception):
    """Base of every error the package raises. ``code`` is stable; ``hint`` says what to do."""

    code = "error"
    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None, code: str | None = None, **details: Any):
        self.message = message
        self.hint = hint
        if code:
            self.code = code
        self.details = details
        super().__init__(message if not hint else f"{message}\n  hint: {hint}")

    def to_dict(self) -> dict[str, Any]:
        """The ``{"code", "message"}`` form used in JSON output lines."""
        return {"code": self.code, "message": self.message if not self.hint else f"{self.message} ({self.hint})"}


class UsageError(WorkbenchError):
    """Bad arguments or environment: the caller must change something (CLI exit 2)."""

    code = "usage"
    exit_code = 2


class ConfigError(UsageError):
    """A config, tiers or spec file is wrong; the message names the field."""

    code = "config"


class ConfigTamperedError(ConfigError):
    """An exported config's content does not match its ``config_hash``: it was edited after export."""

    code = "config_tampered"


class QueueUnavailableError(UsageError):
    """The broker (Redis) or the ledger database cannot be reached."""

    code = "queue_unavailable"


class UnknownTierError(UsageError):
    """A tier name that the tiers file (or the config's embedded tiers) lacks."""

    code = "unknown_tier"


class UnknownModelError(UsageError):
    """A model id that no provider or offline stand-in can serve."""

    code = "unknown_model"


class MissingKeyError(UsageError):
    """A provider needs an API key that is not set, or it refused the one given."""

    code = "missing_key"


class DataError(WorkbenchError):
    """A data file (JSONL, YAML) is malformed. ``path``, ``line`` and ``field`` say where."""

    code = "invalid_data"

    def __init__(self, message: str, *, path: Any = None, line: int | None = None, field: str | None = None,
                 hint: str | None = None, code: str | None = None):
        where = ":".join(str(x) for x in (path, line) if x is not None)
        if field:
            where = f"{where} field {field!r}" if where else f"field {field!r}"
        super().__init__(f"{where}: {message}" if where else message, hint=hint, code=code)
        self.path, self.line, self.field = path, line, field


class BudgetExceededError(WorkbenchError):
    """A run's cost estimate is above its budget; raise the budget, shrink the run or confirm it."""

    code = "budget_exceeded"


class PromptVariableError(WorkbenchError):
    """A render was asked with a missing, undeclared or mistyped variable (CLI exit 1)."""

    code = "prompt_variables"


class StatsError(WorkbenchError):
    """A statistic was refused: too few pairs, nothing paired, or values that are not scores.

    ``code`` is ``insufficient_data`` (too few or no pairs), ``invalid_values`` (a value is not a number or a
    bool, or not 0/1 for a binary comparison) or ``unknown_variant`` (a name not in the results)."""

    code = "insufficient_data"


class CalibrationError(WorkbenchError):
    """A judge's agreement with human labels is below the bar for use in a gate."""

    code = "judge_not_calibrated"


class ExportRefusedError(WorkbenchError):
    """The evidence misses a gate threshold: the config is not exported
    (``ExportOptions(override_reason=...)`` forces it). ``checks`` holds the missed
    ``workbench.release.gate.Check``s."""

    code = "export_refused"

    def __init__(self, message: str, *, checks: list[Any] | None = None, **kw: Any):
        super().__init__(message, **kw)
        self.checks = list(checks or [])


class LogStoreError(WorkbenchError):
    """The log store cannot be opened or written (bad URL, unwritable path, database down)."""

    code = "log_store"
    exit_code = 2


class ModelError(WorkbenchError):
    """A model call failed. ``model`` names it; ``retryable`` says whether trying again may help."""

    code = "model_error"
    retryable = False

    def __init__(self, message: str, *, model: str | None = None, hint: str | None = None,
                 retry_after: float | None = None, status: int | None = None, code: str | None = None):
        super().__init__(f"{model}: {message}" if model else message, hint=hint, code=code)
        self.model, self.retry_after, self.status = model, retry_after, status


class RateLimitedError(ModelError):
    """The provider answered 429; retryable (``retry_after`` when it said)."""

    code = "rate_limited"
    retryable = True


class ProviderUnavailableError(ModelError):
    """A 5xx reply or a refused connection; retryable."""

    code = "provider_unavailable"
    retryable = True


class ModelTimeoutError(ModelError):
    """The call took longer than its timeout; retryable."""

    code = "timeout"
    retryable = True


class MalformedResponseError(ModelError):
    """The provider's reply could not be parsed; retryable."""

    code = "malformed_response"
    retryable = True


class BadRequestError(ModelError):
    """The request itself is wrong (bad parameter, unknown model); not retryable."""

    code = "bad_request"


class ContextWindowError(ModelError):
    """The prompt does not fit the model's context window; not retryable."""

    code = "context_window"


class AllModelsFailedError(ModelError):
    """Every model of a fallback chain failed. ``attempts`` lists each try, in order."""

    code = "all_models_failed"

    def __init__(self, message: str, *, attempts: tuple = (), **kw: Any):
        super().__init__(message, **kw)
        self.attempts = attempts
