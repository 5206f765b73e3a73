"""One line classifier for Markdown and reStructuredText, shared by the structure chunker and the quality metric.

``parse(text, fmt)`` splits ``text`` at ``"\\n"`` only (offsets stay on the raw text; a CRLF line keeps its
``"\\r"``) and gives every line a kind, the headings with their levels and titles, and the *atomic* line ranges
(fenced, indented and literal code, directives with their bodies, pipe/grid/simple tables) that a chunker keeps
whole when they fit. Headings: Markdown ATX ``#``..``######`` and setext ``===``/``---``; reST over- and underlined
titles, levels learnt from the adornment styles in order of appearance. An unterminated fence runs to the end.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import accumulate
from typing import Literal, NamedTuple

Format = Literal["markdown", "rst"]
BLANK, TEXT, HEADING, UNDER, LIST, TABLE, FENCE, CODE, HTML, LINKDEF, DIRECTIVE, FIELD = range(12)
BLOCK_STARTS = frozenset({HEADING, LIST, TABLE, FENCE, HTML, LINKDEF, DIRECTIVE, FIELD})
"""Kinds whose line starts a block (the quality metric's "start of another block")."""

_ATX = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*\r?$")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})(.*)$")
_LIST = re.compile(r"[ \t]*(?:[-*+]|\d{1,9}[.)]|#[.)]|\(\d{1,9}\))(?:[ \t]|\r?$)")
_SETEXT = re.compile(r" {0,3}(=+|-+)[ \t]*\r?$")
_DELIM = re.compile(r"[ \t]*\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)+\|?[ \t]*\r?$")
_HTML = re.compile(r" {0,3}<[A-Za-z/!?]")
_LINKDEF = re.compile(r" {0,3}\[[^\]]+\]:")
_ADORN = re.compile(r"([!-/:-@\[-`{-~])\1{2,}[ \t]*\r?$")
_DIRECTIVE = re.compile(r"[ \t]*\.\.(?:[ \t]|\r?$)")
_CODE_DIRECTIVE = re.compile(r"[ \t]*\.\.[ \t]+(?:code-block|code|sourcecode|highlight|literalinclude|doctest)::")
_FIELD = re.compile(r"[ \t]*:[^:\s][^:]*:(?:[ \t]|\r?$)")
_GRID = re.compile(r"[ \t]*\+[-=+]{3,}\+?[ \t]*\r?$")
_GRID_ROW = re.compile(r"[ \t]*[+|]")
_LIST_CHARS = frozenset("-*+#(0123456789")
_SIMPLE = re.compile(r"[ \t]*=+(?:[ \t]+=+)+[ \t]*\r?$")
_SNIFF_MD = re.compile(r"^(?:#{1,6}[ \t]|```)", re.MULTILINE)
_SNIFF_RST = re.compile(r"^(?:\.\.[ \t]+[\w:-]+::|\.\.[ \t]+_|([=\-~^])\1{3,}[ \t]*\r?$)", re.MULTILINE)
_MD_SPECIAL = frozenset("#`~-*+=|<[ \t\r0123456789:")
_ADORN_CHARS = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_RST_SPECIAL = _ADORN_CHARS | frozenset(" \t\r0123456789")


class Heading(NamedTuple):
    """A heading block (a named tuple: a document may have thousands, each made in a third of the time of a frozen
    dataclass)."""

    line: int
    """Index of its first line (the overline of an overlined reST title, the text line of a setext one)."""
    level: int
    """1 = outermost."""
    title: str
    """The heading text, stripped of markup."""


@dataclass(frozen=True, slots=True)
class Markup:
    """A parsed document: lines, their kinds, headings and the ranges to keep whole."""

    text: str
    format: Format
    starts: list[int]
    """Offset of each line start, plus ``len(text)`` as a sentinel (so ``len(starts) == lines + 1``)."""
    kinds: bytearray
    """Kind of each line (``BLANK``, ``TEXT``, ``HEADING``…)."""
    headings: list[Heading]
    atomic: list[tuple[int, int, bool]]
    """``(first_line, end_line, is_code)`` ranges never cut inside unless one alone exceeds the limit."""


def sniff(text: str, source: str | None = None) -> Format:
    """``markdown`` or ``rst``: from the source's suffix when it names one, else from the markup seen."""
    suffix = (source or "").lower().rsplit(".", 1)[-1] if source and "." in source else ""
    if suffix in ("md", "markdown", "mdown", "mkd"):
        return "markdown"
    if suffix in ("rst", "rest"):
        return "rst"
    return "rst" if len(_SNIFF_RST.findall(text[:200_000])) > len(_SNIFF_MD.findall(text[:200_000])) else "markdown"


