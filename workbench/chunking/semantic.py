"""``semantic``: cut where the topic shifts, measured by embeddings of neighbouring sentence windows.

Each sentence is embedded once (default: the offline ``HashingEmbedder``). Between sentences ``i`` and ``i+1``
we compare the mean vector of the ``window`` sentences ending at ``i`` with that of the ``window`` sentences
starting at ``i+1``; a cosine distance above the ``breakpoint_percentile``-th percentile of all distances is a
breakpoint. Segments under ``min_tokens`` merge into a neighbour; segments over ``max_tokens`` are split by
sentence packing (``overlap`` tokens of whole sentences repeat within a segment).
"""
from __future__ import annotations

import itertools
from typing import Any, Literal

import numpy as np
from pydantic import Field

from ..models.embedders import HashingEmbedder, embedder_from_config
from .base import Chunk, ChunkerConfig
from .text import Piece, count_spans, is_blank, pack, sentence_spans, split_long


class SemanticChunker(ChunkerConfig):
    """Sentence groups split at embedding-distance peaks, sized between ``min_tokens`` and ``max_tokens``."""

    strategy: Literal["semantic"] = "semantic"
    embedder: dict[str, Any] = Field(default_factory=lambda: HashingEmbedder().model_dump(),
                                     description="config dump of the Embedder (see embedder_from_config)")
    breakpoint_percentile: float = Field(90.0, ge=0, le=100, description="distance percentile that cuts")
    window: int = Field(1, ge=1, description="sentences on each side compared at a candidate cut")
    min_tokens: int = Field(64, ge=0, description="smaller segments merge (capped at max_tokens // 2)")

    def chunk(self, text: str, *, source: str | None = None) -> list[Chunk]:
        """Chunks of ``text`` in order; whitespace-only text gives none."""
        if not text or text.isspace():
            return []
        tok, limit = self.tokenizer, self.max_tokens
        sentences: list[Piece] = []
        for p in count_spans(text, sentence_spans(text, 0, len(text)), tok, limit):
            if p.tokens > limit:  # split before embedding, so no embedded text is unbounded
                sentences += split_long(text, p.start, p.end, limit, tok)
            elif not is_blank(text, p.start, p.end):
                sentences.append(p)
        out: list[Chunk] = []
        for a, b in self._segments(text, sentences):
            packed = pack(text, sentences[a:b], limit, tok, overlap=self.overlap, overlap_tokens=True)
            out += [self.make(text, p.piece.start, p.piece.end, p.piece.tokens, source=source) for p in packed]
        return out

    def distances(self, texts: list[str]) -> np.ndarray:
        """Cosine distance across each gap between consecutive texts (length ``len(texts) - 1``)."""
        if len(texts) < 2:
            return np.zeros(0)
        vectors = embedder_from_config(self.embedder).embed(texts).astype(np.float64)
        sums = np.vstack([np.zeros((1, vectors.shape[1])), np.cumsum(vectors, axis=0)])
        n, w = len(texts), self.window
        gaps = np.arange(1, n)
        left = sums[gaps] - sums[np.maximum(gaps - w, 0)]
        right = sums[np.minimum(gaps + w, n)] - sums[gaps]
        norms = np.linalg.norm(left, axis=1) * np.linalg.norm(right, axis=1)
        cos = np.einsum("ij,ij->i", left, right) / np.where(norms == 0, 1, norms)
        return 1.0 - cos

    def _segments(self, text: str, sentences: list[Piece]) -> list[tuple[int, int]]:
        """Index ranges of the sentences between breakpoints, small ones merged into a neighbour."""
        d = self.distances([text[p.start:p.end] for p in sentences])
        cuts = []
        if len(d):
            threshold = np.percentile(d, self.breakpoint_percentile)
            cuts = [int(g) + 1 for g in np.nonzero(d > threshold)[0]]
        edges = [0, *cuts, len(sentences)]
        segments = [(a, b) for a, b in itertools.pairwise(edges) if b > a]
        return self._merge_small(sentences, segments)

    def _merge_small(self, sentences: list[Piece], segments: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """Merge each segment under the minimum into the next one (the last into the one before)."""
        floor = min(self.min_tokens, self.max_tokens // 2)
        merged: list[tuple[int, int]] = []
        size = 0
        for a, b in segments:
            if merged and size < floor:
                merged[-1] = (merged[-1][0], b)
                size += sum(p.tokens for p in sentences[a:b])
            else:
                merged.append((a, b))
                size = sum(p.tokens for p in sentences[a:b])
        if len(merged) > 1 and size < floor:
            last = merged.pop()
            merged[-1] = (merged[-1][0], last[1])
        return merged
