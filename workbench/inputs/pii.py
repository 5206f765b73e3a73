"""Personal data and secrets in text, found for the log store to redact.

Kinds: ``email``, ``phone`` (with separators, or E.164 without: ``+33612345678``), ``credit_card`` (13–19 digits
passing the Luhn check), ``iban`` (ISO 13616 mod-97 checksum; any case, grouped with spaces or dashes), ``ipv4``,
``ipv6`` (full or compressed, checked by ``ipaddress``), ``ssn`` (US, ``123-45-6789`` form, impossible
area/group/serial numbers excluded) and ``secret`` (``sk-…`` from 8 characters with a digit, ``AKIA…``,
GitHub/Slack/Google keys, JWTs, long tokens after ``key``/``token``/``bearer``, and any value after ``password:`` or
``secret:``). Regex heuristics: they favour recall on obvious forms, not completeness.

    redact("mail ann@example.com") == "mail [EMAIL]"
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import lru_cache

from .._util.asciimap import ascii_table
from .._util.keyshapes import KEY_SHAPES

KINDS = ("secret", "email", "iban", "credit_card", "ssn", "ipv4", "ipv6", "phone")
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
_KEYED_SECRET = re.compile(
    r"(?i:(?<![A-Za-z0-9])(?:api[_\- ]?key|secret(?:[_\-]key)?|access[_\-]?key|token|password|passwd|pwd|bearer|auth)\b"
    r"[\"']?\s*(?:[:=]|\bis\b)?\s*[\"']?)([A-Za-z0-9+/_\-.=]{16,})")
_PASSWORD_WORDS = r"password|passwd|pwd|passphrase|passwort|kennwort|contrase[ñn]a|mot de passe|wachtwoord|senha"
"""The word for a password in English and a few other languages (``Passwort:``, ``contraseña:``)."""
_KEYED_PASSWORD = re.compile(
    rf"(?i:(?<![A-Za-z0-9])(?:{_PASSWORD_WORDS}|secret)\b[\"']?(?:\s+is)?\s*[:=]\s*)"
    r"(?:\"([^\"\n]{1,200})\"|'([^'\n]{1,200})'|([^\s,;\"']+?)(?=[.,;]?(?:\s|$)|[,;]))")
"""A value after ``password:`` / ``secret=`` (also ``DB_PASSWORD=``, ``client_secret:``, ``password is:``), quoted (spaces and all, as
in JSON: ``{"password": "wombat kettle"}``) or up to the next space or punctuation."""
_PASSWORD_IS = re.compile(
    rf"(?i:(?<![A-Za-z0-9])(?:{_PASSWORD_WORDS})\s+(?:is|was|ist|war|es|est|is now)\s+)"
    r"(?:\"([^\"\n]{1,200})\"|'([^'\n]{1,200})'|(?=[^\s\"']*[\d@#$%^&*_+=~])([^\s\"']{4,}?)(?=[.,;!?]?(?:\s|$)))")
"""``my password is hunter2`` (no colon): a quoted value, or a word of 4 or more characters holding a digit or a
symbol (``The password is in the vault`` and ``the password is 8 characters long`` are left alone)."""
_INVISIBLE = "\u00ad\u180e\u200b-\u200f\u2060-\u2064\ufeff"
"""Characters that show as nothing (zero-width spaces and joiners, soft hyphen...): inside an e-mail they hid it."""
_EMAIL = re.compile(rf"[\w.%+\-{_INVISIBLE}]+[@＠﹫][\w\-{_INVISIBLE}]+(?:[.．][\w\-{_INVISIBLE}]+)*[.．][^\W\d_]{{2,}}")
"""Letters of any script (full-width ``ｏｔｔｏ``), ``＠`` and ``．`` as well as ``@`` and ``.``, invisible characters
anywhere."""
_AT_SIGNS = ("@", "＠", "﹫")
_IBAN = re.compile(r"(?i)(?<![A-Z0-9])[A-Z]{2}\d{2}(?:[ \-._]?[A-Z0-9]{4}){2,7}(?:[ \-._]?[A-Z0-9]{1,4})?(?![A-Z0-9])")
"""Grouped by fours with spaces, dashes, dots or underscores (``DE89.3704…``, ``iban_DE89…``), in any case."""
_E164 = re.compile(r"(?<!\d)[+＋][1-9]\d{6,14}(?!\d)")
"""``+33612345678`` (or ``＋``), also glued to a word or followed by ``-``/``_`` (``user-+33612345678-a``)."""
_IPV6 = re.compile(r"(?<![A-Za-z0-9:])(?<!\d\.)(?:[0-9A-Fa-f]{1,4}|:)?(?::[0-9A-Fa-f]{0,4}){2,7}(?:%\w+)?(?![A-Za-z0-9:])|"
                   r"(?<![A-Za-z0-9:])(?<!\d\.)(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}(?![A-Za-z0-9:])")
"""Not inside a dotted number (``1.2::3``), but after a host name's dot (``host.fe80::1``)."""
_CARD = re.compile(r"(?<!\d)(?<!\d[.\-])(?:\d{4}([ \-]?)\d{4}\1\d{4}\1\d{1,7}|\d{4}([ \-]?)\d{6}\2\d{4,5})"
                   r"(?!\d|[.\-]\d)")
