"""Personal data and secrets in text, found for the log store to redact.

Kinds: ``email``, ``phone``, ``credit_card`` (13–19 digits passing the Luhn check), ``iban`` (ISO 13616 mod-97
checksum), ``ipv4``, ``ssn`` (US, ``123-45-6789`` form, impossible area/group/serial numbers excluded) and
``secret`` (``sk-…``, ``AKIA…``, GitHub/Slack/Google keys, JWTs, and long tokens after ``key``/``token``/
``secret``/``password``/``bearer``). Regex heuristics: they favour recall on obvious forms, not completeness.

    redact("mail ann@example.com") == "mail [EMAIL]"
"""
from __future__ import annotations

import re
from dataclasses import dataclass

KINDS = ("secret", "email", "iban", "credit_card", "ssn", "ipv4", "phone")
"""Every kind, in priority order: when two matches overlap, the earlier kind wins."""


@dataclass(frozen=True)
class PiiMatch:
    """One piece of personal data or one secret in a text."""

    kind: str
    """One of ``KINDS``."""
    start: int
    """Offset of the first character."""
    end: int
    """Offset after the last character (``text[start:end]`` is the match)."""


_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
# (literal that must occur, regex)
_SECRET_RES = (
    ("sk-", re.compile(r"\bsk-(?:proj-|ant-|live_|test_)?[A-Za-z0-9_\-]{20,}")),
    ("IA", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("_", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b")),
    ("xox", re.compile(r"\bxox[abprs]-[A-Za-z0-9\-]{10,}")),
    ("AIza", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b")),
    ("eyJ", re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}")),
)
_KEYED_SECRET = re.compile(
    r"(?i:\b(?:api[_\- ]?key|secret(?:[_\-]key)?|access[_\-]?key|token|password|passwd|pwd|bearer|auth)\b"
    r"[\"']?\s*(?:[:=]|\bis\b)?\s*[\"']?)([A-Za-z0-9+/_\-.=]{16,})")
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b")
_CARD = re.compile(r"(?<![\d.\-])(?:\d{4}([ \-]?)\d{4}\1\d{4}\1\d{1,7}|\d{4}([ \-]?)\d{6}\2\d{4,5})(?![\d.\-])")
_SSN = re.compile(r"(?<![\d\-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\d\-])")
_IPV4 = re.compile(rf"(?<![\d.]){_OCTET}(?:\.{_OCTET}){{3}}(?![\d.])")
_PHONE = re.compile(r"(?<![\w+])(?:\+\d{1,3}[ .\-]?)?(?:\(\d{1,5}\)[ .\-]?)?\d{2,5}(?:[ .\-]\d{2,8}){1,4}(?![\w\-])")
_DATE_LIKE = re.compile(r"^\d{4}[\-./]\d{1,2}[\-./]\d{1,2}$|^\d{1,2}[\-./]\d{1,2}[\-./]\d{2,4}$")
_SECRET_HINTS = ("sk-", "akia", "asia", "gh", "xox", "aiza", "eyj", "key", "token", "secret", "passw", "pwd",
                 "bearer", "auth")
_NUMBER_GATE = re.compile(r"\d[\d \-.()/]{5,}\d")
"""Every number kind has a run of 7+ characters of digits and separators; ordinary text mostly has none."""


def luhn_ok(digits: str) -> bool:
    """True when the digit string passes the Luhn checksum."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_ok(candidate: str) -> bool:
    """True when ``candidate`` (spaces allowed) has an IBAN's length and mod-97 checksum."""
    s = candidate.replace(" ", "")
    if not 15 <= len(s) <= 34:
        return False
    moved = s[4:] + s[:4]
    number = "".join(str(int(c, 36)) for c in moved)
    return int(number) % 97 == 1


def _secrets(text: str) -> list[PiiMatch]:
    lower = text.lower()
    positions = [i for i in map(lower.find, _SECRET_HINTS) if i >= 0]
    if not positions:
        return []
    found = [PiiMatch("secret", m.start(), m.end()) for lit, rx in _SECRET_RES if lit in text
             for m in rx.finditer(text)]
    for m in _KEYED_SECRET.finditer(text, max(0, min(positions) - 10)):
        token = m.group(1)
        if any(c.isdigit() for c in token) or len(token) >= 24:
            found.append(PiiMatch("secret", m.start(1), m.end(1)))
    return found


def _numbers(text: str) -> list[PiiMatch]:
    """Number-like kinds, scanned only on the lines where ``_NUMBER_GATE`` matched: no match of these regexes
    spans a newline, and their look-arounds treat a newline as they treat the ends of the text."""
    found: list[PiiMatch] = []
    line_end = -1
    for gate in _NUMBER_GATE.finditer(text):
        if gate.start() < line_end:
            continue  # this line is scanned already
        line_start = text.rfind("\n", 0, gate.start()) + 1
        line_end = text.find("\n", gate.end())
        line_end = len(text) if line_end < 0 else line_end
        found += _numbers_in(text, line_start, line_end)
    return found


def _numbers_in(text: str, start: int, end: int) -> list[PiiMatch]:
    found = [PiiMatch("iban", m.start(), m.end()) for m in _IBAN.finditer(text, start, end) if iban_ok(m.group())]
    for m in _CARD.finditer(text, start, end):
        digits = re.sub(r"\D", "", m.group())
        if 13 <= len(digits) <= 19 and luhn_ok(digits) and len(set(digits)) > 1:
            found.append(PiiMatch("credit_card", m.start(), m.end()))
    found += [PiiMatch("ssn", m.start(), m.end()) for m in _SSN.finditer(text, start, end)]
    found += [PiiMatch("ipv4", m.start(), m.end()) for m in _IPV4.finditer(text, start, end)]
    for m in _PHONE.finditer(text, start, end):
        s = m.group()
        n_digits = sum(c.isdigit() for c in s)
        if (8 <= n_digits <= 15 or (s.startswith("+") and n_digits >= 7)) and not _DATE_LIKE.match(s):
            found.append(PiiMatch("phone", m.start(), m.end()))
    return found


def _resolve(candidates: list[PiiMatch]) -> list[PiiMatch]:
    """Non-overlapping matches: by kind priority, then the earlier and longer one."""
    rank = {k: i for i, k in enumerate(KINDS)}
    chosen: list[PiiMatch] = []
    for c in sorted(candidates, key=lambda c: (rank[c.kind], c.start, -(c.end - c.start))):
        if all(c.end <= o.start or c.start >= o.end for o in chosen):
            chosen.append(c)
    return sorted(chosen, key=lambda c: c.start)


def find_pii(text: str) -> list[PiiMatch]:
    """Personal data and secrets in ``text``, in order, never overlapping."""
    candidates = _secrets(text)
    if "@" in text:
        candidates += [PiiMatch("email", m.start(), m.end()) for m in _EMAIL.finditer(text)]
    candidates += _numbers(text)
    return _resolve(candidates) if candidates else []


def redact(text: str) -> str:
    """``text`` with each match of ``find_pii`` replaced by ``[EMAIL]``, ``[PHONE]``, ``[CREDIT_CARD]``,
    ``[IBAN]``, ``[IPV4]``, ``[SSN]`` or ``[SECRET]``."""
    out, pos = [], 0
    for m in find_pii(text):
        out += [text[pos:m.start], f"[{m.kind.upper()}]"]
        pos = m.end
    out.append(text[pos:])
    return "".join(out)
