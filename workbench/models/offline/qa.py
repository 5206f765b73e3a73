"""The question-answering heuristics ``extractive`` and ``keyword``: one job, answering from the given context.

``extractive`` scores each context sentence with BM25 plus an answer-type bonus and answers with the best one
verbatim (or ``REFUSAL``); without a question it summarises by centrality. ``keyword`` is the deliberately weaker
tier (raw word overlap). ``qa_reply`` renders either answer as plain text or as structured JSON.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from ..._util.lexical import bm25_scores, idf, stem, terms
from .parsing import NUMBER_RE, SUMMARY_RE, Prompt, context_sentences, names, question_of
from .structured import render

REFUSAL = "The answer is not in the context."
"""What ``extractive`` and ``keyword`` reply when the context does not hold the answer (detect refusals with it)."""
ACKNOWLEDGEMENT = "Ready: give me a context and a question, and I will answer from the context (offline heuristic)."
"""What ``extractive`` and ``keyword`` reply to a prompt with neither a question nor a context."""

ENTITY_BONUS = 1.0
"""Added to a sentence's BM25 score when it holds the entity type the question asks for."""
MIN_COVERAGE = 0.4
"""Below this idf-weighted share of the question's words in any one sentence, the answer is a refusal."""

_DATE_RE = re.compile(
    r"\b(?:1[5-9]\d\d|20\d\d)s?\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b|\bcentury\b|\b\d{1,2}(?::\d\d)\s*(?:am|pm)?\b"
    r"|\b(?:January|February|March|April|May|June|July|August|September|October|November|December)\b"
    r"|\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b")
_REASON_RE = re.compile(r"\b(?:because|due to|since|so that|in order to|as a result|caused by|owing to)\b", re.IGNORECASE)
_QUESTION_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("number", re.compile(r"\bhow (?:many|much|long|old|far|big|tall|often|large)\b"
                          r"|\bwhat (?:number|percentage|percent|price|amount)\b|\bcost\b", re.IGNORECASE)),
    ("date", re.compile(r"^\s*when\b|\bwhen (?:did|was|were|is|will|do|does|has|had)\b"
                        r"|\b(?:what|which) (?:year|date|day|month|time|century)\b", re.IGNORECASE)),
    ("name", re.compile(r"\bwho(?:m|se)?\b|\bwhich (?:person|company|organi[sz]ation|team|author)\b", re.IGNORECASE)),
    ("place", re.compile(r"\bwhere\b|\b(?:what|which) (?:city|country|place|town|state|region)\b", re.IGNORECASE)),
    ("reason", re.compile(r"\bwhy\b", re.IGNORECASE)),
)


@dataclass(frozen=True)
class Answer:
    """A QA heuristic's answer: the text, the sentence supporting it, whether one was found, and a confidence."""

    text: str
    evidence: str = ""
    found: bool = False
    confidence: float = 0.0


def _question_kind(question: str) -> str | None:
    return next((kind for kind, rx in _QUESTION_KINDS if rx.search(question)), None)


def _has_entity(kind: str | None, sentence: str, q_terms: set[str]) -> bool:
    """Whether ``sentence`` holds the entity type a question of ``kind`` asks for."""
    if kind == "date":
        return bool(_DATE_RE.search(sentence))
    if kind == "number":
        return bool(NUMBER_RE.search(sentence))
    if kind in ("name", "place"):
        return any(stem(n.lower()) not in q_terms for n in names(sentence))
    if kind == "reason":
        return bool(_REASON_RE.search(sentence))
    return False


def _missing_names(question: str, docs: list[list[str]]) -> bool:
    """True when a name in the question (a capitalised word after the first) appears nowhere in the context."""
    vocabulary = {t for d in docs for t in d}
    return any(stem(n.lower()) not in vocabulary for n in names(question) if len(n) > 1)


