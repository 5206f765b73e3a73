"""Suspected prompt injection: a weighted pattern model with a logistic squash — a heuristic, not a classifier.

Each named pattern (English, German, Spanish, plus common French/Italian/Portuguese/Croatian/Russian forms of
"forget all instructions") adds its weight when it fires; ``score = 1 / (1 + exp(-(BIAS + sum(weights))))``.
No pattern gives ``score ≈ 0.05``; one strong pattern crosses ``DEFAULT_THRESHOLD``; weak patterns need company.
The weights were set by hand on the **train** split of deepset/prompt-injections only (see ``injection_metrics``
and docs/inputs.md for the test-split numbers). Many of that data set's "injections" are role-play or off-topic
requests that only a narrow deployment would call attacks; a keyword model misses many of them.
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import itemgetter

from .._util.asciimap import ascii_table
from .patterns import PATTERNS

BIAS = -3.0
DEFAULT_THRESHOLD = 0.5
MAX_SCAN_CHARS = 20_000
"""Only the first and last ``MAX_SCAN_CHARS // 2`` characters of a long text are scanned."""

_WORD_RE = re.compile(r"\w+")
_ASCII_NON_WORD = ascii_table(lambda ch: ch if ch.isalnum() or ch == "_" else " ")
"""ASCII bytes with this translation, split on spaces, give exactly the words ``\\w+`` finds (and faster)."""
_CAPS_RE = re.compile(r"[A-ZÄÖÜ]{2,}[!.,]?\s+[A-ZÄÖÜ]{2,}")
_CAPS_SHAPE = ascii_table(lambda ch: "A" if ch.isupper() else " " if ch.isspace() else "." if ch in "!.," else "x")
"""ASCII upper-case letters to ``A``, white space to a space, ``!.,`` to ``.``: where ``_CAPS_RE`` can match on ASCII
text, the shape holds ``_CAPS_SHAPE_RE`` (a byte scan for ``AA``, five times faster than the regex on prose)."""
_CAPS_SHAPE_RE = re.compile(rb"AA\.? +AA")
_ASCII_CHARS = frozenset(map(chr, range(128)))
_KEY = 4
"""Triggers are indexed by their first ``_KEY`` characters, and a text's words by theirs."""


def _single_letters(text: str, words: set[str]) -> int:
    """How many one-character words ``text`` holds (distinct); on ASCII text a set intersection does the count."""
    return len(words & _ASCII_CHARS) if text.isascii() else sum(len(w) == 1 for w in words)


def _caps(text: str) -> bool:
    """Two words in capitals in a row (``_CAPS_RE``); on ASCII text, only where their shape could match."""
    if text.isascii() and _CAPS_SHAPE_RE.search(text.encode("ascii").translate(_CAPS_SHAPE)) is None:
        return False
    return _CAPS_RE.search(text) is not None


_GATES = {
    "caps": lambda text, words: _caps(text),
    "letters": lambda text, words: _single_letters(text, words) >= 4,
}


@dataclass(frozen=True)
class _Pattern:
    name: str
    weight: float
    words: frozenset[str]
    literals: tuple[str, ...]
    gates: tuple[str, ...]
    always: bool
    cased: bool
    regex: re.Pattern[str]

    def fires(self, text: str, lower: str) -> bool:
        """True when the regex matches (on the text as written when ``cased``, else on ``lower``)."""
        return self.regex.search(text if self.cased else lower) is not None


def _compile(name: str, weight: float, triggers: str, rx: str) -> _Pattern:
    tokens = triggers.split()
    words = frozenset(t for t in tokens if t[0] not in "=*?" and t != "CASED")
    return _Pattern(name, weight, words, tuple(t[1:] for t in tokens if t.startswith("=")),
                    tuple(t[1:] for t in tokens if t.startswith("?")), "*" in tokens, "CASED" in tokens,
                    re.compile(rx, re.MULTILINE))


_COMPILED = tuple(_compile(*p) for p in PATTERNS)


def _opened(trigger: str, words: set[str]) -> bool:
    """Whether a text's ``words`` open a pattern with this trigger word (see ``patterns``): ``stem$`` must be a
    whole word, and so must a trigger under ``_KEY`` characters; a longer one is a prefix of a word. Called only
    for triggers whose first ``_KEY`` characters begin some word."""
    if trigger.endswith("$"):
        return trigger[:-1] in words
    if len(trigger) < _KEY:
        return trigger in words
    return len(trigger) == _KEY or any(w.startswith(trigger) for w in words)


