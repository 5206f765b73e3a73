"""Reading JSONL files of our own formats (eval sets, judge labels, imported tables): strict UTF-8 and one JSON value
per line, every problem a ``DataError`` naming the file and the line — never a traceback, whatever the bytes (not
UTF-8) or the nesting (deeper than the parser goes)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import DataError


def read_utf8(path: str | Path) -> str:
    """The text of ``path``; ``DataError`` when it cannot be read or is not UTF-8 (with the line of the bad byte)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise DataError(f"cannot read: {e.strerror}", path=path) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DataError("not valid UTF-8", path=path, line=data[: e.start].count(b"\n") + 1) from None


def parse_line(line: str, path: Any, n: int) -> Any:
    """The JSON value of line ``n``; ``DataError`` when it is not JSON or is nested too deeply to parse."""
    try:
        return json.loads(line)
    except json.JSONDecodeError as e:
        raise DataError(f"not valid JSON: {e.msg} (column {e.colno})", path=path, line=n) from None
    except RecursionError:
        raise DataError("nested too deeply to parse", path=path, line=n) from None


def json_objects(path: str | Path, what: str = "row") -> list[tuple[int, dict[str, Any]]]:
    """The objects of the JSONL file ``path`` with their line numbers (``what`` names one in errors)."""
    path, out = Path(path), []
    for n, line in enumerate(read_utf8(path).splitlines(), 1):
        if not line.strip():
            continue
        obj = parse_line(line, path, n)
        if not isinstance(obj, dict):
            raise DataError(f"a {what} must be a JSON object", path=path, line=n)
        out.append((n, obj))
    return out
