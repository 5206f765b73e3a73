"""Shared text helpers for the chunkers: boundaries, spans, token counting and packing.

Everything works on *spans* ``(start, end)`` of one source string (offsets in code points), so chunks stay
verbatim slices. The pieces a strategy packs usually *tile* their region (each piece runs up to where the next
begins, whitespace included); ``pack`` then trims each chunk's outer whitespace.

Token counts: BPE counts are additive where the pre-tokenizer cannot merge across a boundary. For the
``cl100k_base`` / ``o200k_base`` patterns that is true (``stable_boundary``) right after a newline when the next
line begins with text, and right before a single space between two non-space characters. Packing adds counts
across such joins and re-counts a chunk only when one of its joins is not stable, so the text is encoded about
once per level instead of once per candidate chunk. ``split_long`` cuts a span of any length in linear time.
"""
from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable
from typing import NamedTuple

from ..models.tokens import Tokenizer

_NONWS = re.compile(r"\S")
_BLANK_RUN = re.compile(r"\n(?:[^\S\n]*\n)+")  # a line break followed by whitespace-only lines
_LAST_WS = re.compile(r"(?s).*\S\s")  # greedy: ends just after the last whitespace that follows a non-space
_TERMINATOR = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)|[。！？]+[\"'”’)\]」』]*")
_ABBREVIATION = re.compile(r"(?:\b(?:e\.g|i\.e|etc|vs|cf|approx|Mr|Mrs|Ms|Dr|Prof|St|No|Fig|Inc|Ltd|[A-Z])\.)$")
_BLOCK_START = re.compile(r"[ \t]*(?:#{1,6}\s|[-*+>|]\s|\d{1,3}[.)]\s|```|~~~|\.\. )")
_EXACT_SUM_ENCODINGS = frozenset({"cl100k_base", "o200k_base", "o200k_harmony"})


class Piece(NamedTuple):
    """A span of the source and its token count (of ``text[start:end]`` exactly)."""

    start: int
    end: int
    tokens: int


class Packed(NamedTuple):
    """A packed chunk: its trimmed span and count, and the indices ``[first, last)`` of the pieces it holds."""

    piece: Piece
    first: int
    last: int


# ---- whitespace and boundaries -------------------------------------------------------------------------------

def is_blank(text: str, start: int = 0, end: int | None = None) -> bool:
    """True when ``text[start:end]`` holds no non-whitespace character."""
    return _NONWS.search(text, start, len(text) if end is None else end) is None


def trim(text: str, start: int, end: int) -> tuple[int, int]:
    """The span without its leading and trailing whitespace (``(start, start)`` when it is all whitespace)."""
    m = _NONWS.search(text, start, end)
    if m is None:
        return start, start
    a = m.start()
    b = end
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b


def stable_boundary(text: str, pos: int) -> bool:
    """True when the tokens of ``text[:pos]`` and ``text[pos:]`` add up to those of the whole text (cl100k/o200k).

    Stable: after a newline when the next line starts (after spaces or tabs) with a non-space that is not ``/``;
    before a single space that sits between two non-spaces. Ends of the text are always stable.
    """
    n = len(text)
    if pos <= 0 or pos >= n:
        return True
    if text[pos - 1] == "\n":
        q = pos
        while q < n and text[q] in " \t":
            q += 1
        return q == n or (not text[q].isspace() and text[q] != "/")
    return text[pos] == " " and not text[pos - 1].isspace() and pos + 1 < n and not text[pos + 1].isspace()


def exact_sums(tokenizer: Tokenizer) -> bool:
    """Whether ``stable_boundary`` holds for this tokenizer's pre-tokenizer (otherwise packing re-counts)."""
    return tokenizer.encoding_name in _EXACT_SUM_ENCODINGS


def spans_from_cuts(start: int, end: int, cuts: Iterable[int]) -> list[tuple[int, int]]:
    """Tile ``[start, end)`` at the given cut positions (sorted or not; out-of-range and repeated cuts ignored)."""
    edges = [start, *sorted({c for c in cuts if start < c < end}), end]
    return [(a, b) for a, b in itertools.pairwise(edges) if b > a]


def _after_newlines(text: str, pos: int, end: int) -> int:
    """Just after the last newline of the whitespace run starting at ``pos`` (``pos`` itself if it has none)."""
    m = _NONWS.search(text, pos, end)
    stop = m.start() if m else end
    nl = text.rfind("\n", pos, stop)
    return nl + 1 if nl >= 0 else pos


# ---- splitters: each returns spans tiling [start, end) -------------------------------------------------------

