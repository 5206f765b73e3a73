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
import string
from collections.abc import Iterable
from dataclasses import dataclass, field

from .patterns import PATTERNS

BIAS = -3.0
DEFAULT_THRESHOLD = 0.5
MAX_SCAN_CHARS = 20_000
"""Only the first and last ``MAX_SCAN_CHARS // 2`` characters of a long text are scanned."""

_WORD_RE = re.compile(r"\w+")
_ASCII_PUNCT = str.maketrans({c: " " for c in string.punctuation})
_CAPS_RE = re.compile(r"[A-ZÄÖÜ]{2,}[!.,]?\s+[A-ZÄÖÜ]{2,}")
_ASCII_CHARS = frozenset(map(chr, range(128)))


def _single_letters(text: str, prefixes: set[str]) -> int:
    """How many one-character words ``text`` holds (distinct); on ASCII text a set intersection does the count."""
    return len(prefixes & _ASCII_CHARS) if text.isascii() else sum(len(p) == 1 for p in prefixes)


_GATES = {
    "caps": lambda text, prefixes: _CAPS_RE.search(text) is not None,
    "letters": lambda text, prefixes: _single_letters(text, prefixes) >= 4,
}


@dataclass(frozen=True)
class _Pattern:
    name: str
    weight: float
    prefixes: frozenset[str]
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


@dataclass(frozen=True)
class _Triggers:
    """Which patterns each trigger can open, so a scan looks each word prefix up once instead of asking every
    pattern in turn."""

    by_prefix: dict[str, frozenset[int]]
    literals: tuple[tuple[str, int], ...]
    by_gate: dict[str, frozenset[int]]
    always: frozenset[int]

    @classmethod
    def of(cls, patterns: tuple[_Pattern, ...]) -> _Triggers:
        by_prefix: dict[str, set[int]] = {}
        by_gate: dict[str, set[int]] = {}
        for i, p in enumerate(patterns):
            for word in p.prefixes:
                by_prefix.setdefault(word, set()).add(i)
            for g in p.gates:
                by_gate.setdefault(g, set()).add(i)
        return cls({w: frozenset(ids) for w, ids in by_prefix.items()},
                   tuple((lit, i) for i, p in enumerate(patterns) for lit in p.literals),
                   {g: frozenset(ids) for g, ids in by_gate.items()},
                   frozenset(i for i, p in enumerate(patterns) if p.always))

    def candidates(self, text: str, prefixes: set[str]) -> list[int]:
        """Indexes of the patterns whose trigger occurs in ``text``, in pattern order."""
        chosen = set(self.always)
        for word in prefixes.intersection(self.by_prefix):
            chosen |= self.by_prefix[word]
        chosen.update(i for lit, i in self.literals if lit in text)
        for name, ids in self.by_gate.items():
            if not ids <= chosen and _GATES[name](text, prefixes):
                chosen |= ids
        return sorted(chosen)


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


def _word_prefixes(lower: str) -> set[str]:
    """First four characters of every word (ASCII text: a faster split that yields a superset)."""
    if lower.isascii():
        return {w[:4] for w in lower.translate(_ASCII_PUNCT).split()}
    return {w[:4] for w in _WORD_RE.findall(lower)}


def injection_score(text: str, *, gate: bool = True) -> InjectionScore:
    """Score ``text`` (see the module docstring); ``reasons`` lists the patterns that fired.

    ``gate=False`` runs every regex regardless of its trigger words (slower; the result must be the same).
    """
    window = _scan_window(text)
    lower = window.lower()
    order = _TRIGGERS.candidates(window, _word_prefixes(lower)) if gate else range(len(_COMPILED))
    fired: dict[str, float] = {}
    for i in order:
        p = _COMPILED[i]
        if p.name not in fired and p.fires(window, lower):
            fired[p.name] = p.weight
    fired_list = [(w, name) for name, w in fired.items()]
    total = BIAS + sum(fired.values())
    score = 1.0 / (1.0 + math.exp(-total))
    return InjectionScore(round(score, 4), [name for _, name in sorted(fired_list, key=lambda x: (-x[0], x[1]))])


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
