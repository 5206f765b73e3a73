"""Reading YAML config files with errors that name the file and the field (one helper for every config kind)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ..errors import ConfigError

M = TypeVar("M", bound=BaseModel)


def read_mapping(path: str | Path, what: str) -> dict[str, Any]:
    """The YAML mapping in ``path``; ``ConfigError`` for an unreadable file, bad YAML or a non-mapping."""
    import yaml

    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"cannot read {what} {path}: {e.strerror}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a {what} must be a YAML mapping, not {type(raw).__name__}")
    return raw


def field_error(e: ValidationError) -> str:
    """``field a.b: message`` for the first error of a pydantic validation."""
    err = e.errors()[0]
    where = ".".join(map(str, err["loc"]))
    return f"field {where}: {err['msg']}" if where else err["msg"]


def build(model: type[M], raw: dict[str, Any], path: str | Path, hint: str | None = None) -> M:
    """``model(**raw)``, with a validation error turned into a ``ConfigError`` naming the file and field."""
    try:
        return model(**raw)
    except ValidationError as e:
        raise ConfigError(f"{path}: {field_error(e)}", hint=hint) from None
