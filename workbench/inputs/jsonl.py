"""One JSONL line (bytes) -> one parsed input, with the same rules for ``workbench validate``, ``workbench run``,
the queue and any batch reader.

Lines are split on ``b"\\n"`` only (a final newline does not make an extra line); one trailing ``\\r`` is ignored
and so is a UTF-8 byte-order mark on line 1. A line that is blank, not strict UTF-8, not JSON (``NaN`` and
``Infinity`` included), not a JSON object, or an object without a usable ``id`` (a non-empty string or an integer,
never a boolean, at most 500 characters) has a ``problem``: a ``Flag`` whose code says which (``empty``,
``invalid_utf8``, ``invalid_json``, ``not_object``, ``missing_id``; ``too_long`` over ``MAX_LINE_BYTES``, not read
whole), and an object nested too deeply (``too_deep``) or holding a lone surrogate anywhere
(``invalid_unicode``: ``workbench.inputs.shape``) has one too. Such an object is dropped unread, but its top-level
``id``, when usable, is kept printable (a lone surrogate escaped) in ``shown_id``, so its rejection can say which
item it was (for an object too deep for the parser, the id is read without descending: ``_top_level_id``). What
a caller does with a problem is its own business: ``validate`` writes a row, ``run`` a rejected line, the queue
refuses the line.

    for line in read_lines(f):
        if line.problem: ...            # line.problem.code, line.message
        else: use(line.obj, line.id)
"""
from __future__ import annotations

import json
import json.decoder
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from .checking import _UNCLASSIFIED, check_object, result_from
from .policy import InputPolicy
from .result import Flag, InputResult
from .shape import printable, shape_problem

_BOM = b"\xef\xbb\xbf"
MAX_LINE_BYTES = 10 * 1024 * 1024
"""The longest line read, as the HTTP server's body cap: a longer one is refused as ``too_long`` while reading, never
held in memory whole (a 300 MB line used to take 1.8 GB)."""
_MESSAGES = {"too_long": f"is longer than {MAX_LINE_BYTES // (1024 * 1024)} MB (not read)",
             "empty": "is blank, not a JSON object", "invalid_utf8": "is not valid UTF-8",
             "invalid_json": "is not valid JSON", "not_object": "is not a JSON object",
             "missing_id": "has no usable 'id' (a non-empty string or an integer, at most 500 characters)",
             "too_deep": "nests objects or lists too deeply", "invalid_unicode": "holds a lone surrogate"}


@dataclass(frozen=True)
class Line:
    """One parsed line of a JSONL file."""

    number: int
    """1-based line number."""
    obj: Any = None
    """The parsed JSON value (None when the line did not parse)."""
    problem: Flag | None = None
    """Why the line is not a usable input (None when it is one)."""
    replaced_utf8: Flag | None = None
    """Set when undecodable bytes were replaced (``lenient_utf8``): a finding for the input policy."""
    refused_id: Any = None
    """For an object refused as ``too_deep`` or ``invalid_unicode``: its usable top-level ``id``, printable."""

    @property
    def id(self) -> Any:
        """The input's ``id`` when the line is a usable input, else None."""
        return self.obj.get("id") if self.problem is None else None

    @property
    def shown_id(self) -> Any:
        """The id to put on this line's result: ``id``, or ``refused_id`` for an object refused by its shape."""
        return self.id if self.problem is None else self.refused_id

    @property
    def message(self) -> str | None:
        """A human sentence for ``problem``: ``line 3 is not valid JSON (Expecting value)``."""
        if self.problem is None:
            return None
        detail = f" ({', '.join(self.problem.reasons)})" if self.problem.reasons else ""
        return f"line {self.number} {_MESSAGES[self.problem.code]}{detail}"

    def error(self) -> dict[str, str] | None:
        """``{"code", "message"}`` for an output line, or None."""
        return None if self.problem is None else {"code": self.problem.code, "message": self.message or ""}


