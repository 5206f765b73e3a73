"""``dumps_with(...)``: ``json.dumps`` with fixed options, its C encoder made once.

``json.dumps`` with any option builds a ``JSONEncoder``, and ``JSONEncoder.encode`` then builds a C encoder with a
dict of the containers being encoded, to spot a cycle: about 2 µs of the 5 µs a cached answer costs to write. The
encoder made here skips both. A cycle, which it would meet as a ``RecursionError``, is still the ``ValueError``
that ``json.dumps`` raises.
"""
from __future__ import annotations

import json
import json.encoder
from collections.abc import Callable
from typing import Any


def dumps_with(*, sort_keys: bool = False, separators: tuple[str, str] = (", ", ": "), ensure_ascii: bool = True,
               default: Callable[[Any], Any] | None = None) -> Callable[[Any], str]:
    """A function that writes what ``json.dumps(obj, sort_keys=..., separators=..., ensure_ascii=...,
    default=...)`` writes."""
    slow = json.JSONEncoder(sort_keys=sort_keys, separators=separators, ensure_ascii=ensure_ascii, default=default)
    if json.encoder.c_make_encoder is None:  # pragma: no cover - CPython always has the C encoder
        return slow.encode
    item_separator, key_separator = separators
    string = json.encoder.encode_basestring_ascii if ensure_ascii else json.encoder.encode_basestring
    fast = json.encoder.c_make_encoder(None, slow.default, string, None, key_separator, item_separator, sort_keys,
                                       False, True)

    def dumps(obj: Any) -> str:
        try:
            return "".join(fast(obj, 0))
        except RecursionError:
            slow.encode(obj)  # raises ValueError("Circular reference detected") on a cycle
            raise

    return dumps
