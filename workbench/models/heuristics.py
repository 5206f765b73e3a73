"""Offline heuristic "models": deterministic stand-ins for an LLM, with no network and no weights.

These are **heuristics**, not language models, and they are named as such everywhere they surface. They do honest
lexical work on the prompt they are given, so an offline pipeline produces answers whose quality can be measured
(and differs between tiers), with real token counts:

- ``extractive``: finds the question and the context in the prompt, scores each context sentence with BM25 plus a
  bonus when the sentence holds the kind of entity the question asks for (a year for "when", a number for
  "how many", a name for "who"), and answers with the best sentence verbatim, or with ``REFUSAL`` when the
  question's words are mostly absent. Without a question it summarises: the 3 most central sentences.
- ``keyword``: a deliberately weaker tier: the context sentence sharing the most words with the question (raw
  overlap: no IDF weighting, no answer-type bonus, refusal only when no word is shared).
- ``judge``: an LLM-as-judge stand-in: token F1 against the reference and word support in the context; JSON verdict.
- ``drafter``: turns informative sentences of a document into cloze-style questions; JSON list.

``respond(model, messages, response_format)`` is the one entry point; ``workbench.models.offline`` binds it to
litellm as the ``local/`` provider. Prompt parsing lives in ``_parse`` and the text helpers below it.
"""
from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from ..errors import UnknownModelError
from .._util.lexical import STOPWORDS, WORD_RE, bm25_scores, idf, stem, terms

REFUSAL = "The answer is not in the context."
"""What ``extractive`` and ``keyword`` reply when the context does not hold the answer (detect refusals with it)."""
ACKNOWLEDGEMENT = "Ready: give me a context and a question, and I will answer from the context (offline heuristic)."
"""What ``extractive`` and ``keyword`` reply to a prompt with neither a question nor a context."""

OFFLINE_MODELS: dict[str, str] = {
    "extractive": "heuristic: BM25 sentence extraction from the given context, with an answer-type bonus "
                  "(offline, deterministic)",
    "keyword": "heuristic: the context sentence with the most words in common with the question; a weaker tier "
            "(offline, deterministic)",
    "judge": "heuristic: lexical judge, token F1 against the reference and word support in the context; "
             "JSON verdict (offline, deterministic)",
    "drafter": "heuristic: turns informative document sentences into cloze-style questions; JSON list "
               "(offline, deterministic)",
}
"""The offline models, ``name -> one-line description`` (a constant); call them as ``local/<name>``."""

ENTITY_BONUS = 1.0
"""Added to a sentence's BM25 score when it holds the entity type the question asks for."""
MIN_COVERAGE = 0.4
"""Below this idf-weighted share of the question's words in any one sentence, the answer is a refusal."""
PASS_MARK = 0.5

_BOUNDARY_RE = re.compile(r"([.!?]+[\"'\u201d\u2019)\]]*)\s+(?=[\"'\u201c\u2018(\[]?[A-Z0-9])")
_ABBREV_RE = re.compile(r"(?:^|\s)(?:mr|mrs|ms|dr|st|prof|sr|jr|vs|etc|e\.g|i\.e|inc|ltd|co|fig|approx|u\.s|[a-z])\.$",
                        re.IGNORECASE)
_ITEM_RE = re.compile(r"^(?:\[\d+\]|\d+[.)]|[-*\u2022]|#{1,6})\s+")
_ANY_TAG_RE = re.compile(r"</?[a-zA-Z][^>\n]*>")

_LABEL_ALIASES: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "question": ("question", "q", "query", "user question"),
    "context": ("context", "contexts", "documents", "document", "passage", "passages", "sources", "text",
                "article", "excerpt", "retrieved context"),
    "answer": ("answer", "model answer", "candidate answer", "response", "model response", "submission",
               "prediction", "generated answer"),
    "reference": ("reference", "references", "reference answer", "expected", "expected answer", "expected output",
                  "gold", "gold answer", "ground truth", "ideal answer", "correct answer"),
    "rubric": ("rubric", "criteria", "grading criteria"),
    "instructions": ("instructions", "instruction", "task"),
})
_LABEL_KIND: Mapping[str, str] = MappingProxyType(
    {alias: kind for kind, aliases in _LABEL_ALIASES.items() for alias in aliases})