def no_constants(name: str) -> Any:
    """``json.loads``'s ``parse_constant``: ``NaN``, ``Infinity`` and ``-Infinity`` are not JSON."""
    raise ValueError(f"{name} is not valid JSON")


MAX_ID_CHARS = 500
"""The longest usable id (the queue ledger's key column), as text."""


def valid_id(value: Any) -> bool:
    """A usable input id: a non-empty string or an integer (a boolean is not one), at most ``MAX_ID_CHARS`` long."""
    return _id_problem(value) is None


def id_refusal(value: Any) -> str | None:
    """Why ``value`` cannot be an input's id, in the words ``workbench run`` uses for such a line; None when it can."""
    problem = _id_problem(value)
    return None if problem is None else f"the input {_MESSAGES['missing_id']}: {problem}"


def _id_problem(value: Any) -> str | None:
    """Why ``value`` is not a usable id (its type, or its length); None when it is one."""
    if isinstance(value, bool) or not isinstance(value, int | str) or (isinstance(value, str) and not value.strip()):
        return type(value).__name__
    too_long = value.bit_length() > 4 * MAX_ID_CHARS if isinstance(value, int) else False  # before str() of a huge int
    if too_long or len(str(value)) > MAX_ID_CHARS:
        return f"longer than {MAX_ID_CHARS} characters"
    return None


def parse_line(raw: bytes | None, number: int, *, lenient_utf8: bool = False) -> Line:
    """Parse line ``number`` (1-based) holding ``raw`` (without its ``\\n``; None: a line over ``MAX_LINE_BYTES``,
    not read). ``lenient_utf8`` replaces undecodable bytes instead of refusing the line (the finding is kept in
    ``replaced_utf8``)."""
    if raw is None:
        return Line(number, problem=Flag("too_long", None, None, [f"over {MAX_LINE_BYTES} bytes"]))
    raw = raw[:-1] if raw.endswith(b"\r") else raw
    raw = raw[len(_BOM):] if number == 1 and raw.startswith(_BOM) else raw
    if not raw.strip():
        return Line(number, problem=Flag("empty", None, None, ["blank line"]))
    try:
        text, replaced = raw.decode("utf-8"), None
    except UnicodeDecodeError as e:
        finding = Flag("invalid_utf8", None, None, [f"byte {e.start}"])
        if not lenient_utf8:
            return Line(number, problem=finding)
        text, replaced = raw.decode("utf-8", errors="replace"), finding
    obj, problem = _parse(text)
    if problem is not None and problem.code in ("too_deep", "invalid_unicode") and (obj is None or
                                                                                 isinstance(obj, dict)):
        # the object is dropped; only its id, made printable, is kept (read without parsing when it did not parse)
        ident = _top_level_id(text) if obj is None else obj.get("id")
        return Line(number, None, problem, replaced, printable(ident) if valid_id(ident) else None)
    return Line(number, obj, problem, replaced)


def _parse(text: str) -> tuple[Any, Flag | None]:
    """``(object, problem)`` of one decoded line: the object is kept for ``not_object`` and ``missing_id`` (their
    readers may still use it) and for a shape problem (only its id is read), None when it did not parse."""
    try:
        obj = json.loads(text, parse_constant=no_constants)
    except RecursionError:  # deeper than the parser goes (about 1,000 levels; 100k is refused as fast)
        return None, Flag("too_deep", None, None, ["nested too deeply to parse"])
    except ValueError as e:
        return None, Flag("invalid_json", None, None, [str(e).split(":")[0]])
    if not isinstance(obj, dict):
        return obj, Flag("not_object", None, None, [type(obj).__name__])
    shape = shape_problem(obj)
    if shape is not None:
        return obj, shape
    if not valid_id(obj.get("id")):
        return obj, Flag("missing_id", "id", None, [_id_problem(obj["id"])] if "id" in obj else [])
    return obj, None


_SPACE = re.compile(r"[ \t\n\r]*")
_STRUCTURE = re.compile(r'["\[\]{}]')
_DECODER = json.JSONDecoder(parse_constant=no_constants)