def block_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Paragraph-like blocks: cut after each run of blank lines (the separator stays with the block before)."""
    return spans_from_cuts(start, end, (m.end() for m in _BLANK_RUN.finditer(text, start, end)))


def line_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Lines: cut after each ``\\n`` (so ``\\r\\n`` stays whole)."""
    cuts, pos = [], text.find("\n", start, end)
    while pos >= 0:
        cuts.append(pos + 1)
        pos = text.find("\n", pos + 1, end)
    return spans_from_cuts(start, end, cuts)


def sentence_cuts(text: str, start: int, end: int) -> list[int]:
    """Sentence boundaries in ``[start, end)``: after ``. ! ? …`` (and closing quotes/brackets) followed by
    whitespace and not by a lowercase letter, except after common abbreviations; after ``。！？``; at blank lines;
    and before lines that start a Markdown/RST block (heading, list item, quote, table row, fence).

    A cut falls before the single space after a sentence (a stable token boundary), or after the newline when
    the sentence ends a line.
    """
    cuts: list[int] = []
    for m in _TERMINATOR.finditer(text, start, end):
        pos = m.end()
        nxt = _NONWS.search(text, pos, end)
        if nxt is None:
            break
        if nxt.group().islower() or _ABBREVIATION.search(text, max(start, m.start() - 8), m.start() + 1):
            continue
        cuts.append(_after_newlines(text, pos, end))
    for m in _BLANK_RUN.finditer(text, start, end):
        cuts.append(m.end())
    pos = text.find("\n", start, end)
    while pos >= 0:
        if _BLOCK_START.match(text, pos + 1, end):
            cuts.append(pos + 1)
        pos = text.find("\n", pos + 1, end)
    return sorted(set(cuts))


