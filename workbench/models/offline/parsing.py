"""Prompt parsing and the text helpers of the offline heuristics: one job, turning chat messages into text parts.

``parse(messages)`` takes a chat prompt apart into labelled parts (``Question:``, ``<context>...</context>``, ...),
the last user message and the other messages (a ``Prompt``); ``question_of`` and ``context_sentences`` find the
question and the context in it. The text helpers below (``sentences``, ``is_refusal``, ``names``) and the shared
regexes are the units every heuristic of ``workbench.models.offline`` works on.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from ..._util.lexical import STOPWORDS, WORD_RE

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
SUMMARY_RE = re.compile(r"summar|tl;?\s?dr|key points|main points", re.IGNORECASE)
_REFUSAL_RE = re.compile(
    r"not in the (?:provided |given )?context|(?:cannot|can't|unable to|could not|couldn't) (?:find|answer|determine)"
    r"|(?:don't|do not) know|no (?:information|mention)|not (?:mentioned|stated|provided|specified)"
    r"|insufficient information|unanswerable", re.IGNORECASE)
NUMBER_WORDS = (r"two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|sixty"
                r"|seventy|eighty|ninety|hundred|thousand|million|billion|dozen")
NUMBER_RE = re.compile(r"\d|\b(?:one|" + NUMBER_WORDS + r")\b", re.IGNORECASE)
_CAPWORD_RE = re.compile(r"\b[A-Z][A-Za-z'\u2019-]+")


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


def names(text: str, skip_first: bool = True) -> list[str]:
    """Capitalised words of ``text`` that are not stopwords (the first word of a sentence skipped)."""
    found = [m for m in _CAPWORD_RE.finditer(text) if not (skip_first and m.start() == 0)]
    return [m.group(0) for m in found if m.group(0).lower() not in STOPWORDS]


# ---------------------------------------------------------------- prompt parsing

@dataclass(frozen=True)
class Prompt:
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
        """Every message's text, the last user message last."""
        return "\n\n".join((*self.others, self.last_user))

    def first(self, kind: str) -> str | None:
        """The last non-blank part of ``kind``, stripped (a later message overrides an earlier one); None when there is
        none."""
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
    for m, nxt in zip(labels, labels[1:] + [None], strict=False):  # pairs each label with the next
        end = nxt.start() if nxt else len(rest)
        body = ((m.group(2) or "") + "\n" + rest[m.end():end]).strip()
        kind = _LABEL_KIND[" ".join(m.group(1).lower().split())]
        if body:
            out.setdefault(kind, []).append(body)
    return out, bool(tags or labels)


def parse(messages: list[dict[str, Any]]) -> Prompt:
    """Take a chat prompt apart: the labelled parts of every message, the last user message and the others."""
    texts = [(str(m.get("role", "user")), _content_text(m.get("content"))) for m in messages]
    last = max((i for i, (role, _) in enumerate(texts) if role == "user"), default=len(texts) - 1)
    parts: dict[str, list[str]] = {}
    last_labelled = False
    for i, (_, text) in enumerate(texts):
        found, labelled = _labelled_parts(text)
        for kind, bodies in found.items():
            parts.setdefault(kind, []).extend(bodies)
        last_labelled = labelled if i == last else last_labelled
    return Prompt(parts=MappingProxyType({k: tuple(v) for k, v in parts.items()}),
                  last_user=texts[last][1] if texts else "", last_user_labelled=last_labelled,
                  others=tuple(t for i, (_, t) in enumerate(texts) if i != last and t.strip()))


def question_of(p: Prompt) -> str | None:
    """The labelled question, else the last sentence of the last user message that ends with '?'."""
    labelled = p.first("question")
    if labelled:
        return " ".join(labelled.split())
    return next((s for s in reversed(sentences(p.last_user)) if s.endswith("?")), None)


def context_sentences(p: Prompt, question: str | None) -> list[str]:
    """Context sentences: labelled/tagged context, else the other messages and the unlabelled user text."""
    texts = list(p.parts.get("context", ()))
    if not texts:
        texts = [*p.others, *([] if p.last_user_labelled else [p.last_user])]
    found = [s for t in texts for s in sentences(t) if s != question and not _SOURCE_HEADER_RE.match(s)]
    if question is None:
        found = [s for s in found if not SUMMARY_RE.search(s)]
    return [s for s in found if len(s.split()) >= 3] or found
