"""``recursive``: split by blocks (blank lines), then lines, then sentences, then words, then characters.

At each level the pieces that fit are packed greedily into chunks of at most ``max_tokens`` (a chunk never
spans a piece that had to be split); a piece over the limit is split at the next level. ``overlap`` repeats up
to that many tokens of whole pieces from the end of one chunk at the start of the next.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from .base import Chunk, ChunkerConfig
from .text import Piece, block_spans, count_spans, line_spans, pack, sentence_spans, split_long

Splitter = Callable[[str, int, int], list[tuple[int, int]]]
LEVELS: tuple[Splitter, ...] = (block_spans, line_spans, sentence_spans)
"""The separators tried in order; words and characters (``split_long``) come last."""


class RecursiveChunker(ChunkerConfig):
    """Blocks → lines → sentences → words → characters, merging neighbours up to ``max_tokens``."""

    strategy: Literal["recursive"] = "recursive"

    def chunk(self, text: str, *, source: str | None = None) -> list[Chunk]:
        """Chunks of ``text`` in order; whitespace-only text gives none."""
        if not text or text.isspace():
            return []
        return [self.make(text, p.start, p.end, p.tokens, source=source) for p in self._split(text, 0, len(text), 0)]

    def _split(self, text: str, start: int, end: int, level: int) -> list[Piece]:
        """Trimmed chunks of ``[start, end)`` using separators from ``LEVELS[level]`` down."""
        tok, limit = self.tokenizer, self.max_tokens
        while level < len(LEVELS):
            spans = LEVELS[level](text, start, end)
            if len(spans) > 1:
                break
            level += 1  # this separator does not occur here: no need to count the span
        else:
            return split_long(text, start, end, limit, tok)
        out: list[Piece] = []
        run: list[Piece] = []
        for p in count_spans(text, spans, tok, limit):
            if p.tokens <= limit:
                run.append(p)
                continue
            out += self._pack(text, run)
            run = []
            out += self._split(text, p.start, p.end, level + 1)
        return out + self._pack(text, run)

    def _pack(self, text: str, run: list[Piece]) -> list[Piece]:
        if not run:
            return []
        return [p.piece for p in pack(text, run, self.max_tokens, self.tokenizer, overlap=self.overlap,
                                      overlap_tokens=True)]
