"""Context selection: the chunks most relevant to a question, within a token budget.

BM25 over the candidate chunks (``workbench.lexical``: no dependency, so the production runner can use it),
best first, adding chunks while they fit ``max_tokens``; the selection is returned in document order so the
prompt reads naturally. ``method="first"`` keeps document order without ranking (a baseline).
"""
from __future__ import annotations

from typing import Literal

from .._util.lexical import bm25
from .base import Chunk


def select_context(question: str, chunks: list[Chunk], *, max_tokens: int, top_k: int = 4,
                   method: Literal["bm25", "first"] = "bm25") -> list[Chunk]:
    """Up to ``top_k`` chunks whose tokens add up to at most ``max_tokens``, most relevant first when choosing."""
    if not chunks:
        return []
    if len(chunks) <= top_k and sum(c.tokens for c in chunks) <= max_tokens:
        return list(chunks)  # everything fits: the ranking could not change the choice or its order
    if method == "bm25":
        scores = bm25(question, [c.text for c in chunks])
        ranked = sorted(range(len(chunks)), key=lambda i: (-scores[i], i))
    else:
        ranked = list(range(len(chunks)))
    chosen, used = [], 0
    for i in ranked:
        if len(chosen) == top_k:
            break
        if used + chunks[i].tokens <= max_tokens:
            chosen.append(i)
            used += chunks[i].tokens
    return [chunks[i] for i in sorted(chosen)]


def format_context(chunks: list[Chunk]) -> str:
    """The selected chunks as one context string, each headed by its source and section."""
    parts = []
    for c in chunks:
        where = " › ".join(c.section)
        head = f"[{c.source}{' — ' + where if where else ''}]" if c.source else ""
        parts.append(f"{head}\n{c.text.strip()}" if head else c.text.strip())
    return "\n\n".join(parts)