def _top_level_id(text: str) -> Any:
    """The top-level ``id`` of a JSON object too deep for the parser, read without descending into the other values
    (iteratively: any depth, linear time); the last one, as the parser keeps. None when there is none, or the
    text is not such an object."""
    found, pos = None, _SPACE.match(text).end()
    if not text.startswith("{", pos):
        return None
    pos += 1
    try:
        while True:
            pos = _SPACE.match(text, pos).end()
            if not text.startswith('"', pos):
                return found if text.startswith("}", pos) else None
            key, pos = json.decoder.scanstring(text, pos + 1)
            pos = _SPACE.match(text, pos).end()
            if not text.startswith(":", pos):
                return None
            pos = _SPACE.match(text, pos + 1).end()
            if text.startswith(("{", "["), pos):
                pos = _skip_container(text, pos)
            else:
                value, pos = _DECODER.raw_decode(text, pos)
                found = value if key == "id" else found
            pos = _SPACE.match(text, pos).end()
            if text.startswith(",", pos):
                pos += 1
            elif text.startswith("}", pos):
                return found
            else:
                return None
    except (ValueError, IndexError):
        return None


def _skip_container(text: str, pos: int) -> int:
    """The offset after the object or list opening at ``pos`` (strings skipped whole, brackets counted)."""
    depth = 0
    while m := _STRUCTURE.search(text, pos):
        ch = m.group()
        if ch == '"':
            _, pos = json.decoder.scanstring(text, m.end())
            continue
        depth += 1 if ch in "[{" else -1
        pos = m.end()
        if depth == 0:
            return pos
    raise ValueError("unterminated object or list")


def split_lines(f: Any, max_bytes: int = MAX_LINE_BYTES) -> Iterator[tuple[int, bytes | None]]:
    """``(number, raw)`` for each line of a binary file, without its ``\\n``; ``raw`` is None for a line over
    ``max_bytes``, which is skipped in bounded reads, never held whole. ``f`` may also be any iterable of lines."""
    readline = getattr(f, "readline", None)
    if readline is None:
        for n, raw in enumerate(f, 1):
            yield n, raw[:-1] if raw.endswith(b"\n") else raw
        return
    n = 0
    while raw := readline(max_bytes + 1):
        n += 1
        if raw.endswith(b"\n"):
            yield n, raw[:-1]
        elif len(raw) <= max_bytes:
            yield n, raw  # the last line, without a newline
        else:
            while (rest := readline(1 << 20)) and not rest.endswith(b"\n"):
                pass  # the rest of the long line, read and dropped
            yield n, None


def read_lines(f: Iterable[bytes], *, lenient_utf8: bool = False) -> Iterator[Line]:
    """Every line of a binary file, parsed."""
    for n, raw in split_lines(f):
        yield parse_line(raw, n, lenient_utf8=lenient_utf8)


def check_line(raw: bytes, line_no: int, policy: InputPolicy) -> dict[str, Any]:
    """The ``workbench validate`` row for line ``line_no`` holding ``raw``, checked under ``policy``."""
    line = parse_line(raw, line_no, lenient_utf8=policy.action("invalid_utf8") != "reject")
    prior = [line.replaced_utf8] if line.replaced_utf8 else []
    problem = line.problem
    if problem is not None and (problem.code != "missing_id" or policy.action("missing_id") == "reject") \
            and problem.code != "not_object":
        return row(line_no, line.shown_id, result_from([*prior, problem], policy, dict(_UNCLASSIFIED)))
    if problem is not None and problem.code == "missing_id":
        prior.append(problem)
    result = check_object(policy, line.obj, prior)
    return row(line_no, line.obj.get("id") if line.problem is None else None, result)


def row(line_no: int, ident: Any, result: InputResult) -> dict[str, Any]:
    """The output row of ``workbench validate``: ``{"line", "id", "status", "code", "message", "classes",
    "flags"}``."""
    return {"line": line_no, "id": ident, "status": result.status, "code": result.code,
            "message": result.message, "classes": dict(result.classes),
            "flags": [f.to_dict() for f in result.flags]}