_LABEL_ALT = "|".join(re.escape(a).replace(r"\ ", r"\s+") for a in sorted(_LABEL_KIND, key=len, reverse=True))
_LABEL_RE = re.compile(
    r"^[ \t]*(?:#{1,6}[ \t]*)?\**[ \t]*(" + _LABEL_ALT + r")(?:[ \t]+\d+)?\**[ \t]*(?::\**[ \t]*(.*?))?[ \t]*$",
    re.IGNORECASE | re.MULTILINE)
_TAG_ALT = "|".join(a for a in sorted(_LABEL_KIND, key=len, reverse=True) if " " not in a)
_TAG_RE = re.compile(r"<(" + _TAG_ALT + r"|docs?)\b[^>]*>(.*?)</\1\s*>", re.IGNORECASE | re.DOTALL)

_SOURCE_HEADER_RE = re.compile(r"^\[[^\]\n]{1,200}\]$")
"""A ``[source — section]`` line that heads a retrieved chunk: a label, not a sentence of the context."""
_SUMMARY_RE = re.compile(r"summar|tl;?\s?dr|key points|main points", re.IGNORECASE)
_REFUSAL_RE = re.compile(
    r"not in the (?:provided |given )?context|(?:cannot|can't|unable to|could not|couldn't) (?:find|answer|determine)"
    r"|(?:don't|do not) know|no (?:information|mention)|not (?:mentioned|stated|provided|specified)"
    r"|insufficient information|unanswerable", re.IGNORECASE)
_NUMBER_WORDS = (r"two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|sixty"
                 r"|seventy|eighty|ninety|hundred|thousand|million|billion|dozen")
_YEAR_RE = re.compile(r"\b(?:1[5-9]\d\d|20\d\d)s?\b")
_DATE_RE = re.compile(
    r"\b(?:1[5-9]\d\d|20\d\d)s?\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b|\bcentury\b|\b\d{1,2}(?::\d\d)\s*(?:am|pm)?\b"
    r"|\b(?:January|February|March|April|May|June|July|August|September|October|November|December)\b"
    r"|\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b")
_NUMBER_RE = re.compile(r"\d|\b(?:one|" + _NUMBER_WORDS + r")\b", re.IGNORECASE)
_MONEY_RE = re.compile(r"[$\u20ac\u00a3]\s?\d[\d,]*(?:\.\d+)?(?:\s(?:million|billion|thousand))?")
_PERCENT_RE = re.compile(r"\b\d+(?:\.\d+)?\s?(?:%|percent\b)")
_COUNT_RE = re.compile(r"\b\d[\d,]*(?:\.\d+)?\b|\b(?:" + _NUMBER_WORDS + r")\b", re.IGNORECASE)
_FIRST_NUMBER_RE = re.compile(r"-?\d[\d,]*(?:\.\d+)?")
_REASON_RE = re.compile(r"\b(?:because|due to|since|so that|in order to|as a result|caused by|owing to)\b", re.IGNORECASE)
_CAPWORD_RE = re.compile(r"\b[A-Z][A-Za-z'\u2019-]+")
_NAME_SPAN_RE = re.compile(r"(?<=\s)(?:[A-Z][a-z'\u2019-]+|[A-Z]\.)(?:\s(?:[A-Z][a-z'\u2019-]+|[A-Z]\.|of|de|van))*"
                           r"(?<![a-z]\sof)(?<!\sde)(?<!\svan)")
