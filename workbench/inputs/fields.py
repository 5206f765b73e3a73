"""Dotted paths into JSON-like objects: which strings to check, which required fields are missing, and a
rebuilt copy with some strings replaced.

A path is a tuple of segments (dict keys as ``str``, list indices as ``int``) shown as ``"documents.0.text"``.
A pattern is a dotted string where ``*`` matches any key or index at its level (``"documents.*.text"``); a
pattern that selects a dict or list selects every string beneath it.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

Path = tuple[Any, ...]
TEXT_TYPES = (str, bytes)


def dotted(path: Path) -> str:
    """``("documents", 0, "text") -> "documents.0.text"``."""
    return ".".join(str(p) for p in path)


def _children(node: Any) -> Iterator[tuple[Any, Any]]:
    if isinstance(node, dict):
        yield from node.items()
    elif isinstance(node, (list, tuple)):
        yield from enumerate(node)


def iter_strings(node: Any, path: Path = (), *, skip_top_id: bool = False) -> Iterator[tuple[Path, Any]]:
    """``(path, value)`` of every string (or bytes) at any depth, depth first, in order."""
    stack = [(path, node)]
    while stack:
        p, n = stack.pop()
        if isinstance(n, TEXT_TYPES):
            yield p, n
            continue
        kids = [(p + (k,), v) for k, v in _children(n) if not (skip_top_id and not p and k == "id")]
        stack.extend(reversed(kids))


def _child(node: Any, segment: str) -> tuple[bool, Any, Any]:
    """(found, key, value) for one non-wildcard segment."""
    if isinstance(node, dict):
        return (True, segment, node[segment]) if segment in node else (False, None, None)
    if isinstance(node, (list, tuple)) and segment.isdigit() and int(segment) < len(node):
        return True, int(segment), node[int(segment)]
    return False, None, None


def resolve(node: Any, pattern: str) -> list[tuple[Path, Any]]:
    """Every ``(path, value)`` that ``pattern`` selects (not expanded below containers)."""
    level: list[tuple[Path, Any]] = [((), node)]
    for segment in pattern.split("."):
        nxt: list[tuple[Path, Any]] = []
        for p, n in level:
            if segment == "*":
                nxt.extend((p + (k,), v) for k, v in _children(n))
            else:
                found, key, value = _child(n, segment)
                if found:
                    nxt.append((p + (key,), value))
        level = nxt
    return level


def missing(node: Any, pattern: str) -> list[str]:
    """Dotted paths that ``pattern`` requires but ``node`` lacks (``*`` requires the rest under every item)."""
    def walk(n: Any, segments: list[str], p: Path) -> list[str]:
        if not segments:
            return []
        head, rest = segments[0], segments[1:]
        if head == "*":
            return [m for k, v in _children(n) for m in walk(v, rest, p + (k,))]
        found, key, value = _child(n, head)
        if not found or (not rest and value is None):
            return [dotted(p + (head,))]
        return walk(value, rest, p + (key,))

    return walk(node, pattern.split("."), ())


def selected(node: Any, patterns: list[str] | None) -> tuple[list[tuple[Path, Any]], list[Path]]:
    """(text leaves to check, paths of non-text leaves that a pattern names). ``None``: every string but the
    top-level ``id``."""
    if patterns is None:
        return list(iter_strings(node, skip_top_id=True)), []
    texts: dict[Path, Any] = {}
    wrong: list[Path] = []
    for pattern in patterns:
        for p, value in resolve(node, pattern):
            if isinstance(value, (dict, list, tuple)):
                texts.update(iter_strings(value, p))
            elif isinstance(value, TEXT_TYPES):
                texts[p] = value
            elif p not in wrong:
                wrong.append(p)
    return list(texts.items()), wrong


def rebuilt(node: Any, replacements: dict[Path, str], path: Path = ()) -> Any:
    """A new copy of ``node`` (dicts and lists copied) with the strings at ``replacements``' paths replaced."""
    if isinstance(node, dict):
        return {k: rebuilt(v, replacements, path + (k,)) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        items = [rebuilt(v, replacements, path + (i,)) for i, v in enumerate(node)]
        return items if isinstance(node, list) else tuple(items)
    return replacements.get(path, node)
