"""``conversation``: windows of whole turns of a transcript.

Input is either JSONL, one turn per line (``{"speaker": ..., "text": ...}``), or plain text of ``Speaker: text``
lines, where a line without a ``Name:`` prefix continues the previous turn. The format is detected from the
first non-blank line (``{`` means JSONL); a malformed JSONL line is a ``DataError`` naming the line.

Turns are packed whole into windows of at most ``max_tokens``; ``overlap`` previous turns are repeated at the
start of the next window (fewer if they would not leave room; a window always advances). A turn over the limit
alone is split at sentence ends, then words. Chunks are verbatim slices (for JSONL, of whole lines);
``meta["speakers"]`` lists the speakers of a chunk in order of first appearance.
"""
from __future__ import annotations

import json
import re
from typing import Literal, NamedTuple

from ..errors import DataError
from .base import Chunk, ChunkerConfig
from .sentence import SentenceChunker
from .text import Piece, count_spans, pack_or_split

_SPEAKER = re.compile(r"[ \t]*([^\W\d][\w .'’()-]{0,39}?)[ \t]*:(?:[ \t]|$)")


class Turn(NamedTuple):
    """One turn: who spoke, and the span of its line(s) in the source (its trailing newline included)."""

    speaker: str
    start: int
    end: int


def _lines(text: str) -> list[tuple[int, int, int]]:
    """``(number, start, end)`` of each line (end before its newline); numbers from 1."""
    out, pos, number = [], 0, 1
    while pos < len(text):
        nl = text.find("\n", pos)
        end = len(text) if nl < 0 else nl
        out.append((number, pos, end))
        pos, number = end + 1, number + 1
    return out


def is_jsonl(text: str) -> bool:
    """True when the first non-blank line starts with ``{``."""
    return text.lstrip()[:1] == "{"


def parse_jsonl_turns(text: str, source: str | None = None) -> list[Turn]:
    """The turns of a JSONL transcript: one object per non-blank line, with string ``speaker`` and ``text``."""
    turns: list[Turn] = []
    for number, start, end in _lines(text):
        line = text[start:end]
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise DataError(f"not a JSON object ({e.msg})", path=source, line=number) from None
        if not isinstance(obj, dict):
            raise DataError("a turn must be a JSON object with 'speaker' and 'text'", path=source, line=number)
        for name in ("speaker", "text"):
            if not isinstance(obj.get(name), str):
                raise DataError(f"missing or non-string {name!r}", path=source, line=number, field=name)
        turns.append(Turn(obj["speaker"], start, end))
    return turns


def parse_text_turns(text: str) -> list[Turn]:
    """The turns of a ``Speaker: text`` transcript; unprefixed lines continue the previous turn."""
    turns: list[Turn] = []
    for _, start, end in _lines(text):
        m = _SPEAKER.match(text, start, end)
        if m:
            turns.append(Turn(m.group(1).strip(), start, end))
        elif turns:
            turns[-1] = turns[-1]._replace(end=end)
        elif text[start:end].strip():
            turns.append(Turn("", start, end))
    return turns


class ConversationChunker(ChunkerConfig):
    """Windows of whole turns within ``max_tokens``; ``overlap`` = number of previous turns carried over."""

    strategy: Literal["conversation"] = "conversation"

    def turns(self, text: str, source: str | None = None) -> list[Turn]:
        """The turns of ``text`` in either format, each extended to the next turn's start (tiling the text)."""
        found = parse_jsonl_turns(text, source) if is_jsonl(text) else parse_text_turns(text)
        return [t._replace(end=nxt.start if nxt else len(text))
                for t, nxt in zip(found, [*found[1:], None], strict=False)]

    def chunk(self, text: str, *, source: str | None = None) -> list[Chunk]:
        """Turn windows of ``text`` in order; whitespace-only text gives none."""
        if not text or text.isspace():
            return []
        turns = self.turns(text, source)
        pieces = count_spans(text, [(t.start, t.end) for t in turns], self.tokenizer, self.max_tokens)
        splitter = SentenceChunker(max_tokens=self.max_tokens, model=self.model)
        packed = pack_or_split(text, pieces, self.max_tokens, self.tokenizer,
                               lambda p: self._split_turn(text, p, splitter), overlap=self.overlap)
        return [self.make(text, p.piece.start, p.piece.end, p.piece.tokens, source=source,
                          speakers=_speakers(turns[p.first:p.last])) for p in packed]

    @staticmethod
    def _split_turn(text: str, turn: Piece, splitter: SentenceChunker) -> list[Piece]:
        return [p.piece for p in splitter.pack_sentences(text, turn.start, turn.end)]


def _speakers(turns: list[Turn]) -> list[str]:
    return list(dict.fromkeys(t.speaker for t in turns if t.speaker))