_DEFINITION_RE = re.compile(r"^(?P<subj>[A-Z][^,;:]{1,60}?)\s+(?P<verb>is|are|means|refers to)\s+(?P<pred>.{3,})$")
_COUNT_ASK_RE = re.compile(r"\b(\d+|" + _NUMBER_WORDS + r"|one)\s+(?:\w+\s+){0,2}questions?\b", re.IGNORECASE)
_DRAFT_INSTRUCTION_RE = re.compile(r"\b(?:questions?|quiz)\b|^(?:write|generate|draft|create|produce|make|give|list)\b",
                                   re.IGNORECASE)
_QUESTION_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("number", re.compile(r"\bhow (?:many|much|long|old|far|big|tall|often|large)\b"
                          r"|\bwhat (?:number|percentage|percent|price|amount)\b|\bcost\b", re.IGNORECASE)),
    ("date", re.compile(r"^\s*when\b|\bwhen (?:did|was|were|is|will|do|does|has|had)\b"
                        r"|\b(?:what|which) (?:year|date|day|month|time|century)\b", re.IGNORECASE)),
    ("name", re.compile(r"\bwho(?:m|se)?\b|\bwhich (?:person|company|organi[sz]ation|team|author)\b", re.IGNORECASE)),
    ("place", re.compile(r"\bwhere\b|\b(?:what|which) (?:city|country|place|town|state|region)\b", re.IGNORECASE)),
    ("reason", re.compile(r"\bwhy\b", re.IGNORECASE)),
)
_WORD_NUMBERS: Mapping[str, str] = MappingProxyType({w: str(i) for i, w in enumerate(
    ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"])})


# ---------------------------------------------------------------- text helpers

def _split_sentences(paragraph: str) -> list[str]:
    """Sentence split at ``. ! ?`` followed by a capital or digit, not after common abbreviations or initials."""
    out: list[str] = []
    start = 0
    for m in _BOUNDARY_RE.finditer(paragraph):
        piece = paragraph[start:m.end(1)].strip()
        if _ABBREV_RE.search(piece[-12:]):
            continue
        out.append(piece)
        start = m.end()
    tail = paragraph[start:].strip()
    return out + [tail] if tail else out


def _is_heading(line: str) -> bool:
    return len(line.split()) <= 6 and not line.endswith((".", "!", "?", ",", ";", ":"))


def _blocks(text: str) -> list[str]:
    """Paragraphs: split at blank lines, list items, numbered documents (``[1] ...``) and heading-like lines."""
    blocks: list[list[str]] = [[]]
    for raw in _ANY_TAG_RE.sub("\n", text).splitlines():
        line = raw.strip()
        item = _ITEM_RE.match(line)
        if item or not line or (blocks[-1] and _is_heading(blocks[-1][-1])):
            blocks.append([])
        if item:
            line = line[item.end():]
        if line:
            blocks[-1].append(line)
    return [" ".join(b) for b in blocks if b]


def sentences(text: str) -> list[str]:
    """The sentences of ``text`` (whitespace-normalised), in order; the unit every heuristic here works on."""
    return [s for block in _blocks(text) for s in _split_sentences(block) if WORD_RE.search(s.lower())]


def is_refusal(text: str) -> bool:
    """Whether ``text`` declines to answer (``REFUSAL`` or a common paraphrase of it)."""
    return bool(_REFUSAL_RE.search(text))


# ---------------------------------------------------------------- prompt parsing

@dataclass(frozen=True)
class _Prompt:
    """A chat prompt, taken apart: labelled parts, the last user message, the other messages."""

    parts: Mapping[str, tuple[str, ...]]
    """Labelled parts by kind (question, context, answer, reference, rubric, instructions), tags first."""
    last_user: str
    """Text of the last user message."""
    last_user_labelled: bool
    """Whether the last user message has labels or tags (so its free text is instructions, not context)."""
    others: tuple[str, ...]
    """Texts of every other message, in order."""

    @property
    def full(self) -> str:
        return "\n\n".join((*self.others, self.last_user))

    def first(self, kind: str) -> str | None:
        found = [t for t in self.parts.get(kind, ()) if t.strip()]
        return found[-1].strip() if found else None


def _content_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return str(content)


def _labelled_parts(text: str) -> tuple[dict[str, list[str]], bool]:
    """Tagged blocks (``<context>...</context>``, ``<document ...>``) and labelled sections (``Question:``)."""
    out: dict[str, list[str]] = {}
    tags = list(_TAG_RE.finditer(text))
    for m in tags:
        kind = _LABEL_KIND.get(m.group(1).lower(), "context")
        out.setdefault(kind, []).append(_ANY_TAG_RE.sub("\n", m.group(2)).strip())
    rest = _TAG_RE.sub("\n", text)
    labels = list(_LABEL_RE.finditer(rest))
    for m, nxt in zip(labels, labels[1:] + [None]):
        end = nxt.start() if nxt else len(rest)
        body = ((m.group(2) or "") + "\n" + rest[m.end():end]).strip()
        kind = _LABEL_KIND[" ".join(m.group(1).lower().split())]
        if body:
            out.setdefault(kind, []).append(body)
    return out, bool(tags or labels)


def _parse(messages: list[dict[str, Any]]) -> _Prompt:
    texts = [(str(m.get("role", "user")), _content_text(m.get("content"))) for m in messages]
    last = max((i for i, (role, _) in enumerate(texts) if role == "user"), default=len(texts) - 1)
    parts: dict[str, list[str]] = {}
    last_labelled = False
    for i, (_, text) in enumerate(texts):
        found, labelled = _labelled_parts(text)
        for kind, bodies in found.items():
            parts.setdefault(kind, []).extend(bodies)
        last_labelled = labelled if i == last else last_labelled
    return _Prompt(parts=MappingProxyType({k: tuple(v) for k, v in parts.items()}),
                   last_user=texts[last][1] if texts else "", last_user_labelled=last_labelled,
                   others=tuple(t for i, (_, t) in enumerate(texts) if i != last and t.strip()))


def _question(p: _Prompt) -> str | None:
    """The labelled question, else the last sentence of the last user message that ends with '?'."""
    labelled = p.first("question")
    if labelled:
        return " ".join(labelled.split())
    return next((s for s in reversed(sentences(p.last_user)) if s.endswith("?")), None)


def _context_sentences(p: _Prompt, question: str | None) -> list[str]:
    """Context sentences: labelled/tagged context, else the other messages and the unlabelled user text."""
    texts = list(p.parts.get("context", ()))
    if not texts:
        texts = [*p.others, *([] if p.last_user_labelled else [p.last_user])]
    found = [s for t in texts for s in sentences(t) if s != question and not _SOURCE_HEADER_RE.match(s)]
    if question is None:
        found = [s for s in found if not _SUMMARY_RE.search(s)]
    return [s for s in found if len(s.split()) >= 3] or found


# ---------------------------------------------------------------- extractive and keyword

@dataclass(frozen=True)
class _Answer:
    text: str
    evidence: str = ""
    found: bool = False
    confidence: float = 0.0


def _question_kind(question: str) -> str | None:
    return next((kind for kind, rx in _QUESTION_KINDS if rx.search(question)), None)


def _names(text: str, skip_first: bool = True) -> list[str]:
    """Capitalised words of ``text`` that are not stopwords (the first word of a sentence skipped)."""
    found = [m for m in _CAPWORD_RE.finditer(text) if not (skip_first and m.start() == 0)]
    return [m.group(0) for m in found if m.group(0).lower() not in STOPWORDS]


def _has_entity(kind: str | None, sentence: str, q_terms: set[str]) -> bool:
    """Whether ``sentence`` holds the entity type a question of ``kind`` asks for."""
    if kind == "date":
        return bool(_DATE_RE.search(sentence))
    if kind == "number":
        return bool(_NUMBER_RE.search(sentence))
    if kind in ("name", "place"):
        return any(stem(n.lower()) not in q_terms for n in _names(sentence))
    if kind == "reason":
        return bool(_REASON_RE.search(sentence))
    return False


def _missing_names(question: str, docs: list[list[str]]) -> bool:
    """True when a name in the question (a capitalised word after the first) appears nowhere in the context."""
    vocabulary = {t for d in docs for t in d}
    return any(stem(n.lower()) not in vocabulary for n in _names(question) if len(n) > 1)


def _extract(question: str, context: list[str]) -> _Answer:
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
        return _Answer(REFUSAL, confidence=round(1 - coverage, 2))
    kind, term_set = _question_kind(question), set(q_terms)
    scores = [s + (ENTITY_BONUS if s > 0 and _has_entity(kind, sent, term_set) else 0.0)
              for s, sent in zip(bm25_scores(q_terms, docs, weights), context)]
    best = max(range(len(context)), key=lambda i: (scores[i], -i))
    return _Answer(context[best], context[best], True, round(coverage, 2))


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


def _answer_extractive(p: _Prompt) -> _Answer:
    question = _question(p)
    context = _context_sentences(p, question)
    if question is None:
        wants_summary = bool(p.parts.get("context")) or bool(_SUMMARY_RE.search(p.full))
        if context and wants_summary:
            summary = _centrality_summary(context)
            return _Answer(summary, context[0], True, 1.0)
        return _Answer(ACKNOWLEDGEMENT)
    return _extract(question, context) if context else _Answer(REFUSAL, confidence=1.0)


def _answer_keyword(p: _Prompt) -> _Answer:
    """The weaker tier: the sentence sharing the most content words with the question (raw overlap: no IDF, no
    answer-type bonus, no refusal threshold beyond "no word in common"); summaries are the first two sentences."""
    question = _question(p)
    context = _context_sentences(p, question)
    if question is None:
        wants_summary = bool(p.parts.get("context")) or bool(_SUMMARY_RE.search(p.full))
        return _Answer(" ".join(context[:2]), context[0], True, 1.0) if context and wants_summary \
            else _Answer(ACKNOWLEDGEMENT)
    q_terms = set(terms(question))
    overlaps = [len(q_terms & set(terms(s))) for s in context]
    best = max(range(len(context)), key=lambda i: (overlaps[i], -i), default=None)
    hit = context[best] if best is not None and overlaps[best] else None
    return _Answer(hit, hit, True, 0.5) if hit else _Answer(REFUSAL, confidence=0.5)


# ---------------------------------------------------------------- structured output

_ROLES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"quote|evidence|source|support|citation|span|passage|context|sentence"), "evidence"),
    (re.compile(r"reason|explanation|rationale|justification|comment"), "reason"),
    (re.compile(r"verdict|label|grade|decision"), "verdict"),
    (re.compile(r"score|confidence|rating|probability"), "score"),
    (re.compile(r"found|answerable|pass|correct|success|valid|has_"), "found"),
)


