"""One JSONL line (bytes) -> one result row, for ``workbench validate`` and any batch reader.

The row: ``{"line", "id", "status", "code", "message", "classes", "flags"}``. A line that cannot be decoded as
UTF-8, parsed as JSON, or is not an object with an ``id`` (a non-empty string or an integer) gets a row too.
"""
from __future__ import annotations

import json
from typing import Any

from .checking import _UNCLASSIFIED, check_object, result_from
from .policy import InputPolicy
from .result import Flag, InputResult

_BOM = b"\xef\xbb\xbf"


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _valid_id(obj: dict) -> bool:
    value = obj.get("id")
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, str) and value.strip() != "")


def _parse(raw: bytes, policy: InputPolicy) -> tuple[Any, list[Flag], bool]:
    """(object, findings, parsed?) for one line without its newline."""
    if not raw.strip():
        return None, [Flag("empty", None, None, ["blank line"])], False
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        flag = Flag("invalid_utf8", None, None, [f"byte {e.start}"])
        if policy.action("invalid_utf8") == "reject":
            return None, [flag], False
        return _parse_json(raw.decode("utf-8", errors="replace"), [flag])
    return _parse_json(text, [])


def _parse_json(text: str, found: list[Flag]) -> tuple[Any, list[Flag], bool]:
    try:
        return json.loads(text, parse_constant=_no_constants), found, True
    except (ValueError, RecursionError) as e:
        reason = str(e).split(":")[0] if not isinstance(e, RecursionError) else "nested too deeply"
        return None, found + [Flag("invalid_json", None, None, [reason])], False


def check_line(raw: bytes, line_no: int, policy: InputPolicy) -> dict[str, Any]:
    """The result row for line ``line_no`` (1-based) holding ``raw`` (one trailing ``\\r`` is ignored)."""
    if raw.endswith(b"\r"):
        raw = raw[:-1]
    if line_no == 1 and raw.startswith(_BOM):
        raw = raw[len(_BOM):]
    obj, found, parsed = _parse(raw, policy)
    if not parsed:
        return row(line_no, None, result_from(found, policy, dict(_UNCLASSIFIED)))
    if isinstance(obj, dict) and not _valid_id(obj):
        found.append(Flag("missing_id", "id", None, [] if "id" not in obj else [type(obj["id"]).__name__]))
        if policy.action("missing_id") == "reject":
            return row(line_no, None, result_from(found, policy, dict(_UNCLASSIFIED)))
    result = check_object(policy, obj, found)
    ident = obj.get("id") if isinstance(obj, dict) and _valid_id(obj) else None
    return row(line_no, ident, result)


def row(line_no: int, ident: Any, result: InputResult) -> dict[str, Any]:
    """The output row of ``workbench validate``."""
    return {"line": line_no, "id": ident, "status": result.status, "code": result.code,
            "message": result.message, "classes": dict(result.classes),
            "flags": [f.to_dict() for f in result.flags]}
