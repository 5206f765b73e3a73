"""Token counts at every cut point of a document, from one encode pass.

The document is encoded once; the byte length of each token gives its end offset, so the number of tokens before
any *aligned* offset (one where a token ends) is a binary search away. Counts of pieces cut at **clean** points add
up exactly to the count of the piece encoded alone, because cl100k/o200k pre-tokenizers never let a pre-token cross
them: the start of a line holding a non-space character (after the previous line's newline) and a space or tab
that follows a non-space character on the same line. Other cuts (inside a word, as a last resort) are recounted.
"""
from __future__ import annotations

import contextlib
import functools
import unicodedata
from typing import Any

import numpy as np

from ..models.tokens import Tokenizer


@functools.cache
def _byte_lengths(encoding: Any) -> np.ndarray:
    """Byte length of every token id of a tiktoken ``Encoding`` (cached per encoding)."""
    ranks: dict[bytes, int] | None = getattr(encoding, "_mergeable_ranks", None)
    lengths = np.zeros(encoding.n_vocab, dtype=np.int64)
    if ranks:
        for token, rank in ranks.items():
            lengths[rank] = len(token)
    else:  # pragma: no cover - tiktoken always has the table today
        for rank in range(encoding.n_vocab):
            with contextlib.suppress(KeyError):  # a rank with no token
                lengths[rank] = len(encoding.decode_single_token_bytes(rank))
    return lengths


def grapheme_safe(text: str, pos: int) -> bool:
    """A cut at ``pos`` splits no grapheme cluster we know of (combining marks, ZWJ sequences, selectors, CRLF)."""
    if pos <= 0 or pos >= len(text):
        return True
    here, before = text[pos], text[pos - 1]
    if before == "\u200d" or here == "\u200d" or (before == "\r" and here == "\n"):
        return False
    cp = ord(here)
    if 0xFE00 <= cp <= 0xFE0F or 0x1F3FB <= cp <= 0x1F3FF or 0xE0020 <= cp <= 0xE007F or 0x1F1E6 <= cp <= 0x1F1FF:
        return False
    return unicodedata.category(here) not in ("Mn", "Me", "Mc")


class TokenMap:
    """Tokens before each line start (and, on demand, before any position inside a line)."""

    def __init__(self, tokenizer: Tokenizer, text: str, line_starts: list[int]) -> None:
        enc = tokenizer._encoding
        self.tokenizer, self.text = tokenizer, text
        self.ascii = text.isascii()
        try:
            ids = enc.encode_to_numpy(text, disallowed_special=())
        except AttributeError:  # pragma: no cover - older tiktoken
            ids = np.asarray(enc.encode(text, disallowed_special=()), dtype=np.int64)
        self.ends = np.cumsum(_byte_lengths(enc)[ids])
        if self.ascii:
            self.byte_starts = np.asarray(line_starts, dtype=np.int64)
        else:
            raw = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
            self.byte_starts = np.concatenate(([0], np.flatnonzero(raw == 10) + 1, [raw.size])).astype(np.int64)
        idx = np.searchsorted(self.ends, self.byte_starts, side="right")
        before = np.where(idx > 0, self.ends[np.maximum(idx - 1, 0)], 0)
        self.cum: list[int] = idx.tolist()
        """Tokens before each line start (exact where ``aligned``)."""
        self.aligned: list[bool] = (before == self.byte_starts).tolist()
        self.line_starts = line_starts

    def _char_bytes(self, line: int) -> np.ndarray:
        """Byte offset of every character of ``line`` (plus its end), absolute."""
        a, b = self.line_starts[line], self.line_starts[line + 1]
        if self.ascii:
            return np.arange(a, b + 1, dtype=np.int64)
        raw = np.frombuffer(self.text[a:b].encode("utf-8"), dtype=np.uint8)
        rel = np.concatenate((np.flatnonzero((raw & 0xC0) != 0x80), [raw.size]))
        return rel + self.byte_starts[line]

    def at(self, line: int, positions: list[int]) -> list[tuple[int, int, bool]]:
        """``(pos, tokens before pos, aligned)`` for character positions inside ``line``."""
        if not positions:
            return []
        offsets = self._char_bytes(line)[np.asarray(positions) - self.line_starts[line]]
        idx = np.searchsorted(self.ends, offsets, side="right")
        before = np.where(idx > 0, self.ends[np.maximum(idx - 1, 0)], 0)
        return list(zip(positions, idx.tolist(), (before == offsets).tolist(), strict=True))

    def token_cuts(self, line: int, lo: int, hi: int) -> list[tuple[int, int]]:
        """``(pos, tokens before pos)`` for token ends inside ``line`` that fall on a character start, with
        ``lo < tokens <= hi`` (the last-resort cut points)."""
        chars = self._char_bytes(line)
        first = int(np.searchsorted(self.ends, chars[0], side="right"))
        last = int(np.searchsorted(self.ends, chars[-1], side="left"))
        t0, t1 = max(lo, first), min(hi, last)
        if t1 <= t0:
            return []
        ends = self.ends[t0:t1]
        k = np.searchsorted(chars, ends)
        ok = (k < chars.size) & (chars[np.minimum(k, chars.size - 1)] == ends)
        toks = np.arange(t0 + 1, t1 + 1)
        base = self.line_starts[line]
        return [(base + int(p), int(t)) for p, t in zip(k[ok], toks[ok], strict=True)]
