"""The shape of an input object, checked before anything reads it: nesting depth and lone surrogates, anywhere
(keys, ids, any string), without recursion. A 1 KB line nested 500 deep, or an id holding ``"\\ud800"``, used to
crash the log store's hashing or the output writer and take the batch with it; now each is a coded rejection:

- ``too_deep``: objects/lists nested more than ``MAX_DEPTH`` levels;
- ``invalid_unicode``: a string or key holding a lone surrogate, which no UTF-8 encoding can carry.

The walk is iterative and visits each value once; a typical input (a question and a few documents) costs
microseconds.
"""
from __future__ import annotations

from typing import Any

from .chars import is_valid_unicode
from .result import Flag

MAX_DEPTH = 32
"""Deepest nesting of objects and lists an input may have (an input is a question and documents: 3 levels)."""


def shape_problem(obj: Any, max_depth: int = MAX_DEPTH) -> Flag | None:
    """The first ``too_deep`` or ``invalid_unicode`` finding in ``obj`` (with its dotted path), else None."""
    stack: list[tuple[Any, int, tuple]] = [(obj, 0, ())]
    while stack:
        node, depth, path = stack.pop()
        if isinstance(node, str):
            if not is_valid_unicode(node):
                return Flag("invalid_unicode", _dotted(path), None, ["lone surrogate"])
            continue
        if isinstance(node, dict):
            items: Any = node.items()
        elif isinstance(node, list | tuple):
            items = enumerate(node)
        else:
            continue
        if depth >= max_depth:
            return Flag("too_deep", _dotted(path), None, [f"nested more than {max_depth} levels"])
        for key, value in items:
            if isinstance(key, str) and not is_valid_unicode(key):
                return Flag("invalid_unicode", _dotted(path), None, ["lone surrogate in a key"])
            stack.append((value, depth + 1, (*path, key)))
    return None


def documents_problem(obj: dict[str, Any]) -> Flag | None:
    """``wrong_type`` when ``obj`` has ``documents`` that are not a list of texts or of ``{id, text}`` objects (a
    string would otherwise become one document per character), or a ``question`` that is not text."""
    question = obj.get("question")
    if question is not None and not isinstance(question, str):
        return Flag("wrong_type", "question", None, [f"should be text, got {type(question).__name__}"])
    docs = obj.get("documents")
    if docs is None or (isinstance(docs, list) and all(map(_is_document, docs))):
        return None
    if not isinstance(docs, list):
        got = type(docs).__name__
    else:
        bad = next(d for d in docs if not _is_document(d))
        got = f"a list holding {'an object without a text' if isinstance(bad, dict) else type(bad).__name__}"
    return Flag("wrong_type", "documents", None, [f"should be a list of texts or of {{id, text}} objects, got {got}"])


def _is_document(doc: Any) -> bool:
    if isinstance(doc, str):
        return True
    ident = doc.get("id", "") if isinstance(doc, dict) else None
    return (isinstance(doc, dict) and isinstance(doc.get("text"), str) and isinstance(ident, str | int)
            and not isinstance(ident, bool))


def _dotted(path: tuple) -> str | None:
    """The dotted path, printable, and short: a deep path keeps its first and last three parts."""
    parts = [str(p).encode("utf-8", "backslashreplace").decode("utf-8")[:40] for p in path]
    if len(parts) > 8:
        parts = [*parts[:3], f"…{len(parts) - 6} more…", *parts[-3:]]
    return ".".join(parts) or None


def printable(value: Any) -> Any:
    """``value`` safe to write as UTF-8 JSON: a string's lone surrogates as ``\\udxxx`` escapes (an id echoed
    back in a rejection), anything else unchanged."""
    if isinstance(value, str) and not is_valid_unicode(value):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value
