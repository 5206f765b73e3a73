"""``structure``: Markdown- and reStructuredText-aware chunking along headings, blocks, lines, sentences, words.

Rules (each chunk is a verbatim slice, at most ``max_tokens``, chunks tile the document in order):

* **Sections.** Every heading starts a section that runs to the next heading of any level; text before the first
  heading is an untitled section. A chunk never starts or ends inside a section's heading.
* **Packing.** Consecutive sections that fit are packed into one chunk, starting at a section and taking the
  following ones *under the same parent* (those at the starting section's level or deeper) while the total fits.
  A pack still tiny (under ``max_tokens / 8``) may also take the next shallower section. A packed chunk thus always
  starts at a section start and ends at a section end; its ``section`` is the **common prefix of the section paths
  it holds** (the shared parent, or the section itself when it holds one section and its subsections).
* **Splitting.** A section over the limit is cut with :class:`~workbench.chunking.spans.SpanSplitter`: block
  boundaries first (code blocks, tables and directives stay whole when they fit), then list items and table rows,
  lines, sentences, words. Its pieces carry the section's path and never absorb the next heading.
* **Whitespace.** A chunk keeps the blank lines that follow it, so chunks meet exactly and cover every character.

Tokens are counted once per document (:class:`~workbench.chunking.tokenmap.TokenMap`) and chunk counts are exact.
A document within the limit whose sections would all pack together (``_one_pack``) is one chunk at once, counted
without the token map: most documents a pipeline is given are that short.
"""
from __future__ import annotations

from typing import Literal, NamedTuple

from pydantic import Field

from .base import Chunk, ChunkerConfig
from .markup import Format, Markup, parse, sniff
from .spans import CODE_LINES, NO_CUT, SpanSplitter
from .text import exact_sums, split_long
from .tokenmap import TokenMap


class Section(NamedTuple):
    """Lines ``[first, end)`` under one heading (``level`` 0 for text before the first heading)."""

    first: int
    end: int
    level: int
    path: tuple[str, ...]


def sections(markup: Markup) -> list[Section]:
    """The document's flat sections, in order, each with its heading path (outermost first)."""
    n = len(markup.starts) - 1
    out: list[Section] = []
    stack: list[tuple[int, str]] = []
    heads = markup.headings
    if not heads or (heads[0].line > 0 and markup.text[:markup.starts[heads[0].line]].strip()):
        out.append(Section(0, heads[0].line if heads else n, 0, ()))
    for i, h in enumerate(heads):
        while stack and stack[-1][0] >= h.level:
            stack.pop()
        stack.append((h.level, h.title))
        first = 0 if not out and i == 0 else h.line
        out.append(Section(first, heads[i + 1].line if i + 1 < len(heads) else n, h.level,
                           tuple(t for _, t in stack)))
    return out


def common_path(paths: list[tuple[str, ...]]) -> tuple[str, ...]:
    """The longest common prefix of section paths."""
    first = paths[0]
    size = len(first)
    for p in paths[1:]:
        size = min(size, len(p))
        for k in range(size):
            if p[k] != first[k]:
                size = k
                break
    return first[:size]


def _one_pack(text: str, markup: Markup, secs: list[Section]) -> bool:
    """Whether a document that fits within the limit packs into one chunk: no section is shallower than the first
    (so packing never stops at one), and every section starts on a line whose first character is neither white space
    nor ``/``, where no cl100k/o200k pre-token crosses (so a token ends there, as packing requires)."""
    level, starts = secs[0].level, markup.starts
    for sec in secs[1:]:
        at = starts[sec.first]
        if sec.level < level or at >= len(text) or text[at].isspace() or text[at] == "/":
            return False
    return True


class StructureChunker(ChunkerConfig):
    """Chunks Markdown or reStructuredText along its structure (see the module docstring for the rules)."""

    strategy: Literal["structure"] = "structure"
    format: Literal["auto", "markdown", "rst"] = Field(
        "auto", description="markup of the input; auto: from the source's suffix, else sniffed from the text")

    def chunk(self, text: str, *, source: str | None = None) -> list[Chunk]:
        """Split ``text`` into verbatim, token-bounded chunks, each with its section path."""
        if not text.strip():
            return []
        fmt: Format = sniff(text, source) if self.format == "auto" else self.format
        markup = parse(text, fmt)
        ids = self.tokenizer.encode(text)
        secs = sections(markup)
        if len(ids) <= self.max_tokens and exact_sums(self.tokenizer) and _one_pack(text, markup, secs):
            return [Chunk(text, 0, len(text), len(ids), common_path([s.path for s in secs]), source)]
        return self._chunks_by_map(text, markup, secs, ids, source)

    def _chunks_by_map(self, text: str, markup: Markup, secs: list[Section], ids: list[int],
                       source: str | None) -> list[Chunk]:
        """The general path: token counts at every line start (``TokenMap``), then packs and splits."""
        tmap = TokenMap(self.tokenizer, text, markup.starts, ids)
        splitter = SpanSplitter(markup, tmap, self.max_tokens, self._mask(markup, tmap))
        out: list[Chunk] = []
        for start, end, tokens, path in self._pack(secs, tmap, splitter):
            out.append(Chunk(text[start:end], start, end, tokens, path, source))
        return out if exact_sums(self.tokenizer) else self._recounted(text, out)

    def _recounted(self, text: str, chunks: list[Chunk]) -> list[Chunk]:
        """For tokenizers whose counts do not add up across line starts (e.g. p50k_base): recount every chunk
        and split the few that end up over the limit."""
        out: list[Chunk] = []
        for c in chunks:
            n = self.tokenizer.count(c.text)
            if n <= self.max_tokens:
                out.append(Chunk(c.text, c.start, c.end, n, c.section, c.source))
                continue
            out += [Chunk(text[p.start:p.end], p.start, p.end, p.tokens, c.section, c.source)
                    for p in split_long(text, c.start, c.end, self.max_tokens, self.tokenizer)]
        return out

    def _mask(self, markup: Markup, tmap: TokenMap) -> bytearray:
        """Per line: ``NO_CUT`` inside atomic blocks that fit, ``CODE_LINES`` inside code blocks that do not."""
        mask = bytearray(len(markup.starts))
        cum = tmap.cum
        for first, end, code in markup.atomic:
            if cum[end] - cum[first] <= self.max_tokens:
                mask[first + 1:end] = bytes([NO_CUT]) * (end - first - 1)
            elif code:
                mask[first + 1:end] = bytes([CODE_LINES]) * (end - first - 1)
        return mask

    def _pack(self, secs: list[Section], tmap: TokenMap, splitter: SpanSplitter):
        """``(start, end, tokens, path)`` for every chunk: packs of whole sections, or pieces of long ones."""
        limit, tiny, cum, starts = self.max_tokens, self.max_tokens // 8, tmap.cum, splitter.m.starts
        clean = tmap.aligned
        i = 0
        while i < len(secs):
            sec = secs[i]
            total = cum[sec.end] - cum[sec.first]
            if total > limit or not (clean[sec.first] and clean[sec.end]):
                for start, end, tokens in splitter.split(sec.first, sec.end):
                    yield start, end, tokens, sec.path
                i += 1
                continue
            j = i + 1
            while j < len(secs) and clean[secs[j].end]:
                more = cum[secs[j].end] - cum[secs[j].first]
                if total + more > limit or (secs[j].level < sec.level and total >= tiny):
                    break
                total += more
                j += 1
            yield starts[sec.first], starts[secs[j - 1].end], total, common_path([s.path for s in secs[i:j]])
            i = j
