"""Normalisation to one canonical form, reporting what changed.

In order: safe mojibake repair (ftfy, encoding fixes only, kept only when it lowers ftfy's badness), removal of
a leading byte-order mark and of zero-width characters (legitimate joiners kept, see ``chars``), line endings to
``\\n``, Unicode NFC, trailing whitespace per line, runs of more than two blank lines collapsed to two, outer
whitespace stripped. The steps repeat until nothing changes (at most three passes), so
``normalise(normalise(x).text).text == normalise(x).text``.

ftfy costs ~140 ms to import, so it is imported only when a cheap regex sees a mojibake-like character pair.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field

from .chars import SURROGATE_RE, strip_zero_width

CHANGES = ("mojibake_repaired", "surrogates_replaced", "bom_removed", "zero_width_removed", "line_endings",
           "nfc", "trailing_whitespace", "blank_lines_collapsed", "outer_whitespace")
"""Every change name ``normalise`` can report, in the order the steps run."""

# A UTF-8 lead byte read as Latin-1/cp1252 (Â..ô) followed by a continuation byte read the same way.
_MOJIBAKE_HINT = re.compile("[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
                            "\u02c6\u02dc\u2013\u2014\u2018-\u201a\u201c-\u201e\u2020-\u2022\u2026\u2030"
                            "\u2039\u203a\u20ac\u2122]")
_BLANK_RUNS = re.compile(r"\n{4,}")


@dataclass(frozen=True)
class Normalised:
    """The canonical form of a text and what it took to get there."""

    text: str
    """The normalised text."""
    changes: list[str] = field(default_factory=list)
    """Names of the steps that changed something (see ``CHANGES``), in order; empty when already canonical."""


@functools.cache
def _ftfy_config():
    import ftfy

    return ftfy.TextFixerConfig(
        unescape_html=False, remove_terminal_escapes=False, fix_encoding=True, restore_byte_a0=True,
        replace_lossy_sequences=False, decode_inconsistent_utf8=True, fix_c1_controls=False,
        fix_latin_ligatures=False, fix_character_width=False, uncurl_quotes=False, fix_line_breaks=False,
        fix_surrogates=False, remove_control_chars=False, normalization=None, explain=False)


def repair_mojibake(text: str) -> str:
    """``text`` with UTF-8-read-as-Latin-1/cp1252 repaired ("cafÃ©" -> "café"), or unchanged when unsure."""
    if _MOJIBAKE_HINT.search(text) is None:
        return text
    import ftfy
    from ftfy.badness import badness

    fixed = ftfy.fix_text(text, _ftfy_config())
    if fixed != text and badness(fixed) < badness(text):
        return fixed
    return text


def _nfc(text: str) -> str:
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def _trailing_whitespace(text: str) -> str:
    if "\n" not in text:
        return text.rstrip()
    return "\n".join(line.rstrip() for line in text.split("\n"))


def _line_endings(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


# (change name, step, runs on ASCII text too)
_STEPS = (
    ("mojibake_repaired", repair_mojibake, False),
    ("surrogates_replaced", lambda t: SURROGATE_RE.sub("\ufffd", t), False),
    ("bom_removed", lambda t: t.removeprefix("\ufeff"), False),
    ("zero_width_removed", strip_zero_width, False),
    ("line_endings", _line_endings, True),
    ("nfc", _nfc, False),
    ("trailing_whitespace", _trailing_whitespace, True),
    ("blank_lines_collapsed", lambda t: _BLANK_RUNS.sub("\n\n\n", t) if "\n\n\n\n" in t else t, True),
    ("outer_whitespace", str.strip, True),
)


def _one_pass(text: str, changes: list[str]) -> str:
    ascii_only = text.isascii()
    for name, step, on_ascii in _STEPS:
        if ascii_only and not on_ascii:
            continue
        new = step(text)
        if new != text:
            text = new
            if name not in changes:
                changes.append(name)
    return text


def normalise(text: str) -> Normalised:
    """The canonical form of ``text`` and the list of changes made (see the module docstring)."""
    changes: list[str] = []
    ascii_only = text.isascii()
    for _ in range(3):
        new = _one_pass(text, changes)
        if new == text:
            break
        text = new  # even whitespace can matter: ftfy repairs "á\x86™Ä" but not "á\x86™Ä " (found by hypothesis)
        if ascii_only:  # the ASCII steps (line endings, whitespace) leave a fixed point in one pass (tested)
            break
    return Normalised(text, changes)
