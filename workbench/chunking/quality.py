"""Boundary quality of chunks, from the source text and the chunks' offsets alone (so it scores any chunker).

Definitions (percentages of chunks; headings and blocks come from :mod:`workbench.chunking.markup`, the parser
the structure chunker uses, applied to the source text; the format is sniffed from a chunk's ``source`` suffix or
the text):

* **over-limit**: ``tokens > max_tokens``. **tiny**: ``tokens < max_tokens / 8``.
* **bad-cut**: the chunk's last non-blank character ends neither a sentence (``. ! ? : ;``, optionally followed
  by closing quotes or brackets) nor a block. It ends a block when, after that character (skipping only spaces
  and tabs on the same line and the newline), a blank line follows, or a line that starts another block (a
  heading, list item, table row, code fence, HTML tag, Markdown link definition, reST directive or field), or
  the document ends. Measuring from the last non-blank character means keeping or stripping trailing whitespace
  changes nothing.
* **partial-section**: the chunk contains a heading that is not at its start (its first non-blank character),
  and it does not both start at a section start (a heading, or the document's first non-blank character) and
  end at a section end (only whitespace before the next heading or the end of the document).
* **verbatim**: ``source[start:end] == chunk.text``. A chunk whose offsets are unknown (``start < 0``: a peer's
  chunk the benchmark could not map back) is non-verbatim and is left out of the bad-cut and partial-section
  counts, whose denominators are the chunks with known offsets.
* **MB/s**: source megabytes (UTF-8, 10**6 bytes) per second, when ``seconds`` is given.
"""
from __future__ import annotations

import html
import math
from bisect import bisect_right
from dataclasses import asdict, dataclass
from typing import Any

from .base import Chunk
from .markup import BLANK, BLOCK_STARTS, Markup, parse, sniff
from .spans import ends_sentence


@dataclass(frozen=True)
class QualityReport:
    """Chunk-boundary quality over a set of documents."""

    chunks: int
    """Number of chunks scored."""
    documents: int
    """Number of source documents."""
    limit: int
    """The ``max_tokens`` the chunks were made for."""
    over_limit_pct: float
    """% of chunks with more than ``limit`` tokens."""
    tiny_pct: float
    """% of chunks with fewer than ``limit / 8`` tokens."""
    bad_cut_pct: float
    """% of (located) chunks ending neither a sentence nor a block."""
    partial_section_pct: float
    """% of (located) chunks holding a heading past their start without spanning whole sections."""
    verbatim_pct: float
    """% of chunks equal to their slice of the source."""
    mb_per_s: float | None
    """Source MB per second, when the time taken was given."""
    mean_tokens: float
    """Mean tokens per chunk."""
    p95_tokens: int
    """95th percentile of tokens per chunk (nearest rank)."""
    max_chunk_tokens: int
    """Largest chunk, in tokens."""
    unlocated: int
    """Chunks without offsets (counted non-verbatim)."""
    source_mb: float
    """Size of the sources in MB (UTF-8)."""

    def to_dict(self) -> dict[str, Any]:
        """A plain dict (JSON-ready)."""
        return asdict(self)

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{_fmt(v)}</td></tr>"
                       for k, v in self.to_dict().items())
        return f"<table><caption>chunk quality</caption>{rows}</table>"


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    return f"{value:.2f}" if isinstance(value, float) else html.escape(str(value))


class _Doc:
    """A source text with its parse: line lookup, heading offsets, block starts."""

    def __init__(self, text: str, source: str | None) -> None:
        self.text = text
        self.m: Markup = parse(text, sniff(text, source))
        self.heads = sorted(self._first_char(self.m.starts[h.line]) for h in self.m.headings)
        self.head_set = set(self.heads)
        self.doc_start = self._first_char(0)

    def _first_char(self, pos: int) -> int:
        """Offset of the first non-whitespace character at or after ``pos`` (``len(text)`` if none)."""
        text, n = self.text, len(self.text)
        while pos < n and text[pos].isspace():
            pos += 1
        return pos

    def block_end(self, end: int) -> bool:
        """After offset ``end`` (skipping spaces/tabs and one newline) comes a blank line, a block start or EOF."""
        text, n = self.text, len(self.text)
        while end < n and text[end] in " \t":
            end += 1
        if end < n and text[end] == "\r":
            end += 1
        if end >= n:
            return True
        if text[end] != "\n":
            return False
        end += 1
        if end >= n:
            return True
        line = bisect_right(self.m.starts, end) - 1
        return self.m.kinds[line] in BLOCK_STARTS or self.m.kinds[line] == BLANK

    def partial(self, first: int, last: int) -> bool:
        """A chunk whose content spans ``[first, last)`` is a partial section."""
        k = bisect_right(self.heads, first)
        if k >= len(self.heads) or self.heads[k] >= last:
            return False  # no heading past its start
        starts_section = first in self.head_set or first == self.doc_start
        nxt = self._first_char(last)
        return not (starts_section and (nxt >= len(self.text) or nxt in self.head_set))


def chunk_quality(docs: list[tuple[str, list[Chunk]]], max_tokens: int,
                  seconds: float | None = None) -> QualityReport:
    """Score chunks: ``docs`` are ``(source text, its chunks)`` pairs (see the module docstring)."""
    n = over = tiny = bad = partial = verbatim = unlocated = 0
    tokens: list[int] = []
    for text, chunks in docs:
        doc = _Doc(text, next((c.source for c in chunks if c.source), None)) if chunks else None
        for c in chunks:
            n += 1
            tokens.append(c.tokens)
            over += c.tokens > max_tokens
            tiny += c.tokens < max_tokens / 8
            if c.start < 0 or c.end > len(text) or c.start > c.end:
                unlocated += 1
                continue
            piece = text[c.start:c.end]
            verbatim += piece == c.text
            body = piece.strip()
            if not body or doc is None:
                continue
            first = c.start + (len(piece) - len(piece.lstrip()))
            last = first + len(body)
            bad += not (ends_sentence(body) or doc.block_end(last))
            partial += doc.partial(first, last)
    located = max(n - unlocated, 1)

    def pct(k: float, d: float) -> float:
        return 100.0 * k / d if d else 0.0

    size = sum(len(t.encode("utf-8")) for t, _ in docs) / 1e6
    ranked = sorted(tokens)
    return QualityReport(
        chunks=n, documents=len(docs), limit=max_tokens, over_limit_pct=pct(over, n), tiny_pct=pct(tiny, n),
        bad_cut_pct=pct(bad, located), partial_section_pct=pct(partial, located), verbatim_pct=pct(verbatim, n),
        mb_per_s=size / seconds if seconds else None, mean_tokens=sum(tokens) / n if n else 0.0,
        p95_tokens=ranked[max(math.ceil(0.95 * n) - 1, 0)] if n else 0, max_chunk_tokens=ranked[-1] if n else 0,
        unlocated=unlocated, source_mb=size)