def _role(name: str) -> str:
    """Which value a schema property takes, from its name (default: the answer)."""
    return next((role for rx, role in _ROLES if rx.search(name.lower())), "answer")


def _schema_of(response_format: Any) -> tuple[bool, dict[str, Any] | None]:
    """(whether JSON is wanted, the JSON schema if one was given) from an OpenAI-style ``response_format``."""
    if isinstance(response_format, type) and hasattr(response_format, "model_json_schema"):
        return True, response_format.model_json_schema()
    if not isinstance(response_format, dict):
        return False, None
    kind = response_format.get("type")
    if kind == "json_schema":
        spec = response_format.get("json_schema") or response_format.get("schema") or {}
        schema = spec.get("schema", spec) if isinstance(spec, dict) else None
        return True, schema or None
    if kind == "json_object" or "schema" in response_format:
        return True, response_format.get("schema") or None
    return False, None


def _resolve(schema: Any, defs: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(schema, dict):
        return {}
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(("#/$defs/", "#/definitions/")):
        return _resolve(defs.get(ref.rsplit("/", 1)[-1], {}), defs)
    return schema


def _number(schema: dict[str, Any], values: Mapping[str, Any], name: str) -> float:
    if _role(name) == "score" and isinstance(values.get("score"), (int, float)):
        x = float(values["score"])
    else:
        m = _FIRST_NUMBER_RE.search(str(values.get("answer", "")).replace(",", ""))
        x = float(m.group(0)) if m else 0.0
    lo, hi = schema.get("minimum"), schema.get("maximum")
    return min(max(x, lo if lo is not None else x), hi if hi is not None else x)


def _fill(schema: Any, values: Mapping[str, Any], name: str, defs: Mapping[str, Any], depth: int = 0) -> Any:
    """A value that validates against ``schema``, filled from ``values`` by property name and type."""
    s = _resolve(schema, defs)
    if "const" in s:
        return s["const"]
    if "enum" in s:
        wanted = values.get(_role(name))
        return wanted if wanted in s["enum"] else s["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if s.get(key):
            options = [o for o in s[key] if _resolve(o, defs).get("type") != "null"] or s[key]
            return _fill(options[0], values, name, defs, depth + 1)
    kind = s.get("type", "object" if "properties" in s else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" and depth < 8:
        props = s.get("properties") or {}
        out = {k: _fill(v, values, k, defs, depth + 1) for k, v in props.items()}
        out.update({r: str(values.get("answer", "")) for r in s.get("required", ()) if r not in out})
        return out or {"answer": values.get("answer", "")}
    if kind == "array":
        return [_fill(s.get("items", {}), values, name, defs, depth + 1)]
    if kind in ("number", "integer"):
        x = _number(s, values, name)
        return round(x) if kind == "integer" else x
    if kind == "boolean":
        return bool(values.get("found"))
    if kind == "null":
        return None
    text = str(values.get(_role(name), values.get("answer", "")))
    return text[: s["maxLength"]] if isinstance(s.get("maxLength"), int) else text


def _render(values: Mapping[str, Any], response_format: Any, plain: str | None) -> str:
    """The reply text: ``plain`` when no JSON was asked for, else JSON (schema-filled when a schema was given)."""
    wanted, schema = _schema_of(response_format)
    if not wanted and plain is not None:
        return plain
    if schema:
        data = _fill(schema, values, "answer", {**schema.get("definitions", {}), **schema.get("$defs", {})})
    else:
        data = {"answer": values["answer"]} if plain is not None else values["json"]
    return json.dumps(data, ensure_ascii=False)


def _qa_reply(answer: _Answer, response_format: Any) -> str:
    reason = "heuristic: best-matching context sentence" if answer.found else "heuristic: no supporting sentence"
    values = {"answer": answer.text, "evidence": answer.evidence, "found": answer.found,
              "score": answer.confidence, "reason": reason, "verdict": "answered" if answer.found else "refused"}
    return _render(values, response_format, answer.text)


# ---------------------------------------------------------------- judge

def _token_f1(pred: str, gold: str, drop: set[str]) -> float:
    """Token F1 of content words, ignoring words the question already contains (unless nothing else is left)."""
    p = [t for t in terms(pred) if t not in drop] or terms(pred)
    g = [t for t in terms(gold) if t not in drop] or terms(gold)
    common = sum((Counter(p) & Counter(g)).values())
    if not common:
        return 0.0
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


def _support(answer: str, context: str) -> float:
    """Share of the answer's content words that occur in the context."""
    words, vocabulary = terms(answer), set(terms(context))
    return sum(w in vocabulary for w in words) / len(words) if words else 0.0


def _grade_with_reference(answer: str, refs: list[str], drop: set[str], context: str) -> tuple[float, str]:
    if any(is_refusal(r) for r in refs):
        match, how = (1.0, "both decline") if is_refusal(answer) else (0.0, "the reference declines, the answer does not")
    elif is_refusal(answer):
        match, how = 0.0, "the answer declines but the reference answers"
    else:
        match = max(_token_f1(answer, r, drop) for r in refs)
        how = f"token F1 {match:.2f} against the reference (question words ignored)"
    if context and not is_refusal(answer):
        support = _support(answer, context)
        return 0.8 * match + 0.2 * support, f"{how}, {support:.0%} of answer words found in the context"
    return match, how


def _grade_with_context(answer: str, question: str, context: str) -> tuple[float, str]:
    """No reference: compare with the context sentence the extractive heuristic would pick (a silver reference)."""
    silver = _extract(question, sentences(context)) if question else _Answer(REFUSAL)
    if is_refusal(answer):
        score = 0.2 if silver.found else 0.8
        return score, "the answer declines and the context " + ("seems to" if silver.found else "does not") + \
            " hold the question's words"
    support = _support(answer, context)
    match = _token_f1(answer, silver.text, set(terms(question))) if silver.found else 0.0
    return 0.6 * match + 0.4 * support, (f"no reference: token F1 {match:.2f} against the best-matching context "
                                         f"sentence, {support:.0%} of answer words found in the context")


def _judge_values(p: _Prompt) -> dict[str, Any]:
    """Lexical grading of ``Answer:`` against ``Reference:`` and/or ``Context:``; a heuristic, not a reader."""
    answer, question = p.first("answer"), p.first("question") or ""
    refs = [r.strip() for block in p.parts.get("reference", ()) for r in re.split(r"\n|\|", block) if r.strip()]
    context = "\n".join(p.parts.get("context", ()))
    if answer is None:
        score, reason = 0.0, "no Answer: part was found in the prompt"
    elif refs:
        score, reason = _grade_with_reference(answer, refs, set(terms(question)), context)
    elif context:
        score, reason = _grade_with_context(answer, question, context)
    else:
        overlap = _support(question, answer) if question else 0.0
        score, reason = overlap, f"no reference or context: {overlap:.0%} of question words appear in the answer"
    if p.first("rubric"):
        reason += "; the rubric is not applied by this lexical heuristic"
    score = round(min(max(score, 0.0), 1.0), 2)
    verdict = "pass" if score >= PASS_MARK else "fail"
    return {"score": score, "verdict": verdict, "reason": reason[0].upper() + reason[1:] + "."}


def _judge_reply(p: _Prompt, response_format: Any) -> str:
    v = _judge_values(p)
    values = {**v, "answer": v["verdict"], "found": v["verdict"] == "pass", "evidence": v["reason"], "json": v}
    return _render(values, response_format, None)


# ---------------------------------------------------------------- drafter

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
    return (2 * bool(_NUMBER_RE.search(sentence)) + bool(_names(sentence))
            + bool(_DEFINITION_RE.match(sentence.rstrip(" .!"))))


def _requested_count(text: str, default: int = 5) -> int:
    m = _COUNT_ASK_RE.search(text)
    if not m:
        return default
    word = m.group(1).lower()
    return max(1, min(50, int(_WORD_NUMBERS.get(word, word)) if (word.isdigit() or word in _WORD_NUMBERS)
                      else default))


def _drafter_reply(p: _Prompt, response_format: Any) -> str:
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
    wanted, _ = _schema_of(response_format)
    return json.dumps({"questions": items} if wanted else items, ensure_ascii=False)


# ---------------------------------------------------------------- entry point

_HANDLERS: Mapping[str, Callable[[_Prompt, Any], str]] = MappingProxyType({
    "extractive": lambda p, rf: _qa_reply(_answer_extractive(p), rf),
    "keyword": lambda p, rf: _qa_reply(_answer_keyword(p), rf),
    "judge": _judge_reply,
    "drafter": _drafter_reply,
})


def respond(model: str, messages: list[dict[str, Any]], response_format: dict[str, Any] | None = None) -> str:
    """The reply of offline heuristic ``model`` (the part after ``local/``) to a chat prompt; deterministic."""
    name = model.removeprefix("local/")
    handler = _HANDLERS.get(name)
    if handler is None:
        known = ", ".join(f"local/{m}" for m in OFFLINE_MODELS)
        raise UnknownModelError(f"unknown offline model {model!r}; the offline models are: {known}",
                                hint="use one of the local/ models listed, or a provider model such as openai/...")
    return handler(_parse(messages), response_format)
