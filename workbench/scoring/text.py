"""Text rules shared by the scorers: SQuAD answer normalisation, token F1, refusal detection, output text.

SQuAD normalisation (Rajpurkar et al. 2016, the official ``evaluate-v1.1.py``): lowercase, drop punctuation, drop
the articles *a*, *an*, *the*, collapse whitespace. ``token_f1`` is the SQuAD token-overlap F1 on that form.
"""
from __future__ import annotations

import json
import re
import string
import unicodedata
from collections import Counter
from typing import Any

from ..models.offline import REFUSAL
from ..models.offline import is_refusal as _offline_is_refusal

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = str.maketrans("", "", string.punctuation + "\u2018\u2019\u201c\u201d\u2013\u2014\u2026")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
_EXTRA_REFUSALS = re.compile(
    r"\b(?:i (?:am not|'m not) (?:sure|able to)|there is no (?:information|mention)|(?:does|do|did) not (?:say|mention|specify)"
    r"|(?:doesn't|don't|didn't) (?:say|mention|specify)|no (?:relevant )?information|not (?:available|covered) in the "
    r"(?:context|documents?))\b", re.IGNORECASE)


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lowercase, no punctuation, no articles, single spaces."""
    text = unicodedata.normalize("NFKC", text).lower().translate(_PUNCT)
    return " ".join(_ARTICLES.sub(" ", text).split())


def normalize_space(text: str) -> str:
    """Case- and whitespace-normalised text (casefold, NFKC, typographic quotes made plain, single spaces)."""
    return " ".join(unicodedata.normalize("NFKC", text).translate(_QUOTES).casefold().split())


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD token F1 between two texts after ``normalize_answer``; 1.0 when both normalise to nothing."""
    pred, gold = normalize_answer(prediction).split(), normalize_answer(reference).split()
    if not pred or not gold:
        return float(pred == gold)
    common = sum((Counter(pred) & Counter(gold)).values())
    if not common:
        return 0.0
    precision, recall = common / len(pred), common / len(gold)
    return 2 * precision * recall / (precision + recall)


def is_refusal(text: str) -> bool:
    """Whether ``text`` declines to answer: the offline tier's ``REFUSAL`` ("The answer is not in the context.")
    or a common phrasing ("not in the context", "cannot find", "I don't know", "no information", ...)."""
    plain = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    return plain.strip() == REFUSAL or _offline_is_refusal(plain) or bool(_EXTRA_REFUSALS.search(plain))


def answer_text(output: Any) -> tuple[str | None, str]:
    """The answer text of an output, or ``(None, why not)``.

    A ``str`` is the answer; a ``dict`` with a string ``"answer"`` holds it (structured pipeline outputs).
    ``None``, an empty or whitespace-only string and any other type give no text, with the reason.
    """
    if output is None:
        return None, "no output (None): nothing to score"
    if isinstance(output, dict) and isinstance(output.get("answer"), str):
        output = output["answer"]
    if not isinstance(output, str):
        return None, f"output is a {type(output).__name__}, not text (a dict needs a string 'answer' field)"
    if not output.strip():
        return None, "empty output: nothing to score"
    return output, ""


def parse_json_output(output: Any) -> tuple[Any, str | None]:
    """``(value, None)`` for a dict/list output or a string holding JSON; ``(None, error)`` otherwise."""
    if isinstance(output, (dict, list)):
        return output, None
    if not isinstance(output, str):
        return None, f"output is a {type(output).__name__}, not JSON text or a dict"
    try:
        return json.loads(output), None
    except json.JSONDecodeError as e:
        return None, f"not valid JSON: {e.msg} at line {e.lineno} column {e.colno}"
