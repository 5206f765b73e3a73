"""``InputPolicy``: what to check in an input and what to do about each finding — a frozen, YAML-serialisable
component.

    policy = InputPolicy(fields=["question", "documents.*.text"], required=["question"])
    result = policy.check({"question": "How do I reset my password?", "documents": [...]})
    result.status, result.code, result.flags, result.normalised

    InputPolicy.from_yaml("configs/input_policy.yaml").to_yaml()
"""
from __future__ import annotations

import functools
from pathlib import Path as FsPath
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..errors import ConfigError
from .injection import DEFAULT_THRESHOLD
from .result import CODES, DEFAULT_ACTIONS, InputResult

ActionName = Literal["reject", "flag", "accept"]


class InputPolicy(BaseModel):
    """Validation, normalisation and classification settings for step ①; ``check(obj)`` applies them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["input_policy"] = "input_policy"
    fields: list[str] | None = Field(
        default=None, description="dotted paths of the text fields to check ('*' = any key or index); "
                                  "None = every string at any depth except the top-level 'id'")
    required: list[str] = Field(default_factory=list, description="dotted paths that must be present")
    max_chars: int = Field(default=100_000, gt=0, description="per field, in characters")
    max_tokens: int = Field(default=32_000, gt=0, description="per field, in tokens of `model`")
    model: str = Field(default="openai/gpt-4o-mini", description="the model whose tokenizer counts tokens")
    short_max_chars: int = Field(default=200, gt=0, description="length class 'short' below this")
    medium_max_chars: int = Field(default=2000, gt=0, description="length class 'medium' below this")
    long_max_chars: int = Field(default=20_000, gt=0, description="length class 'long' below this")
    injection_threshold: float = Field(default=DEFAULT_THRESHOLD, ge=0.0, le=1.0,
                                       description="injection score at or above which a field is flagged")
    actions: dict[str, ActionName] = Field(default_factory=lambda: dict(DEFAULT_ACTIONS),
                                           description="code -> reject | flag | accept (a code not listed takes "
                                                       "its default)")

    @field_validator("actions", mode="before")
    @classmethod
    def _known_codes(cls, value: Any) -> Any:
        # kept as given, never merged with today's defaults: a config exported before a code existed keeps its
        # content and its hash, and the new code takes its default action (``action``)
        if not isinstance(value, dict):
            return value
        unknown = sorted(set(value) - set(CODES))
        if unknown:
            raise ValueError(f"unknown code(s) {', '.join(map(repr, unknown))}; known: {', '.join(CODES)}")
        return value

    @model_validator(mode="after")
    def _thresholds_increase(self) -> InputPolicy:
        if not self.short_max_chars < self.medium_max_chars < self.long_max_chars:
            raise ValueError("length thresholds must increase: short_max_chars < medium_max_chars < long_max_chars")
        return self

    def action(self, code: str) -> str:
        """What this policy does about ``code``."""
        return self.actions.get(code, DEFAULT_ACTIONS[code])

    def check(self, obj: Any, *, shape_checked: bool = False) -> InputResult:
        """Validate, normalise and classify ``obj``; bad content gives a rejected or flagged result, never an
        exception. ``obj`` is not modified. ``shape_checked``: the caller found no ``shape.shape_problem`` in
        ``obj`` already (the runner looks before anything reads an input), so it is not walked again."""
        return _check_object()(self, obj, shape_checked=shape_checked)

    def to_yaml(self) -> str:
        """The policy as YAML (every field, defaults included)."""
        return yaml.safe_dump(self.model_dump(), sort_keys=False, allow_unicode=True)

    @classmethod
    def from_yaml(cls, source: str | FsPath) -> InputPolicy:
        """Load from a YAML file path or YAML text; errors name the file and the field (``ConfigError``)."""
        text, where = _read_source(source)
        from .._util.yamlfiles import safe_yaml

        data = safe_yaml(text, where)
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ConfigError(f"{where}: expected a mapping of input policy fields, got {type(data).__name__}")
        try:
            return cls.model_validate(data)
        except ValidationError as e:
            raise ConfigError(f"{where}: {_describe(e)}") from e


def _read_source(source: str | FsPath) -> tuple[str, str]:
    looks_like_path = isinstance(source, FsPath) or (
        "\n" not in source and (source.endswith((".yaml", ".yml")) or FsPath(source).is_file()))
    if not looks_like_path:
        return str(source), "input policy"
    from .._util.yamlfiles import read_text

    return read_text(source, "input policy"), str(source)


def _describe(e: ValidationError) -> str:
    parts = []
    for err in e.errors():
        loc = ".".join(str(x) for x in err["loc"]) or "(policy)"
        parts.append(f"field {loc!r}: {err['msg']}")
    return "; ".join(parts)


@functools.cache
def _check_object() -> Any:
    """``checking.check_object``, imported at the first check (its regexes are compiled then), not at every one
    (an import statement in a function costs ~0.65 µs a call)."""
    from .checking import check_object

    return check_object