"""Not inside a longer number (``1.4111…``), but at the end of a sentence (``…0004.``) or before a dash."""
_SSN = re.compile(r"(?<![\d\-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\d\-])")
_IPV4 = re.compile(rf"(?<!\d)(?<!\d\.){_OCTET}(?:\.{_OCTET}){{3}}(?!\d|\.\d)")
"""Four octets, not part of a longer dotted number (``1.10.0.0.1``), also at the end of a sentence."""
_PHONE = re.compile(r"(?<![\w+])(?:\+\d{1,3}[ .\-]?)?(?:\(\d{1,5}\)[ .\-]?)?\d{2,5}(?:[ .\-]\d{2,8}){1,4}(?![\w\-])")
_DATE_LIKE = re.compile(r"^\d{4}[\-./]\d{1,2}[\-./]\d{1,2}$|^\d{1,2}[\-./]\d{1,2}[\-./]\d{2,4}$")
_PASSWORD_HINT = re.compile("passw|passp|pwd|kennw|contrase|mot de passe|wachtw|senha")
"""How the words of ``_PASSWORD_WORDS`` start, in lower case: the password patterns start their search at the first
one (a match starts at its key word)."""
_KEY_GATES = tuple((literal, rx) for _, literals, rx in KEY_SHAPES for literal in literals)
"""(literal, key shape): a shape is searched only in a text whose lower case holds its literal."""
_SECRET_HINTS = ("sk-", "akia", "asia", "gh", "xox", "aiza", "eyj", "key", "token", "secret", "passw", "passp", "pwd",
                 "bearer", "auth", "k_live_", "k_test_", "kennw", "contrase", "mot de passe", "wachtw", "senha")
_NUMBER_GATE = re.compile(r"\d[\d \-.()/]{5,}\d")
"""Every number kind has a run of 7+ characters of digits and separators; ordinary text mostly has none."""
_SHAPE = ascii_table(lambda ch: "a" if ch.isalpha() else "1" if ch.isdigit() else "-" if ch in " -.()/" else "x")
"""The shape of ASCII text that the number and IBAN gates scan as bytes: letters to ``a``, digits to ``1``, the
separators of numbers to ``-``, anything else to ``x`` (``_shape``)."""
_NUMBER_SHAPE_GATE = re.compile(rb"1[1-]{5,}1")
"""``_NUMBER_GATE`` on the shape: the same matches at the same offsets, a quarter of the time (``\\d`` in a ``str``
regex tests Unicode categories)."""


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
    s = re.sub(r"[ \-._]", "", candidate).upper()
    if not 15 <= len(s) <= 34:
        return False
    moved = s[4:] + s[:4]
    number = "".join(str(int(c, 36)) for c in moved)
    return int(number) % 97 == 1


_SECRET_HINT = re.compile("|".join(map(re.escape, _SECRET_HINTS)))
_HINT_SEARCH_CHARS = 160
"""Below this length one search for any hint beats a ``str.find`` per hint (0.3 vs 1.2 µs for an id); above, the
finds win (6.2 vs 7.8 µs at 600 characters)."""


def _first_hint(lower: str) -> int:
    """Where the first of ``_SECRET_HINTS`` occurs in ``lower`` (-1: none does): every secret pattern needs one."""
    if len(lower) < _HINT_SEARCH_CHARS:
        m = _SECRET_HINT.search(lower)
        return -1 if m is None else m.start()
    if not any(map(lower.__contains__, _SECRET_HINTS)):  # the usual case, in C: no generator step per hint
        return -1
    return min(i for i in map(lower.find, _SECRET_HINTS) if i >= 0)


def _secrets(text: str) -> list[PiiMatch]:
    lower = text.lower()
    first = _first_hint(lower)
    if first < 0:
        return []
    aligned = len(lower) == len(text)  # offsets in lower are offsets in text ("İ" lengthens in lower case: "i̇")
    found = [PiiMatch("secret", m.start(), m.end()) for literal, rx in _KEY_GATES if literal in lower
             for m in rx.finditer(text)]
    for m in _KEYED_SECRET.finditer(text, max(0, first - 10) if aligned else 0):
        token = m.group(1)
        if any(c.isdigit() for c in token) or len(token) >= 24:
            found.append(PiiMatch("secret", m.start(1), m.end(1)))
    word = _PASSWORD_HINT.search(lower)
    secret = lower.find("secret")
    if word is None and secret < 0:
        return found  # the usual case: no word a password or secret value follows
    start = min(i for i in (secret, -1 if word is None else word.start()) if i >= 0) if aligned else 0
    keyed = _KEYED_PASSWORD.finditer(text, start)
    said = () if word is None else _PASSWORD_IS.finditer(text, word.start() if aligned else 0)
    for m in itertools.chain(keyed, said):
        group = next(g for g in (1, 2, 3) if m.group(g) is not None)
        found.append(PiiMatch("secret", m.start(group), m.end(group)))
    return found