def parse(text: str, fmt: Format) -> Markup:
    """Classify every line of ``text`` as ``fmt``."""
    lines = text.split("\n")
    starts = [0, *accumulate(map(len, lines))]
    starts = [c + k for k, c in enumerate(starts)]
    starts[-1] = len(text)
    if lines[0][:1] == "\ufeff":  # a byte-order mark: offsets keep it, classification ignores it
        lines[0] = lines[0][1:]
    kinds = bytearray([TEXT]) * len(lines)
    parser = _MarkdownParser(lines, kinds) if fmt == "markdown" else _RstParser(lines, kinds)
    parser.run()
    return Markup(text, fmt, starts, kinds, parser.headings, parser.atomic)


def _is_blank(line: str) -> bool:
    return not line or line.isspace()


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


class _Parser:
    """Shared state: lines, kinds, headings, atomic ranges; subclasses walk the lines once."""

    def __init__(self, lines: list[str], kinds: bytearray) -> None:
        self.lines, self.kinds = lines, kinds
        self.headings: list[Heading] = []
        self.atomic: list[tuple[int, int, bool]] = []

    def mark(self, first: int, end: int, kind: int, first_kind: int | None = None, code: bool = True) -> int:
        """Mark lines ``[first, end)`` as one atomic block; returns ``end``."""
        end = self.trim(first, end)
        self.kinds[first:end] = bytes([kind]) * (end - first)
        for k in range(first + 1, end):
            if _is_blank(self.lines[k]):
                self.kinds[k] = BLANK
        if first_kind is not None and end > first:
            self.kinds[first] = first_kind
        if end > first:
            self.atomic.append((first, end, code))
        return end

    def trim(self, first: int, end: int) -> int:
        """``end`` moved back over trailing blank lines (never before ``first + 1``)."""
        while end > first + 1 and _is_blank(self.lines[end - 1]):
            end -= 1
        return end

    def indented_end(self, i: int, base: int) -> int:
        """End of the block of lines after ``i`` that are blank or indented more than ``base``."""
        lines, n = self.lines, len(self.lines)
        j = i + 1
        while j < n and (_is_blank(lines[j]) or _indent(lines[j]) > base):
            j += 1
        return self.trim(i + 1, j) if j > i + 1 else j

    def table_rows(self, i: int, pattern: re.Pattern[str] | None = None) -> int:
        """End of the run of table lines starting at ``i`` (lines containing ``|``, or matching ``pattern``)."""
        lines, n = self.lines, len(self.lines)
        j = i + 1
        while j < n and not _is_blank(lines[j]) and (pattern.match(lines[j]) if pattern else "|" in lines[j]):
            j += 1
        return j


class _MarkdownParser(_Parser):
    def run(self) -> None:
        lines, kinds, n = self.lines, self.kinds, len(self.lines)
        i, in_list = 0, False
        while i < n:
            line = lines[i]
            if line and line[0] not in _MD_SPECIAL:
                i += 1
                continue
            if not line or line.isspace():
                kinds[i] = BLANK
                i += 1
                continue
            i, in_list = self.special(i, line, in_list)

    def special(self, i: int, line: str, in_list: bool) -> tuple[int, bool]:
        """Classify a line that may open a block; returns the next line to look at and the list context."""
        kinds, lines = self.kinds, self.lines
        if m := _FENCE.match(line):
            return self.fence(i, m.group(1)), in_list
        if (m := _ATX.match(line)) is not None:
            kinds[i] = HEADING
            self.headings.append(Heading(i, len(m.group(1)), (m.group(2) or "").strip()))
            return i + 1, False
        if line[:1] in " \t" and _indent(line) >= 4 and not in_list and i and kinds[i - 1] == BLANK:
            return self.mark(i, self.indented_end(i, 3), CODE), in_list
        if i and kinds[i - 1] == TEXT and (m := _SETEXT.match(line)) and not _is_blank(lines[i - 1]):
            return self.setext(i, m), False
        if "|" in line and (end := self.pipe_table(i, line)) is not None:
            return end, False
        return i + 1, self.one_line(i, line, in_list)

    def setext(self, i: int, m: re.Match[str]) -> int:
        """A setext heading underlined by line ``i``: its title is the run of text lines above."""
        kinds, lines = self.kinds, self.lines
        first = i - 1
        while first and kinds[first - 1] == TEXT:
            first -= 1
        self.headings.append(Heading(first, 1 if m.group(1)[0] == "=" else 2,
                                     " ".join(x.strip() for x in lines[first:i])))
        kinds[first:i + 1] = bytes([HEADING]) + bytes([UNDER]) * (i - first)
        return i + 1

    def pipe_table(self, i: int, line: str) -> int | None:
        """End of the pipe table at line ``i`` (its delimiter row, or a row starting with ``|``); else None."""
        if i and self.kinds[i - 1] == TEXT and "|" in self.lines[i - 1] and _DELIM.match(line):
            return self.mark(i - 1, self.table_rows(i), TABLE, code=False)
        if line.lstrip()[:1] == "|":
            return self.mark(i, self.table_rows(i), TABLE, code=False)
        return None

    def one_line(self, i: int, line: str, in_list: bool) -> bool:
        """Mark a list item, HTML or link definition line; returns whether a list goes on after it."""
        if _LIST.match(line):
            self.kinds[i] = LIST
            return True
        if _HTML.match(line):
            self.kinds[i] = HTML
        elif _LINKDEF.match(line):
            self.kinds[i] = LINKDEF
        return in_list and line[:1] in " \t"

    def fence(self, i: int, marker: str) -> int:
        lines, n = self.lines, len(self.lines)
        if marker[0] == "`" and "`" in lines[i].lstrip()[len(marker):]:
            return i + 1  # not a fence: an info string may not hold a backtick
        j = i + 1
        while j < n:
            s = lines[j].strip()
            if s and s[0] == marker[0] and len(s) >= len(marker) and s == s[0] * len(s) and _indent(lines[j]) < 4:
                j += 1
                break
            j += 1
        return self.mark(i, j, CODE, FENCE)