def sentence_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentences tiling ``[start, end)`` (see ``sentence_cuts``)."""
    return spans_from_cuts(start, end, sentence_cuts(text, start, end))


# ---- counting ----------------------------------------------------------------------------------------------

LONG_SPAN_CHARS_PER_TOKEN = 64
"""With a ``limit``, ``count_spans`` does not encode spans longer than this many characters per allowed token."""


def count_spans(text: str, spans: Iterable[tuple[int, int]], tokenizer: Tokenizer,
                limit: int | None = None) -> list[Piece]:
    """Each span with its token count. With ``limit``, a span of more than ``LONG_SPAN_CHARS_PER_TOKEN * limit``
    characters is not encoded (it is bound to be split) and gets the count ``limit + 1``."""
    count = tokenizer.count
    long = LONG_SPAN_CHARS_PER_TOKEN * limit if limit is not None else None
    return [Piece(a, b, limit + 1 if long is not None and b - a > long else count(text[a:b]))  # type: ignore[operator]
            for a, b in spans]


def prefix_chars(tokenizer: Tokenizer, segment: str, ids: list[int], k: int) -> int:
    """Code points of ``segment`` covered by its first ``k`` tokens ``ids[:k]``, rounded down to whole characters."""
    if k >= len(ids):
        return len(segment)
    data = tokenizer._encoding.decode_bytes(ids[:k])  # tiktoken bytes: the token ids map to a byte prefix
    return len(data.decode("utf-8", errors="ignore"))


def _word_cut(text: str, start: int, cut: int) -> int:
    """The last position in ``(start, cut]`` just before a whitespace that follows a non-space, if it is not
    too early (in the first quarter); else ``cut`` (a cut between characters)."""
    m = _LAST_WS.match(text, start, min(cut + 1, len(text)))
    if m is None:
        return cut
    q = m.end() - 1
    return q if q > start and (q - start) * 4 >= cut - start else cut


def _fit(text: str, start: int, cut: int, limit: int, tokenizer: Tokenizer) -> Piece:
    """Shrink ``[start, cut)`` (at word ends when possible) until its trimmed count is within ``limit``."""
    while True:
        a, b = trim(text, start, cut)
        ids = tokenizer.encode(text[a:b])
        if len(ids) <= limit:
            return Piece(a, b, len(ids))
        shorter = a + max(1, prefix_chars(tokenizer, text[a:b], ids, limit))
        cut = max(a + 1, min(_word_cut(text, a, shorter), b - 1))


def split_long(text: str, start: int, end: int, limit: int, tokenizer: Tokenizer) -> list[Piece]:
    """Cut ``[start, end)`` into trimmed pieces of at most ``limit`` tokens, at word ends when a word end is
    near, else between characters. Linear: each step encodes a bounded window, never the whole span."""
    out: list[Piece] = []
    window = max(64, 6 * limit)
    m = _NONWS.search(text, start, end)
    while m is not None:
        pos = m.start()
        stop = min(end, pos + window)
        segment = text[pos:stop]
        ids = tokenizer.encode(segment)
        if len(ids) <= limit and stop < end:
            window *= 2
            continue
        if len(ids) <= limit:
            cut = stop
        else:
            cut = _word_cut(text, pos, pos + max(1, prefix_chars(tokenizer, segment, ids, limit)))
        piece = _fit(text, pos, cut, limit, tokenizer)
        out.append(piece)
        window = max(64, (piece.end - pos) * 3 // 2)  # the next window: a little more than this piece needed
        m = _NONWS.search(text, piece.end, end)
    return out


# ---- packing ------------------------------------------------------------------------------------------------

def _settle(text: str, pieces: list[Piece], i: int, j: int, limit: int, tokenizer: Tokenizer) -> Piece | None:
    """The trimmed chunk of ``pieces[i:j]`` with its exact count; ``None`` if that count exceeds ``limit``
    (possible only across joins whose counts do not add). A blank group gives an empty piece."""
    a, b = trim(text, pieces[i].start, pieces[j - 1].end)
    if b <= a:
        return Piece(a, a, 0)
    exact = exact_sums(tokenizer) and all(
        pieces[k - 1].end == pieces[k].start and stable_boundary(text, pieces[k].start) for k in range(i + 1, j))
    if not exact:
        n = tokenizer.count(text[a:b])
    else:
        ia = next(k for k in range(i, j) if pieces[k].end > a)
        ib = next(k for k in range(j - 1, i - 1, -1) if pieces[k].start < b)
        if ia == ib:
            p = pieces[ia]
            n = p.tokens if (a, b) == (p.start, p.end) else tokenizer.count(text[a:b])
        else:
            n = sum(p.tokens for p in pieces[ia + 1:ib])
            n += _count_part(text, pieces[ia], a, pieces[ia].end, tokenizer)
            n += _count_part(text, pieces[ib], pieces[ib].start, b, tokenizer)
    if n <= limit:
        return Piece(a, b, n)
    if j - i == 1 and pieces[i].tokens <= limit:  # trimming added tokens: keep the whole piece
        return pieces[i]
    return None


def _count_part(text: str, piece: Piece, a: int, b: int, tokenizer: Tokenizer) -> int:
    return piece.tokens if (a, b) == (piece.start, piece.end) else tokenizer.count(text[a:b])


def _carry(pieces: list[Piece], i: int, j: int, limit: int, overlap: int, by_tokens: bool) -> int:
    """How many of ``pieces[i:j]`` to repeat at the start of the next chunk: at most ``overlap`` pieces (or
    pieces worth ``overlap`` tokens), fewer than ``j - i``, leaving room for the next piece."""
    room = limit - (pieces[j].tokens if j < len(pieces) else 0)
    k, used = 0, 0
    while k < j - i - 1 and (by_tokens or k < overlap):
        t = pieces[j - 1 - k].tokens
        if used + t > room or (by_tokens and used + t > overlap):
            break
        k, used = k + 1, used + t
    return k


def pack(text: str, pieces: list[Piece], limit: int, tokenizer: Tokenizer, *, overlap: int = 0,
         overlap_tokens: bool = False) -> list[Packed]:
    """Greedily group consecutive pieces (each within ``limit``) into trimmed chunks of at most ``limit`` tokens.

    ``overlap`` repeats the last pieces of a chunk at the start of the next: that many pieces, or pieces worth up
    to that many tokens with ``overlap_tokens``. Every chunk advances past the previous one; blank groups are
    dropped.
    """
    out: list[Packed] = []
    i, n = 0, len(pieces)
    while i < n:
        j, total = i + 1, pieces[i].tokens
        while j < n and total + pieces[j].tokens <= limit:
            total += pieces[j].tokens
            j += 1
        chunk = _settle(text, pieces, i, j, limit, tokenizer)
        while chunk is None:
            j -= 1
            chunk = _settle(text, pieces, i, j, limit, tokenizer)
        if chunk.end > chunk.start:
            out.append(Packed(chunk, i, j))
        i = j - (_carry(pieces, i, j, limit, overlap, overlap_tokens) if overlap and j < n else 0)
    return out


def pack_or_split(text: str, pieces: list[Piece], limit: int, tokenizer: Tokenizer,
                  split: Callable[[Piece], list[Piece]], **kw: object) -> list[Packed]:
    """``pack`` runs of pieces that fit; pieces over ``limit`` are replaced by ``split(piece)`` (each result its
    own chunk, ``first``/``last`` pointing at the piece it came from)."""
    out: list[Packed] = []
    run: list[int] = []

    def flush() -> None:
        if run:
            sub = [pieces[k] for k in run]
            out.extend(Packed(p.piece, run[p.first], run[p.last - 1] + 1)
                       for p in pack(text, sub, limit, tokenizer, **kw))  # type: ignore[arg-type]
            run.clear()

    for k, p in enumerate(pieces):
        if p.tokens <= limit:
            run.append(k)
            continue
        flush()
        out.extend(Packed(q, k, k + 1) for q in split(p))
    flush()
    return out
