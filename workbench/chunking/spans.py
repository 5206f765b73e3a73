"""Cutting one over-long section into pieces of at most ``limit`` tokens at the best boundaries available.

Cut points, best first: a block boundary (a line after a blank line, or one that starts a list item, table row,
fence, directive…); a line after a line ending a sentence, or a line inside an over-long code block; a sentence
end inside a line; any other line start; a space between words; last, a token boundary that splits no character
or grapheme cluster. Among the best kind, the farthest that fits wins, but a piece should hold at least a quarter
of the limit when a cut of any good kind allows it; a tiny last piece is rebalanced with the one before.
"""
from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from .markup import BLANK, BLOCK_STARTS, UNDER, Markup
from .tokenmap import TokenMap, grapheme_safe

_SENTENCE = re.compile(r"""[.!?:;]["'”’»)\]}]*(?=[ \t])""")
_WORD = re.compile(r"(?<=\S)[ \t]")
_CLOSERS = "\"'”’»)]}"
NO_CUT, CODE_LINES = 1, 2
"""Line mask values: inside an atomic block that fits / inside an over-long code block."""


def ends_sentence(line: str) -> bool:
    """The line's last non-blank character (before closing quotes or brackets) ends a sentence."""
    s = line.rstrip().rstrip(_CLOSERS)
    return bool(s) and s[-1] in ".!?:;"


@dataclass(frozen=True, slots=True)
class Cut:
    """A cut point: character offset, tokens before it, and whether counts add up exactly across it."""

    pos: int
    tok: int
    clean: bool


