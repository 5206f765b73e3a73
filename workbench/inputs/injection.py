"""Suspected prompt injection: a weighted pattern model with a logistic squash — a heuristic, not a classifier.

Each named pattern (English, German, Spanish, plus common French/Italian/Portuguese/Croatian/Russian forms of
"forget all instructions") adds its weight when it fires; ``score = 1 / (1 + exp(-(BIAS + sum(weights))))``.
No pattern gives ``score ≈ 0.05``; one strong pattern crosses ``DEFAULT_THRESHOLD``; weak patterns need company.
The weights were set by hand on the **train** split of deepset/prompt-injections only (see ``injection_metrics``
and the README for the test-split numbers). Many of that data set's "injections" are role-play or off-topic
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
_GATES = {
    "caps": lambda text, prefixes: _CAPS_RE.search(text) is not None,
    "letters": lambda text, prefixes: sum(len(p) == 1 for p in prefixes) >= 4,
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

    def fires(self, text: str, lower: str, prefixes: set[str] | None, gates: dict[str, bool]) -> bool:
        """True when the regex matches; ``prefixes=None`` skips the trigger gate. ``gates`` caches gate results."""
        if prefixes is not None and not (self.always or not self.prefixes.isdisjoint(prefixes)
                                         or any(lit in text for lit in self.literals)
                                         or any(_gate(g, text, prefixes, gates) for g in self.gates)):
            return False
        return self.regex.search(text if self.cased else lower) is not None


def _gate(name: str, text: str, prefixes: set[str], cache: dict[str, bool]) -> bool:
    if name not in cache:
        cache[name] = _GATES[name](text, prefixes)
    return cache[name]


def _compile(name: str, weight: float, triggers: str, rx: str) -> _Pattern:
    tokens = triggers.split()
    words = frozenset(t for t in tokens if t[0] not in "=*?" and t != "CASED")
    return _Pattern(name, weight, words, tuple(t[1:] for t in tokens if t.startswith("=")),
                    tuple(t[1:] for t in tokens if t.startswith("?")), "*" in tokens, "CASED" in tokens,
                    re.compile(rx, re.MULTILINE))


_COMPILED = tuple(_compile(*p) for p in PATTERNS)


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
    prefixes = _word_prefixes(lower) if gate else None
    fired: dict[str, float] = {}
    gates: dict[str, bool] = {}
    for p in _COMPILED:
        if p.name not in fired and p.fires(window, lower, prefixes, gates):
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