def extract(question: str, context: list[str]) -> Answer:
    """BM25 + answer-type bonus over the context sentences; refusal when the question's words are mostly absent."""
    q_terms = list(dict.fromkeys(terms(question)))
    docs = [terms(s) for s in context]
    weights = idf(q_terms, docs)
    present = sorted(w for t, w in weights.items() if any(t in d for d in docs))
    cap = present[len(present) // 2] if present else None
    if cap is not None:  # a word absent from the context counts no more than a typical word present in it
        weights = {t: w if any(t in d for d in docs) else min(w, cap) for t, w in weights.items()}
    weight = sum(weights.values())
    coverage = max((sum(weights[t] for t in set(d) & set(q_terms)) for d in docs), default=0.0) / weight if weight else 0.0
    if coverage < MIN_COVERAGE or _missing_names(question, docs):
        return Answer(REFUSAL, confidence=round(1 - coverage, 2))
    kind, term_set = _question_kind(question), set(q_terms)
    scores = [s + (ENTITY_BONUS if s > 0 and _has_entity(kind, sent, term_set) else 0.0)
              for s, sent in zip(bm25_scores(q_terms, docs, weights), context, strict=True)]
    best = max(range(len(context)), key=lambda i: (scores[i], -i))
    return Answer(context[best], context[best], True, round(coverage, 2))


def _centrality_summary(context: list[str], k: int = 3) -> str:
    """The ``k`` sentences with the highest summed TF-IDF cosine to the others, in document order."""
    if len(context) <= k:
        return " ".join(context)
    docs = [Counter(terms(s)) for s in context]
    df = Counter(t for d in docs for t in d)
    vectors = []
    for d in docs:
        v = {t: (1 + math.log(c)) * (1 + math.log(len(docs) / df[t])) for t, c in d.items()}
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        vectors.append({t: x / norm for t, x in v.items()})
    central = [sum(sum(x * w.get(t, 0.0) for t, x in v.items()) for w in vectors if w is not v) for v in vectors]
    top = sorted(sorted(range(len(context)), key=lambda i: (-central[i], i))[:k])
    return " ".join(context[i] for i in top)


def answer_extractive(p: Prompt) -> Answer:
    """The extractive tier's answer: BM25 extraction for a question (a refusal without context); without a question, a
    centrality summary of the context when one is asked for, else an acknowledgement."""
    question = question_of(p)
    context = context_sentences(p, question)
    if question is None:
        wants_summary = bool(p.parts.get("context")) or bool(SUMMARY_RE.search(p.full))
        if context and wants_summary:
            summary = _centrality_summary(context)
            return Answer(summary, context[0], True, 1.0)
        return Answer(ACKNOWLEDGEMENT)
    return extract(question, context) if context else Answer(REFUSAL, confidence=1.0)


def answer_keyword(p: Prompt) -> Answer:
    """The weaker tier: the sentence sharing the most content words with the question (raw overlap: no IDF, no
    answer-type bonus, no refusal threshold beyond "no word in common"); summaries are the first two sentences."""
    question = question_of(p)
    context = context_sentences(p, question)
    if question is None:
        wants_summary = bool(p.parts.get("context")) or bool(SUMMARY_RE.search(p.full))
        return Answer(" ".join(context[:2]), context[0], True, 1.0) if context and wants_summary \
            else Answer(ACKNOWLEDGEMENT)
    q_terms = set(terms(question))
    overlaps = [len(q_terms & set(terms(s))) for s in context]
    best = max(range(len(context)), key=lambda i: (overlaps[i], -i), default=None)
    hit = context[best] if best is not None and overlaps[best] else None
    return Answer(hit, hit, True, 0.5) if hit else Answer(REFUSAL, confidence=0.5)


def qa_reply(answer: Answer, response_format: Any) -> str:
    """The reply text of a QA answer: the answer itself, or JSON filled into the requested schema (answer, evidence,
    found, score, reason, verdict)."""
    reason = "heuristic: best-matching context sentence" if answer.found else "heuristic: no supporting sentence"
    values = {"answer": answer.text, "evidence": answer.evidence, "found": answer.found,
              "score": answer.confidence, "reason": reason, "verdict": "answered" if answer.found else "refused"}
    return render(values, response_format, answer.text)
