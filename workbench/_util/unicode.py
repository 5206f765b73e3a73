"""Lone surrogates (``"\\ud800"``): code points a Python string may hold but UTF-8, and so SQLite, JSON files and
Rust tokenizers, cannot carry. Input checks refuse them, and the caches refuse to store them."""
from __future__ import annotations

import re

SURROGATE_RE = re.compile("[\ud800-\udfff]")


def is_valid_unicode(text: str) -> bool:
    """False when ``text`` holds a lone surrogate, which no UTF-8 encoding can carry."""
    return text.isascii() or SURROGATE_RE.search(text) is None
