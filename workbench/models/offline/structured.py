"""Structured replies of the offline heuristics: one job, filling a JSON schema (or a JSON object) with the values.

``schema_of`` reads an OpenAI-style ``response_format`` (or a pydantic model class); ``render`` returns the plain
text when no JSON was asked for, else JSON that validates against the schema, each property filled from the
heuristic's values by its name (``quote`` takes the evidence, ``confidence`` the score, ...) and type.
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

_FIRST_NUMBER_RE = re.compile(r"-?\d[\d,]*(?:\.\d+)?")
_ROLES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"quote|evidence|source|support|citation|span|passage|context|sentence"), "evidence"),
    (re.compile(r"reason|explanation|rationale|justification|comment"), "reason"),
    (re.compile(r"verdict|label|grade|decision"), "verdict"),
    (re.compile(r"score|confidence|rating|probability"), "score"),
    (re.compile(r"found|answerable|pass|correct|success|valid|has_"), "found"),
)


def _role(name: str) -> str:
    """Which value a schema property takes, from its name (default: the answer)."""
    return next((role for rx, role in _ROLES if rx.search(name.lower())), "answer")


def schema_of(response_format: Any) -> tuple[bool, dict[str, Any] | None]:
    """(whether JSON is wanted, the JSON schema if one was given) from an OpenAI-style ``response_format``."""
    if isinstance(response_format, type) and hasattr(response_format, "model_json_schema"):
        return True, response_format.model_json_schema()
    if not isinstance(response_format, dict):
        return False, None
    kind = response_format.get("type")
    if kind == "json_schema":
        spec = response_format.get("json_schema") or response_format.get("schema") or {}
        schema = spec.get("schema", spec) if isinstance(spec, dict) else None
        return True, schema or None
    if kind == "json_object" or "schema" in response_format:
        return True, response_format.get("schema") or None
    return False, None


def _resolve(schema: Any, defs: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(schema, dict):
        return {}
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(("#/$defs/", "#/definitions/")):
        return _resolve(defs.get(ref.rsplit("/", 1)[-1], {}), defs)
    return schema


def _number(schema: dict[str, Any], values: Mapping[str, Any], name: str) -> float:
    if _role(name) == "score" and isinstance(values.get("score"), (int, float)):
        x = float(values["score"])
    else:
        m = _FIRST_NUMBER_RE.search(str(values.get("answer", "")).replace(",", ""))
        x = float(m.group(0)) if m else 0.0
    lo, hi = schema.get("minimum"), schema.get("maximum")
    return min(max(x, lo if lo is not None else x), hi if hi is not None else x)


def _fill(schema: Any, values: Mapping[str, Any], name: str, defs: Mapping[str, Any], depth: int = 0) -> Any:
    """A value that validates against ``schema``, filled from ``values`` by property name and type."""
    s = _resolve(schema, defs)
    if "const" in s:
        return s["const"]
    if "enum" in s:
        wanted = values.get(_role(name))
        return wanted if wanted in s["enum"] else s["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if s.get(key):
            options = [o for o in s[key] if _resolve(o, defs).get("type") != "null"] or s[key]
            return _fill(options[0], values, name, defs, depth + 1)
    return _fill_type(s, values, name, defs, depth)


def _fill_type(s: dict[str, Any], values: Mapping[str, Any], name: str, defs: Mapping[str, Any], depth: int) -> Any:
    """``_fill`` by the schema's ``type`` (the first one that is not null; an object when it has properties, else a
    string)."""
    kind = s.get("type", "object" if "properties" in s else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" and depth < 8:
        props = s.get("properties") or {}
        out = {k: _fill(v, values, k, defs, depth + 1) for k, v in props.items()}
        out.update({r: str(values.get("answer", "")) for r in s.get("required", ()) if r not in out})
        return out or {"answer": values.get("answer", "")}
    if kind == "array":
        return [_fill(s.get("items", {}), values, name, defs, depth + 1)]
    if kind in ("number", "integer"):
        x = _number(s, values, name)
        return round(x) if kind == "integer" else x
    if kind == "boolean":
        return bool(values.get("found"))
    if kind == "null":
        return None
    text = str(values.get(_role(name), values.get("answer", "")))
    return text[: s["maxLength"]] if isinstance(s.get("maxLength"), int) else text


def render(values: Mapping[str, Any], response_format: Any, plain: str | None) -> str:
    """The reply text: ``plain`` when no JSON was asked for, else JSON (schema-filled when a schema was given)."""
    wanted, schema = schema_of(response_format)
    if not wanted and plain is not None:
        return plain
    if schema:
        data = _fill(schema, values, "answer", {**schema.get("definitions", {}), **schema.get("$defs", {})})
    else:
        data = {"answer": values["answer"]} if plain is not None else values["json"]
    return json.dumps(data, ensure_ascii=False)
