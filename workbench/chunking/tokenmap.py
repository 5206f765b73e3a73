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
from bisect import bisect_right
from itertools import accumulate
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


@functools.cache
def _byte_length_list(encoding: Any) -> list[int]:
    """``_byte_lengths`` as a list (indexing a list from Python is faster than indexing an array)."""
    return _byte_lengths(encoding).tolist()


_SMALL = 2048
"""Up to this many tokens, ``TokenMap`` works on lists (2–3x faster there); above, on numpy arrays."""


def _line_byte_starts(text: str) -> list[int]:
    """The UTF-8 byte offset of each line start, plus the byte length as a sentinel."""
    raw = text.encode("utf-8")
    out, at = [0], raw.find(b"\n")
    while at >= 0:
        out.append(at + 1)
        at = raw.find(b"\n", at + 1)
    out.append(len(raw))
    return out


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

    def __init__(self, tokenizer: Tokenizer, text: str, line_starts: list[int], ids: list[int] | None = None) -> None:
        """``ids``: ``tokenizer.encode(text)`` when the caller has it already."""
        enc = tokenizer._encoding
        self.tokenizer, self.text = tokenizer, text
        self.ascii = text.isascii()
        self.line_starts = line_starts
        if ids is None:
            ids = tokenizer.encode(text)
        starts = line_starts if self.ascii else _line_byte_starts(text)
        if len(ids) <= _SMALL:  # plain lists: numpy's per-call cost outweighs its speed on a short document
            ends = list(accumulate(map(_byte_length_list(enc).__getitem__, ids)))
            self.cum: list[int] = [bisect_right(ends, b) for b in starts]
            """Tokens before each line start (exact where ``aligned``)."""
            self.aligned: list[bool] = [(ends[k - 1] if k else 0) == b for k, b in zip(self.cum, starts, strict=True)]
            self.ends, self.byte_starts = ends, starts  # arrays on demand (``_ends``), for the cuts inside a line
            return
        self.ends: Any = np.cumsum(_byte_lengths(enc)[np.asarray(ids, dtype=np.int64)])
        """The byte offset where each token ends (a list or an array)."""
        self.byte_starts: Any = np.asarray(starts, dtype=np.int64)
        idx = np.searchsorted(self.ends, self.byte_starts, side="right")
        before = np.where(idx > 0, self.ends[np.maximum(idx - 1, 0)], 0)
        self.cum = idx.tolist()
        self.aligned = (before == self.byte_starts).tolist()

    @functools.cached_property
    def _ends(self) -> np.ndarray:
        return np.asarray(self.ends, dtype=np.int64)

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
        ends = self._ends
        offsets = self._char_bytes(line)[np.asarray(positions) - self.line_starts[line]]
        idx = np.searchsorted(ends, offsets, side="right")
        before = np.where(idx > 0, ends[np.maximum(idx - 1, 0)], 0)
        return list(zip(positions, idx.tolist(), (before == offsets).tolist(), strict=True))

    def token_cuts(self, line: int, lo: int, hi: int) -> list[tuple[int, int]]:
        """``(pos, tokens before pos)`` for token ends inside ``line`` that fall on a character start, with
        ``lo < tokens <= hi`` (the last-resort cut points)."""
        chars, all_ends = self._char_bytes(line), self._ends
        first = int(np.searchsorted(all_ends, chars[0], side="right"))
        last = int(np.searchsorted(all_ends, chars[-1], side="left"))
        t0, t1 = max(lo, first), min(hi, last)
        if t1 <= t0:
            return []
        ends = all_ends[t0:t1]
        k = np.searchsorted(chars, ends)
        ok = (k < chars.size) & (chars[np.minimum(k, chars.size - 1)] == ends)
        toks = np.arange(t0 + 1, t1 + 1)
        base = self.line_starts[line]
        return [(base + int(p), int(t)) for p, t in zip(k[ok], toks[ok], strict=True)]
