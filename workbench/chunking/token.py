"""``token``: fixed windows of ``max_tokens`` tokens, ``overlap`` tokens repeated between neighbours.

The text is encoded once. Token boundaries map to character offsets through per-token tables (how many
characters each token starts, whether it starts on a character boundary); a boundary inside a multi-byte
character is moved back to that character's start, so every chunk is whole characters. Each window is then
re-counted as the slice it is (a slice can tokenise differently from the window) and shrunk if needed.
"""
from __future__ import annotations

import functools
from typing import Literal

import numpy as np

from ..models.tokens import Tokenizer
from .base import Chunk, ChunkerConfig
from .text import trim


@functools.cache
def _token_tables(encoding_name: str, tokenizer: Tokenizer) -> tuple[np.ndarray, np.ndarray]:
    """Per token id: the number of characters it starts (UTF-8 lead bytes) and whether its first byte is one."""
    enc = tokenizer._encoding
    starts = np.zeros(enc.n_vocab + 1, dtype=np.int64)
    leads = np.ones(enc.n_vocab + 1, dtype=bool)
    for t in range(enc.n_vocab):
        try:
            data = enc.decode_single_token_bytes(t)
        except KeyError:  # gaps in the id space
            continue
        starts[t] = sum(1 for b in data if b & 0xC0 != 0x80)
        leads[t] = bool(data) and data[0] & 0xC0 != 0x80
    return starts, leads


class TokenChunker(ChunkerConfig):
    """Windows of ``max_tokens`` tokens moving by ``max_tokens - overlap``; edges on character boundaries."""

    strategy: Literal["token"] = "token"

    def _edges(self, text: str) -> tuple[np.ndarray, int]:
        """Character offset of each token boundary (rounded down to a character start), and the token count."""
        tok = self.tokenizer
        ids = np.asarray(tok.encode(text), dtype=np.int64)
        starts, leads = _token_tables(tok.encoding_name, tok)
        edges = np.zeros(len(ids) + 1, dtype=np.int64)
        np.cumsum(starts[ids], out=edges[1:])
        edges[:-1] -= (~leads[ids]).astype(np.int64)  # a boundary inside a character: back to that character's start
        edges[-1] = len(text)
        return edges, len(ids)

    def chunk(self, text: str, *, source: str | None = None) -> list[Chunk]:
        """Token windows of ``text``, trimmed of outer whitespace; blank windows are dropped."""
        if not text or text.isspace():
            return []
        edges, n = self._edges(text)
        out: list[Chunk] = []
        i = 0
        while i < n:
            j, piece = self._window(text, edges, i, n)
            if piece is not None:
                out.append(self.make(text, *piece, source=source))
            if j >= n:
                break
            i = self._next_start(edges, i, j)
        return out

    def _window(self, text: str, edges: np.ndarray, i: int, n: int) -> tuple[int, tuple[int, int, int] | None]:
        """The window from token ``i``: its end token and its trimmed span with the slice's own count."""
        count, limit = self.tokenizer.count, self.max_tokens
        j, start = min(i + limit, n), int(edges[i])
        while True:
            end = int(edges[j])
            while end <= start and j < n:  # never an empty window
                j += 1
                end = int(edges[j])
            a, b = trim(text, start, end)
            if b <= a:
                return j, None
            m = count(text[a:b])
            if m <= limit or j <= i + 1:
                return j, (a, b, m)
            j -= min(m - limit, j - i - 1)

    def _next_start(self, edges: np.ndarray, i: int, j: int) -> int:
        """``j - overlap``, but past the previous window's first character."""
        k = max(j - self.overlap, i + 1)
        while k < j and edges[k] <= edges[i]:
            k += 1
        return k