@dataclass(frozen=True)
class _Triggers:
    """Which patterns each trigger can open, so a scan looks each word up once instead of asking every pattern in
    turn. Trigger words are indexed by their first ``_KEY`` characters; most words of a text share no key with
    any trigger and cost one set intersection."""

    by_key: dict[str, tuple[tuple[str, frozenset[int]], ...]]
    literals: tuple[tuple[str, int], ...]
    by_gate: dict[str, frozenset[int]]
    always: frozenset[int]

    @classmethod
    def of(cls, patterns: tuple[_Pattern, ...]) -> _Triggers:
        by_word: dict[str, set[int]] = {}
        by_gate: dict[str, set[int]] = {}
        for i, p in enumerate(patterns):
            for word in p.words:
                by_word.setdefault(word, set()).add(i)
            for g in p.gates:
                by_gate.setdefault(g, set()).add(i)
        by_key: dict[str, list[tuple[str, frozenset[int]]]] = {}
        for word, ids in sorted(by_word.items()):
            by_key.setdefault(word.removesuffix("$")[:_KEY], []).append((word, frozenset(ids)))
        return cls({k: tuple(v) for k, v in by_key.items()},
                   tuple((lit, i) for i, p in enumerate(patterns) for lit in p.literals),
                   {g: frozenset(ids) for g, ids in by_gate.items()},
                   frozenset(i for i, p in enumerate(patterns) if p.always))

    def candidates(self, text: str, words: set[str]) -> list[int]:
        """Indexes of the patterns whose trigger occurs in ``text`` (its lower-cased ``words``), in pattern order."""
        chosen = set(self.always)
        for key in self.by_key.keys() & set(map(_FIRST_CHARS, words)):
            for trigger, ids in self.by_key[key]:
                if not ids <= chosen and _opened(trigger, words):
                    chosen |= ids
        chosen.update(i for lit, i in self.literals if lit in text)
        for name, ids in self.by_gate.items():
            if not ids <= chosen and _GATES[name](text, words):
                chosen |= ids
        return sorted(chosen)


_FIRST_CHARS = itemgetter(slice(_KEY))
_TRIGGERS = _Triggers.of(_COMPILED)


@dataclass(frozen=True)
class InjectionScore:
    """How much a text looks like a prompt injection."""

    score: float
    """Logistic score in [0, 1]."""
    reasons: list[str] = field(default_factory=list)
    """Names of the patterns that fired, strongest first."""

    def suspected(self, threshold: float = DEFAULT_THRESHOLD) -> bool:
        """True when ``score >= threshold``."""
        return self.score >= threshold


def _scan_window(text: str) -> str:
    if len(text) <= MAX_SCAN_CHARS:
        return text
    half = MAX_SCAN_CHARS // 2
    return text[:half] + "\n" + text[-half:]


def _words(lower: str) -> set[str]:
    """The distinct words (``\\w+``) of a lower-cased text."""
    if lower.isascii():
        return set(lower.encode("ascii").translate(_ASCII_NON_WORD).decode("ascii").split())
    return set(_WORD_RE.findall(lower))


def _squash(total: float) -> float:
    """The logistic score of a pattern total (``BIAS`` plus the weights that fired), to four places."""
    return round(1.0 / (1.0 + math.exp(-total)), 4)


_NO_PATTERN_SCORE = _squash(BIAS)


def injection_score(text: str, *, gate: bool = True) -> InjectionScore:
    """Score ``text`` (see the module docstring); ``reasons`` lists the patterns that fired.

    ``gate=False`` runs every regex regardless of its trigger words (slower; the result must be the same).
    """
    window = _scan_window(text)
    lower = window.lower()
    order = _TRIGGERS.candidates(window, _words(lower)) if gate else range(len(_COMPILED))
    if not order:  # most texts: no pattern can fire
        return InjectionScore(_NO_PATTERN_SCORE, [])
    fired: dict[str, float] = {}
    for i in order:
        p = _COMPILED[i]
        if p.name not in fired and p.fires(window, lower):
            fired[p.name] = p.weight
    strongest_first = sorted(fired, key=lambda name: (-fired[name], name))
    return InjectionScore(_squash(BIAS + sum(fired.values())), strongest_first)


def injection_metrics(rows: Iterable[dict], threshold: float = DEFAULT_THRESHOLD) -> dict:
    """Precision, recall and F1 of ``injection_score(text) >= threshold`` over rows ``{"text", "label"}``.

    ``label`` is ``"injection"`` (positive) or ``"benign"`` (or 1/0/True/False). Returns ``{"precision",
    "recall", "f1", "tp", "fp", "fn", "tn", "n"}``; a ratio with an empty denominator is 0.0.
    """
    tp = fp = fn = tn = 0
    for row in rows:
        label = row["label"]
        positive = label == "injection" if isinstance(label, str) else bool(label)
        predicted = injection_score(row["text"]).score >= threshold
        tp += positive and predicted
        fp += (not positive) and predicted
        fn += positive and not predicted
        tn += not positive and not predicted
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "tp": tp, "fp": fp, "fn": fn, "tn": tn, "n": tp + fp + fn + tn}
