"""Character classes that validation rejects or flags, as precompiled regexes.

* control: C0 except tab, LF and CR; DEL; C1 (U+0080–U+009F).
* bidi: embeddings/overrides U+202A–U+202E, isolates U+2066–U+2069, marks U+200E/U+200F and U+061C.
* zero width: U+200B–U+200D, U+2060 and U+FEFF (a U+FEFF at the very start is a byte-order mark, not a finding).
  Joiners that scripts need are legitimate and never flagged nor stripped: ZWJ inside emoji sequences
  (👩‍💻), ZWNJ/ZWJ between Arabic or Indic letters (Persian, Hindi…), and ZWSP between Thai, Lao, Khmer or
  Myanmar letters (where it marks word breaks).
"""
from __future__ import annotations

import re

# the lone-surrogate check lives in _util (the caches use it too); here with the other character classes
from .._util.unicode import SURROGATE_RE as SURROGATE_RE
from .._util.unicode import is_valid_unicode as is_valid_unicode

CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
BIDI_RE = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")

_EMOJI = "\u00a9\u00ae\u203c-\u3299\ufe0f\U0001f000-\U0001faff\U000e0020-\U000e007f"
_JOINING = "\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\u0900-\u0dff\ufb50-\ufdff\ufe70-\ufeff"
_SPACELESS = "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff"
_LEGIT = (f"(?<=[{_EMOJI}])\u200d(?=[{_EMOJI}])"
          f"|(?<=[{_JOINING}])[\u200c\u200d](?=[{_JOINING}])"
          f"|(?<=[{_SPACELESS}])\u200b(?=[{_SPACELESS}])")
ZERO_WIDTH_RE = re.compile(f"(?!{_LEGIT})[\u200b-\u200d\u2060\ufeff]")
"""Zero-width characters that are not a legitimate joiner in context (slow to scan: gate with ``ANY_ZERO_WIDTH``)."""
ANY_ZERO_WIDTH = re.compile("[\u200b-\u200d\u2060\ufeff]")

# Fast negative test: none of the characters above can occur in a string this does not match.
_SUSPECT_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069"
                         "\ufeff\ud800-\udfff]")


def codepoints(chars: list[str], limit: int = 5) -> list[str]:
    """``["U+202E", ...]``: the distinct code points of ``chars``, in order of appearance, at most ``limit``."""
    seen: list[str] = []
    for c in chars:
        cp = f"U+{ord(c):04X}"
        if cp not in seen:
            seen.append(cp)
            if len(seen) == limit:
                break
    return seen


def suspicious(text: str) -> bool:
    """True when ``text`` may hold a control, bidi, zero-width or surrogate character (cheap pre-test)."""
    if text.isascii():
        return CONTROL_RE.search(text) is not None
    return _SUSPECT_RE.search(text) is not None


def control_chars(text: str) -> list[str]:
    """Code points of the control characters in ``text`` (C0 but tab/LF/CR, DEL, C1)."""
    return codepoints(CONTROL_RE.findall(text))


def bidi_chars(text: str) -> list[str]:
    """Code points of the bidirectional control characters in ``text``."""
    return codepoints(BIDI_RE.findall(text))


def zero_width_chars(text: str) -> list[str]:
    """Code points of the zero-width characters in ``text`` (not a leading BOM, not legitimate joiners)."""
    start = 1 if text.startswith("\ufeff") else 0
    if ANY_ZERO_WIDTH.search(text, start) is None:
        return []
    return codepoints(ZERO_WIDTH_RE.findall(text, start))


def strip_zero_width(text: str) -> str:
    """``text`` without the zero-width characters of ``ZERO_WIDTH_RE``."""
    return text if ANY_ZERO_WIDTH.search(text) is None else ZERO_WIDTH_RE.sub("", text)
