"""``sentence``: pack whole sentences up to ``max_tokens``; ``overlap`` repeats that many previous sentences.

Sentences come from ``text.sentence_spans`` (terminators, blank lines, Markdown block starts). A sentence longer
than the limit is split at word ends (characters as a last resort) and its parts are chunks of their own.
"""
from __future__ import annotations

from typing import Literal

from .base import Chunk, ChunkerConfig
from .text import Packed, count_spans, pack_or_split, sentence_spans, split_long


class SentenceChunker(ChunkerConfig):
    """Whole sentences packed to ``max_tokens``; ``overlap`` = number of sentences carried to the next chunk."""

    strategy: Literal["sentence"] = "sentence"

    def chunk(self, text: str, *, source: str | None = None) -> list[Chunk]:
        """Chunks of ``text`` in order; whitespace-only text gives none."""
        if not text or text.isspace():
            return []
        return [self.make(text, p.piece.start, p.piece.end, p.piece.tokens, source=source)
                for p in self.pack_sentences(text, 0, len(text))]

    def pack_sentences(self, text: str, start: int, end: int) -> list[Packed]:
        """The packed sentences of ``[start, end)`` (``first``/``last`` index its sentences)."""
        tok, limit = self.tokenizer, self.max_tokens
        pieces = count_spans(text, sentence_spans(text, start, end), tok, limit)
        return pack_or_split(text, pieces, limit, tok, lambda p: split_long(text, p.start, p.end, limit, tok),
                             overlap=self.overlap)