def _shape(text: str) -> bytes | None:
    """``text`` translated by ``_SHAPE`` (None for text that is not ASCII): made once per text for both gates."""
    return text.encode("ascii").translate(_SHAPE) if text.isascii() else None


def _ibans(text: str, shape: bytes | None) -> list[PiiMatch]:
    """IBANs; a match that fails the checksum is retried without its last group (``DE36… A``: the ``A`` is a word).
    ASCII text without two letters followed by two digits (``aa11`` in its ``shape``) holds none, found by a byte
    search instead of the case-insensitive regex (a tenth of its time)."""
    if shape is not None and b"aa11" not in shape:
        return []
    return _iban_matches(text)


def _iban_matches(text: str) -> list[PiiMatch]:
    found = []
    for m in _IBAN.finditer(text):
        s = m.group()
        for _ in range(9):  # at most every group
            if iban_ok(s):
                found.append(PiiMatch("iban", m.start(), m.start() + len(s)))
                break
            cut = re.search(r"[ \-._]?[A-Za-z0-9]{1,4}$", s)
            if cut is None or cut.start() < 15:
                break
            s = s[:cut.start()]
    return found


def _ipv6(text: str) -> list[PiiMatch]:
    import ipaddress

    found = []
    for m in _IPV6.finditer(text):
        s = m.group()
        try:
            ipaddress.IPv6Address(s.split("%")[0])
        except ValueError:
            continue
        found.append(PiiMatch("ipv6", m.start(), m.end()))
    return found


def _numbers(text: str, shape: bytes | None) -> list[PiiMatch]:
    """Number-like kinds, scanned only on the lines where ``_NUMBER_GATE`` matched (on the ``shape`` of ASCII
    text): no match of these regexes spans a newline, and their look-arounds treat a newline as they treat the ends
    of the text."""
    found: list[PiiMatch] = []
    line_end = -1
    gates = _NUMBER_GATE.finditer(text) if shape is None else _NUMBER_SHAPE_GATE.finditer(shape)
    for gate in gates:
        if gate.start() < line_end:
            continue  # this line is scanned already
        line_start = text.rfind("\n", 0, gate.start()) + 1
        line_end = text.find("\n", gate.end())
        line_end = len(text) if line_end < 0 else line_end
        found += _numbers_in(text, line_start, line_end)
    return found


def _numbers_in(text: str, start: int, end: int) -> list[PiiMatch]:
    found = []
    for m in _CARD.finditer(text, start, end):
        digits = re.sub(r"\D", "", m.group())
        if 13 <= len(digits) <= 19 and luhn_ok(digits) and len(set(digits)) > 1:
            found.append(PiiMatch("credit_card", m.start(), m.end()))
    found += [PiiMatch("ssn", m.start(), m.end()) for m in _SSN.finditer(text, start, end)]
    found += [PiiMatch("ipv4", m.start(), m.end()) for m in _IPV4.finditer(text, start, end)]
    found += [PiiMatch("phone", m.start(), m.end()) for m in _E164.finditer(text, start, end)]
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
    if len(text) <= _MEMO_CHARS:  # one request's strings are checked by the policy, then redacted for its log row
        return list(_find_pii_memo(text))
    return _find_pii(text)


_MEMO_CHARS = 16_384
"""Texts up to this long are memoised (the last 256 of them: at most ~4 MB held)."""


@lru_cache(maxsize=256)
def _find_pii_memo(text: str) -> tuple[PiiMatch, ...]:
    return tuple(_find_pii(text))


def _find_pii(text: str) -> list[PiiMatch]:
    candidates = _secrets(text)
    if any(map(text.__contains__, _AT_SIGNS)):
        candidates += [PiiMatch("email", m.start(), m.end()) for m in _EMAIL.finditer(text)]
    shape = _shape(text)
    candidates += _numbers(text, shape)
    candidates += _ibans(text, shape)
    if text.count(":") >= 2:
        candidates += _ipv6(text)
    return _resolve(candidates) if candidates else []


def holds_personal_data(*texts: str | None) -> bool:
    """Whether any of ``texts`` holds personal data or a secret (``find_pii``): the capture policy's test for what a
    cache may keep."""
    return any(t and find_pii(t) for t in texts)


def redact(text: str) -> str:
    """``text`` with each match of ``find_pii`` replaced by ``[EMAIL]``, ``[PHONE]``, ``[CREDIT_CARD]``,
    ``[IBAN]``, ``[IPV4]``, ``[IPV6]``, ``[SSN]`` or ``[SECRET]``."""
    out, pos = [], 0
    for m in find_pii(text):
        out += [text[pos:m.start], f"[{m.kind.upper()}]"]
        pos = m.end
    out.append(text[pos:])
    return "".join(out)