class SpanSplitter:
    """Splits line ranges of one parsed document; ``mask`` marks lines that must not (or may) be cut."""

    def __init__(self, markup: Markup, tmap: TokenMap, limit: int, mask: bytearray) -> None:
        self.m, self.t, self.limit, self.mask = markup, tmap, limit, mask

    def split(self, a: int, b: int) -> list[tuple[int, int, int]]:
        """``(start, end, tokens)`` pieces tiling lines ``[a, b)``."""
        starts, cum, al = self.m.starts, self.t.cum, self.t.aligned
        self.cands = self._candidates(a, b)
        s, end = Cut(starts[a], cum[a], al[a]), Cut(starts[b], cum[b], al[b])
        pieces: list[tuple[Cut, Cut]] = []
        while not self._fits(s, end):
            cut = self._choose(s)
            pieces.append((s, cut))
            s = cut
        pieces.append((s, end))
        return self._balance([(x.pos, y.pos, self._tokens(x, y)) for x, y in pieces], pieces)

    def _tokens(self, s: Cut, e: Cut) -> int:
        if s.clean and e.clean:
            return e.tok - s.tok
        return self.t.tokenizer.count(self.m.text[s.pos:e.pos])

    def _fits(self, s: Cut, e: Cut) -> bool:
        if s.clean and e.clean:
            return e.tok - s.tok <= self.limit
        return e.tok - s.tok <= 2 * self.limit and self._tokens(s, e) <= self.limit

    def _candidates(self, a: int, b: int) -> tuple[list[int], list[int], list[int]]:
        """Line-start cut points inside ``(a, b)``: positions, tokens before, tier (0 best … 3)."""
        m, mask, al, cum, text, starts = self.m, self.mask, self.t.aligned, self.t.cum, self.m.text, self.m.starts
        kinds = m.kinds
        pos, tok, tier = [], [], []
        for k in range(a + 1, b):
            kind = kinds[k]
            if kind in (BLANK, UNDER) or mask[k] == NO_CUT or not al[k]:
                continue
            if kind in BLOCK_STARTS or kinds[k - 1] == BLANK:
                t = 0
            elif mask[k] == CODE_LINES or mask[k - 1] == NO_CUT or ends_sentence(text[starts[k - 1]:starts[k]]):
                t = 1
            else:
                t = 3
            pos.append(starts[k])
            tok.append(cum[k])
            tier.append(t)
        return pos, tok, tier

    def _choose(self, s: Cut) -> Cut:
        """The best cut after ``s`` that keeps the piece within the limit."""
        hi = s.tok + self.limit
        while True:
            cut = self._pick(s, hi)
            if s.clean and cut.clean:
                return cut
            over = self.t.tokenizer.count(self.m.text[s.pos:cut.pos]) - self.limit
            if over <= 0:
                return cut
            hi = min(hi - over, cut.tok - 1)

    def _pick(self, s: Cut, hi: int) -> Cut:
        pos, tok, _tier = self.cands
        lo = s.tok + self.limit // 4
        j_min = bisect_right(pos, s.pos)
        j_hi = bisect_right(tok, hi, lo=j_min) - 1
        j_lo = bisect_left(tok, lo, lo=j_min)
        return (self._best(j_lo, j_hi, 1) or self._inline(s, lo, hi, _SENTENCE, True)
                or self._best(j_lo, j_hi, 3) or self._best(j_min, j_hi, 3)
                or self._inline(s, s.tok, hi, _SENTENCE, True) or self._inline(s, s.tok, hi, _WORD, False)
                or self._forced(s, hi))

    def _best(self, j0: int, j1: int, max_tier: int) -> Cut | None:
        """Farthest line candidate in ``[j0, j1]`` of tier ``<= max_tier``."""
        pos, tok, tier = self.cands
        for j in range(j1, j0 - 1, -1):
            if tier[j] <= max_tier:
                return Cut(pos[j], tok[j], True)
        return None

    def _lines(self, s: Cut, hi: int) -> range:
        """Lines that a piece starting at ``s`` and ending by token ``hi`` can end in."""
        first = bisect_right(self.m.starts, s.pos) - 1
        last = max(first, min(bisect_right(self.t.cum, hi) - 1, len(self.m.starts) - 2))
        return range(first, last + 1)

    def _inline(self, s: Cut, lo: int, hi: int, pattern: re.Pattern[str], at_end: bool) -> Cut | None:
        """Farthest sentence end (``at_end``: cut after the match) or word gap inside a line, in ``(lo, hi]``."""
        starts, best = self.m.starts, None
        byte_hi = int(self.t.ends[min(hi, len(self.t.ends)) - 1]) if hi > 0 and len(self.t.ends) else 0
        for line in self._lines(s, hi):
            a = max(starts[line], s.pos + 1)
            b = min(starts[line + 1], starts[line] + byte_hi - int(self.t.byte_starts[line]) + 1)
            found = [mt.end() if at_end else mt.start() for mt in pattern.finditer(self.m.text, a, max(a, b))]
            for p, t, ok in self.t.at(line, [p for p in found if s.pos < p < starts[line + 1]]):
                if ok and lo < t <= hi:
                    best = Cut(p, t, True)
        return best

    def _forced(self, s: Cut, hi: int) -> Cut:
        """Last resort: the farthest token boundary that splits no grapheme cluster (any character if none)."""
        text, cuts = self.m.text, []
        for line in self._lines(s, hi):
            cuts += [c for c in self.t.token_cuts(line, s.tok, hi) if c[0] > s.pos]
        safe = [c for c in cuts if grapheme_safe(text, c[0])] or cuts
        if safe:
            return Cut(safe[-1][0], safe[-1][1], False)
        nxt = s.pos + 1  # a single token wider than the window: take the next character
        while nxt < len(text) and not grapheme_safe(text, nxt):
            nxt += 1
        return Cut(nxt, s.tok + 1, False)

    def _balance(self, out: list[tuple[int, int, int]], pieces: list[tuple[Cut, Cut]]) -> list[tuple[int, int, int]]:
        """Re-cut the last two pieces near their middle when the last one is tiny and a good cut allows it."""
        if len(out) < 2 or out[-1][2] >= self.limit // 8 or not (pieces[-2][0].clean and pieces[-1][1].clean):
            return out
        (s, _), (_, e) = pieces[-2], pieces[-1]
        pos, tok, tier = self.cands
        floor, mid, best = self.limit // 8, (s.tok + e.tok) / 2, None
        for j in range(bisect_right(pos, s.pos), bisect_left(pos, e.pos)):
            t = tok[j]
            if t - s.tok <= self.limit and e.tok - t <= self.limit and min(t - s.tok, e.tok - t) >= floor:
                key = (tier[j], abs(t - mid))
                if best is None or key < best[0]:
                    best = (key, pos[j], t)
        if best is None:
            return out
        return out[:-2] + [(s.pos, best[1], best[2] - s.tok), (best[1], e.pos, e.tok - best[2])]
