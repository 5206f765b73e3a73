"""The ``drafter`` heuristic: one job, turning informative sentences of a document into cloze-style questions.

The year, amount, percentage or count of a sentence (else a definition, else a name) becomes the blank; the reply
is a JSON list of ``{"question", "answer", "sentence"}`` (wrapped as ``{"questions": [...]}`` when JSON is asked
for), as many as the instructions request (5 by default).
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from .parsing import NUMBER_RE, NUMBER_WORDS, Prompt, names, sentences
from .structured import schema_of

_YEAR_RE = re.compile(r"\b(?:1[5-9]\d\d|20\d\d)s?\b")
_MONEY_RE = re.compile(r"[$\u20ac\u00a3]\s?\d[\d,]*(?:\.\d+)?(?:\s(?:million|billion|thousand))?")
_PERCENT_RE = re.compile(r"\b\d+(?:\.\d+)?\s?(?:%|percent\b)")
_COUNT_RE = re.compile(r"\b\d[\d,]*(?:\.\d+)?\b|\b(?:" + NUMBER_WORDS + r")\b", re.IGNORECASE)
_NAME_SPAN_RE = re.compile(r"(?<=\s)(?:[A-Z][a-z'\u2019-]+|[A-Z]\.)(?:\s(?:[A-Z][a-z'\u2019-]+|[A-Z]\.|of|de|van))*"
                           r"(?<![a-z]\sof)(?<!\sde)(?<!\svan)")
_DEFINITION_RE = re.compile(r"^(?P<subj>[A-Z][^,;:]{1,60}?)\s+(?P<verb>is|are|means|refers to)\s+(?P<pred>.{3,})$")
_COUNT_ASK_RE = re.compile(r"\b(\d+|" + NUMBER_WORDS + r"|one)\s+(?:\w+\s+){0,2}questions?\b", re.IGNORECASE)
_DRAFT_INSTRUCTION_RE = re.compile(r"\b(?:questions?|quiz)\b|^(?:write|generate|draft|create|produce|make|give|list)\b",
                                   re.IGNORECASE)
_WORD_NUMBERS: Mapping[str, str] = MappingProxyType({w: str(i) for i, w in enumerate(
    ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"])})


def _cloze(body: str, start: int, end: int, wh: str) -> str:
    return (body[:start] + wh + body[end:]).strip() + "?"


def _name_question(body: str) -> tuple[str, str] | None:
    m = _NAME_SPAN_RE.search(body)
    if not m:
        return None
    before = body[:m.start()].rstrip()
    prep = re.search(r"\b(in|at|near|from|by|with|to|for)$", before)
    if prep and prep.group(1) in ("in", "at", "near"):
        return _cloze(body, prep.start(), m.end(), "where"), m.group(0)
    return _cloze(body, m.start(), m.end(), "whom" if prep else "who"), m.group(0)


def _draft(sentence: str) -> dict[str, str]:
    """One cloze-style question: the year/amount/percentage/count, a definition, or a name becomes the blank."""
    body = sentence.rstrip(" .!")
    for rx, wh in ((_YEAR_RE, "what year"), (_MONEY_RE, "how much"), (_PERCENT_RE, "what percentage"),
                   (_COUNT_RE, "how many")):
        m = rx.search(body)
        if m:
            return {"question": _cloze(body, m.start(), m.end(), wh), "answer": m.group(0), "sentence": sentence}
    d = _DEFINITION_RE.match(body)
    if d and len(d.group("subj").split()) <= 8:
        subj, verb = d.group("subj"), d.group("verb")
        subj = subj[0].lower() + subj[1:] if subj.split()[0] in ("The", "A", "An") else subj
        q = f"What {verb} {subj}?" if verb in ("is", "are") else f"What does {subj} {verb.replace('means', 'mean')}?"
        return {"question": q.replace("refers to?", "refer to?"), "answer": d.group("pred"), "sentence": sentence}
    named = _name_question(body)
    if named:
        return {"question": named[0], "answer": named[1], "sentence": sentence}
    topic = " ".join(body.split()[:6])
    return {"question": f"What does the document say about {topic}?", "answer": sentence, "sentence": sentence}


def _informative(sentence: str) -> int:
    """Numbers count 2, names and definitions 1 each; 0 means not worth a question."""
    return (2 * bool(NUMBER_RE.search(sentence)) + bool(names(sentence))
            + bool(_DEFINITION_RE.match(sentence.rstrip(" .!"))))


def _requested_count(text: str, default: int = 5) -> int:
    m = _COUNT_ASK_RE.search(text)
    if not m:
        return default
    word = m.group(1).lower()
    return max(1, min(50, int(_WORD_NUMBERS.get(word, word)) if (word.isdigit() or word in _WORD_NUMBERS)
                      else default))


def drafter_reply(p: Prompt, response_format: Any) -> str:
    """The drafter's reply: a JSON list of question/answer drafts from the most informative context sentences (as many
    as the prompt asks for, default 5; under ``questions`` when JSON output was requested)."""
    docs = list(p.parts.get("context", ())) or [p.last_user]
    instructions = p.full
    for d in docs:
        instructions = instructions.replace(d, " ")
    candidates = [s for d in docs for s in sentences(d)
                  if not s.endswith("?") and 5 <= len(s.split()) <= 60 and not _DRAFT_INSTRUCTION_RE.search(s)]
    ranked = sorted((i for i, s in enumerate(candidates) if _informative(s)),
                    key=lambda i: (-_informative(candidates[i]), i))
    chosen = sorted(ranked[:_requested_count(instructions)])
    items = [_draft(candidates[i]) for i in chosen]
    wanted, _ = schema_of(response_format)
    return json.dumps({"questions": items} if wanted else items, ensure_ascii=False)