class _RstParser(_Parser):
    def run(self) -> None:
        lines, kinds, n = self.lines, self.kinds, len(self.lines)
        self.styles: list[tuple[str, bool]] = []
        i = 0
        last = n - 1
        while i < n:
            line = lines[i]
            if not line or line.isspace():
                kinds[i] = BLANK
                i += 1
            elif i < last and lines[i + 1][:1] in _ADORN_CHARS and line[0] not in " \t" and self.titled(i):
                i = self.heading(i, i, lines[i + 1][0], False)
            elif line[0] in _RST_SPECIAL:
                i = self.special(i, line)
            elif "::" in line[-4:] and line.rstrip().endswith("::"):
                i = self.literal(i)
            else:
                i += 1

    def titled(self, i: int) -> bool:
        """Line ``i`` is a title underlined by line ``i + 1``."""
        return (i == 0 or self.kinds[i - 1] in (BLANK, UNDER)) and _ADORN.match(self.lines[i + 1]) is not None \
            and not _ADORN.match(self.lines[i]) \
            and len(self.lines[i + 1].strip()) >= min(len(self.lines[i].strip()), 4)

    def heading(self, first: int, title_line: int, char: str, over: bool) -> int:
        style = (char, over)
        if style not in self.styles:
            self.styles.append(style)
        self.headings.append(Heading(first, self.styles.index(style) + 1, self.lines[title_line].strip()))
        end = title_line + 2
        self.kinds[first:end] = bytes([HEADING]) + bytes([UNDER]) * (end - first - 1)
        return end

    def special(self, i: int, line: str) -> int:
        """Classify a line starting with punctuation, a digit or indentation (dispatch on its first mark)."""
        lines, n, c = self.lines, len(self.lines), line.lstrip(" \t")[:1]
        if line[0] == c and _ADORN.match(line) and i + 2 < n and lines[i + 2].strip() == line.strip() \
                and not _is_blank(lines[i + 1]):
            return self.heading(i, i + 1, c, True)
        if c == "." and _DIRECTIVE.match(line):
            return self.directive(i, line)
        if (end := self.table(i, c, line)) is not None:
            return end
        if c == ":" and _FIELD.match(line):
            return self.single(i, FIELD)
        if c in _LIST_CHARS and _LIST.match(line):
            return self.single(i, LIST)
        return self.literal(i) if "::" in line[-4:] and line.rstrip().endswith("::") else i + 1

    def directive(self, i: int, line: str) -> int:
        """A directive with its indented body (code for code directives); without a body, one line."""
        end = self.indented_end(i, _indent(line))
        if end > i + 1:
            return self.mark(i, end, CODE, DIRECTIVE, code=bool(_CODE_DIRECTIVE.match(line)))
        return self.single(i, DIRECTIVE)

    def table(self, i: int, c: str, line: str) -> int | None:
        """End of the grid or simple table starting at line ``i`` (whose first mark is ``c``); else None."""
        if c == "+" and _GRID.match(line):
            return self.mark(i, self.table_rows(i, _GRID_ROW), TABLE, code=False)
        if c == "=" and _SIMPLE.match(line):
            return self.simple_table(i)
        return None

    def single(self, i: int, kind: int) -> int:
        self.kinds[i] = kind
        return self.literal(i) if self.lines[i].rstrip().endswith("::") and kind != DIRECTIVE else i + 1

    def literal(self, i: int) -> int:
        """After a line ending in ``::``: the indented literal block that follows (blank lines first)."""
        lines, n, base = self.lines, len(self.lines), _indent(self.lines[i])
        j = i + 1
        while j < n and _is_blank(lines[j]):
            j += 1
        if j >= n or j == i + 1 or _indent(lines[j]) <= base:
            return i + 1
        return self.mark(j, self.indented_end(j - 1, base), CODE)

    def simple_table(self, i: int) -> int:
        """A simple table: border lines of ``=`` groups; it ends at the last border before a blank line."""
        lines, n, last = self.lines, len(self.lines), i
        j = i + 1
        while j < n and not _is_blank(lines[j]):
            if _SIMPLE.match(lines[j]) or _ADORN.match(lines[j]):
                last = j
            j += 1
        return self.mark(i, last + 1, TABLE, code=False) if last > i else i + 1
