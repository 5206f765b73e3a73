"""Routing classes of a text: language, length class and content type, by cheap heuristics.

``content_type`` is one of ``prose``, ``code``, ``table``, ``markdown``, ``json`` or ``mixed``:

* ``json`` — the whole text parses as a JSON object or array;
* ``markdown`` — headings, fenced blocks, lists or links make up a fair share of the lines (a Markdown document
  may hold prose, tables and code: it stays ``markdown``);
* ``table`` / ``code`` — at least 60 % of the non-blank lines look like table rows / code;
* ``mixed`` — at least 20 % of the lines are table rows or code, but neither dominates;
* ``prose`` — everything else.
"""
from __future__ import annotations

import json
import re

from .language import detect_language

LENGTH_CLASSES = ("short", "medium", "long", "very_long")
CONTENT_TYPES = ("prose", "code", "table", "markdown", "json", "mixed")

_MD_LINE = re.compile(r"^(?:#{1,6}\s+\S|```|~~~|\s*[-*+]\s+\S|\s*\d{1,3}[.)]\s+\S|>\s|\s*[-*_]{3,}\s*$)")
_MD_INLINE = re.compile(r"\[[^\]\n]+\]\([^)\s]+\)|\*\*[^*\n]+\*\*|`[^`\n]+`")
_FENCE = re.compile(r"^\s*(?:```|~~~)")
_TABLE_LINE = re.compile(r"^\s*\|.*\|\s*$|^[^|\n]+(?:\|[^|\n]*){2,}$|^[^\t\n]*(?:\t[^\t\n]*){2,}$")
_CODE_LINE = re.compile(
    r"^\s*(?:def |class |import |from \S+ import |return\b|if\s*\(|for\s*\(|while\s*\(|#include|package |"
    r"public |private |function\b|const |let |var |fn |func |SELECT\b|INSERT\b|UPDATE\b|CREATE\b|@\w+|"
    r"[}\])]+;?\s*$)|[;{]\s*$|=>|->\s*\w|\)\s*:\s*$|^\s*+\w++(?:\.\w++)*+\s*+=\s*[^=]|\w\([^)]*\)\s*;?\s*$|"
    r"^\s{4,}\S.*[(){}\[\]=;]")
"""Possessive where the classes are disjoint (``\\w++``, ``\\s*+``): the same matches, without backtracking through
every shorter first word of a prose line."""


def length_class(n_chars: int, short: int = 200, medium: int = 2000, long: int = 20000) -> str:
    """``short`` below ``short`` characters, ``medium`` below ``medium``, ``long`` below ``long``, else
    ``very_long``."""
    if n_chars < short:
        return "short"
    if n_chars < medium:
        return "medium"
    return "long" if n_chars < long else "very_long"


def _is_json(text: str) -> bool:
    t = text.strip()
    if not t or (t[0], t[-1]) not in (("{", "}"), ("[", "]")):
        return False
    try:
        json.loads(t)
    except ValueError:
        return False
    return True


def _line_counts(lines: list[str], *, early: bool = True) -> tuple[int, int, int, int]:
    """(non-blank lines, markdown lines, table lines, code lines); fenced lines count as markdown and code.

    ``early``: stop as soon as the lines seen make the text Markdown whatever the others hold (two Markdown lines,
    at least 15 % of the non-blank lines even if every line left is non-blank); the counts are then those so far."""
    total = md = table = code = 0
    fenced = False
    left = len(lines)
    for line in lines:
        left -= 1
        if not line.strip():
            continue
        total += 1
        if len(line) > 400 and not fenced:  # a paragraph: prose (code and table rows are shorter)
            continue
        if _FENCE.match(line):
            fenced = not fenced
            md += 1
        elif fenced:
            code += 1
        elif _maybe_table(line) and _TABLE_LINE.match(line):
            table += 1
        elif _MD_LINE.match(line) or (_maybe_inline(line) and _MD_INLINE.search(line)):
            md += 1
        elif _code_line(line):
            code += 1
        if early and md >= 2 and md * 20 >= 3 * (total + left):  # Markdown whatever follows (_type_of_lines)
            break
    return total, md, table, code


def _maybe_inline(line: str) -> bool:
    """Every inline Markdown form (``_MD_INLINE``) holds ``](``, ``**`` or a backtick: tested before the regex."""
    return "](" in line or "**" in line or "`" in line


def _maybe_table(line: str) -> bool:
    """Every table form needs two ``|`` or two tabs: a cheap test before the regex, which backtracks on prose."""
    return line.count("|") >= 2 or line.count("\t") >= 2


def _code_line(line: str) -> bool:
    """``_CODE_LINE.search(line)``, scanning the whole line only when a character that an unanchored alternative
    needs is there; otherwise only the alternatives anchored at the start can match."""
    tail = line.rstrip()[-1:]
    if tail in (";", "{", ")", ":") or "=>" in line or "->" in line or ")" in line:
        return _CODE_LINE.search(line) is not None
    return _CODE_LINE.match(line) is not None


def content_type(text: str, max_lines: int = 400) -> str:
    """The content type of ``text`` (see the module docstring), from its first ``max_lines`` lines."""
    if _is_json(text[:200_000]):
        return "json"
    return _type_of_lines(*_line_counts(text.split("\n", max_lines)[:max_lines]))


def _type_of_lines(total: int, md: int, table: int, code: int) -> str:
    """The content type from the line counts of ``_line_counts`` (Markdown, table and code lines among ``total``)."""
    if total == 0:
        return "prose"
    if md and md / total >= 0.15 and (md >= 2 or total <= 3):
        return "markdown"
    if table / total >= 0.6 and table >= 2:
        return "table"
    if code / total >= 0.6:
        return "code"
    if (code + table) / total >= 0.2 and total >= 3:
        return "mixed"
    return "prose"


def classify(text: str, *, short: int = 200, medium: int = 2000, long: int = 20000) -> dict[str, str]:
    """``{"language", "length", "content_type"}`` of ``text``."""
    return {"language": detect_language(text), "length": length_class(len(text), short, medium, long),
            "content_type": content_type(text)}
