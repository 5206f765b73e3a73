"""Read a JSONL file of objects: ``(line number, object)`` for each non-blank line, or a ``DataError`` naming the
file and the line of the first one that is not a JSON object."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import DataError


def json_objects(path: str | Path, what: str = "row") -> list[tuple[int, dict[str, Any]]]:
    """The objects of the JSONL file ``path`` with their line numbers (``what`` names one in errors)."""
    path, out = Path(path), []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise DataError(f"not valid JSON: {e.msg}", path=path, line=n) from None
        if not isinstance(obj, dict):
            raise DataError(f"a {what} must be a JSON object", path=path, line=n)
        out.append((n, obj))
    return out
