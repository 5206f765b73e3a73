"""Draft eval questions with a model, review them, and turn the reviewed ones into eval samples.

    from workbench.evalsets.drafting import draft_candidates, apply_reviews, load_reviews, coverage
    candidates = draft_candidates({"refund-policy.md": text}, n_per_doc=3)     # tier "drafter"
    decisions = load_reviews("notebooks/reviews/01_review_decisions.jsonl")   # or the review form's list
    samples = apply_reviews(candidates, decisions, documents)                 # -> list[Sample]

Offline the ``drafter`` tier is the heuristic ``local/drafter`` (cloze questions from informative sentences); with
a provider key it is a real model. Nothing here imports widgets: the review form lives in
``workbench.widgets.review``.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import DataError, WorkbenchError
from .evalset import CATEGORIES, Category, EvalSet, Sample

#: Default composition targets of an eval set (samples per category).
TARGETS: dict[str, int] = {"normal": 150, "edge": 25, "unanswerable": 20, "adversarial": 20}
ANSWER_CRITERIA = [{"scorer": "contains_any"}]
"""An answerable sample passes when the answer states one of the expected spans (a quoted sentence is fine);
token F1 is reported by experiments as a continuous score, not used to pass or fail."""
REFUSAL_CRITERIA = [{"scorer": "refusal"}]


@dataclass(frozen=True)
class Candidate:
    """One drafted question, checked against its document."""

    id: str
    """Stable id: document stem + a hash of (document, question, answer)."""
    doc_id: str
    """The document the question was drafted from."""
    question: str
    """The drafted question ("" for a failed draft)."""
    answer: str
    """The drafted answer."""
    sentence: str
    """The document sentence the drafter says holds the answer."""
    verified: bool
    """Whether both ``answer`` and ``sentence`` appear verbatim in the document."""
    error: str | None = None
    """Why the draft failed or is unverified (``None`` when it is fine)."""

    @property
    def status(self) -> str:
        """``failed`` (no question), ``ok`` (verified in the document) or ``unverified``."""
        return "failed" if not self.question else ("ok" if self.verified else "unverified")

    def to_row(self) -> dict[str, Any]:
        """The fields plus ``status``, as one row of the review table."""
        return {**asdict(self), "status": self.status}


class ReviewDecision(BaseModel):
    """A reviewer's decision on one candidate (one line of a review file)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    candidate_id: str = Field(min_length=1)
    action: Literal["accept", "edit", "reject"]
    category: Category = "normal"
    question: str = ""
    """The question to keep ("" with ``accept``: the candidate's own)."""
    expected: list[str] = Field(default_factory=list)
    """Acceptable answers ([] with ``accept``: the candidate's answer; [] for unanswerable)."""
    note: str = ""


# ---------------------------------------------------------------- drafting

def candidate_id(doc_id: str, question: str, answer: str) -> str:
    """The stable id of a draft: the document's stem and 8 hex digits of a hash of document, question and answer."""
    digest = hashlib.sha256(f"{doc_id}\n{question}\n{answer}".encode()).hexdigest()[:8]
    return f"{Path(doc_id).stem}-{digest}"


def _failed(doc_id: str, index: int, reason: str) -> Candidate:
    return Candidate(f"{Path(doc_id).stem}-failed-{index}", doc_id, "", "", "", False, reason)


def _items(text: str) -> list[Any]:
    """The list of drafts in a reply: a JSON list, ``{"questions": [...]}``, or a fenced JSON block."""
    body = text.strip()
    if body.startswith("```"):
        body = body.strip("`").removeprefix("json").strip()
    data = json.loads(body)
    if isinstance(data, dict):
        lists = [v for v in data.values() if isinstance(v, list)]
        if len(lists) != 1:
            raise ValueError("a JSON object without exactly one list of questions")
        data = lists[0]
    if not isinstance(data, list):
        raise TypeError(f"expected a JSON list, got {type(data).__name__}")
    return data


def parse_drafts(doc_id: str, document: str, reply: str) -> list[Candidate]:
    """Candidates from one drafter reply; a malformed reply or item becomes a failed candidate with the reason."""
    try:
        items = _items(reply)
    except (ValueError, TypeError) as e:  # json.JSONDecodeError is a ValueError
        return [_failed(doc_id, 0, f"malformed drafter reply ({e}): {reply[:120]!r}")]
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("question"), str) or not item["question"].strip():
            out.append(_failed(doc_id, i, f"draft {i} has no question: {str(item)[:120]!r}"))
            continue
        question = item["question"].strip()
        answer = str(item.get("answer") or "").strip()
        sentence = str(item.get("sentence") or "").strip()
        missing = [name for name, value in (("answer", answer), ("sentence", sentence))
                   if not value or value not in document]
        error = f"{' and '.join(missing)} not found verbatim in the document" if missing else None
        out.append(Candidate(candidate_id(doc_id, question, answer), doc_id, question, answer, sentence,
                             not missing, error))
    if not out:
        out.append(_failed(doc_id, 0, "the drafter returned no questions"))
    return out


def draft_candidates(documents: Mapping[str, str], n_per_doc: int = 3, tier: str = "drafter",
                     prompt: str = "draft_questions", **complete_kw: Any) -> list[Candidate]:
    """Ask ``tier`` for ``n_per_doc`` questions per document (prompt ``prompt``); never drops a failure."""
    from ..models import complete
    from ..prompts import load_prompt

    template = load_prompt(prompt)
    out: list[Candidate] = []
    for doc_id, text in documents.items():
        try:
            reply = complete(template.render({"document": text, "n": str(n_per_doc)}), tier=tier, **complete_kw).text
        except WorkbenchError as e:
            out.append(_failed(doc_id, 0, f"model call failed: {e}"))
            continue
        out.extend(parse_drafts(doc_id, text, reply)[:max(n_per_doc, 1)])
    return out


# ---------------------------------------------------------------- reviews

def save_reviews(path: str | Path, decisions: Iterable[ReviewDecision]) -> Path:
    """Write decisions as JSONL (one per line, in order)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(d.model_dump(mode="json"), ensure_ascii=False) + "\n" for d in decisions),
                    encoding="utf-8")
    return path


def load_reviews(path: str | Path) -> list[ReviewDecision]:
    """Read a review file; a bad line is a ``DataError`` naming the line and field."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"cannot read review file: {e}", path=path) from None
    out = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            out.append(ReviewDecision(**json.loads(line)))
        except json.JSONDecodeError as e:
            raise DataError(f"not valid JSON: {e.msg}", path=path, line=n) from None
        except (ValidationError, TypeError) as e:
            err = e.errors()[0] if isinstance(e, ValidationError) else {"msg": str(e), "loc": ()}
            raise DataError(err["msg"], path=path, line=n, field=".".join(map(str, err["loc"])) or None) from None
    return out


def latest_decisions(decisions: Iterable[ReviewDecision]) -> dict[str, ReviewDecision]:
    """The last decision per candidate (a reviewer who goes Back and decides again overrides the first)."""
    return {d.candidate_id: d for d in decisions}


def distractor_ids(doc_id: str, names: Iterable[str], n: int = 2) -> list[str]:
    """``n`` other documents, chosen deterministically from ``doc_id`` (the eval-set generator's rule)."""
    others = sorted((x for x in names if x != doc_id),
                    key=lambda x: hashlib.sha256((doc_id + x).encode()).hexdigest())
    return others[:n]


def _criteria(expected: list[str]) -> list[dict[str, Any]]:
    return [dict(c) for c in (ANSWER_CRITERIA if expected else REFUSAL_CRITERIA)]


def apply_reviews(candidates: Iterable[Candidate], decisions: Iterable[ReviewDecision],
                  documents: Mapping[str, str], *, strict: bool = True, id_prefix: str = "draft-",
                  n_distractors: int = 2) -> list[Sample]:
    """Samples for the accepted and edited candidates (last decision per candidate wins), in candidate order.

    Each sample holds the source document plus ``n_distractors`` others. A decision for an unknown candidate is
    a ``DataError`` when ``strict`` (the review file belongs to another drafting run); otherwise it is skipped.
    ``metadata.verified`` says whether every expected answer appears verbatim in the source document.
    """
    by_id = {c.id: c for c in candidates}
    latest = latest_decisions(decisions)
    unknown = sorted(set(latest) - set(by_id))
    if unknown and strict:
        raise DataError(f"{len(unknown)} decision(s) for unknown candidates, e.g. {unknown[0]!r}",
                        hint="the review file was made for another drafting run; re-review or pass strict=False")
    samples = []
    for cid, cand in by_id.items():
        d = latest.get(cid)
        if d is None or d.action == "reject":
            continue
        question = (d.question.strip() if d.action == "edit" and d.question.strip() else cand.question)
        expected = list(d.expected) if d.action == "edit" or d.expected else [cand.answer]
        if d.category == "unanswerable":
            expected = []
        text = documents[cand.doc_id]
        docs = [cand.doc_id, *distractor_ids(cand.doc_id, documents, n_distractors)]
        try:
            samples.append(Sample(
                id=f"{id_prefix}{cid}",
                inputs={"question": question, "documents": [{"id": x, "text": documents[x]} for x in docs]},
                expected=expected, category=d.category, tags=["drafted", f"doc:{cand.doc_id}"],
                criteria=_criteria(expected),
                metadata={"source_doc": cand.doc_id, "evidence": cand.sentence, "candidate_id": cid,
                          "review": d.action, "verified": all(e in text for e in expected),
                          **({"note": d.note} if d.note else {})}))
        except ValidationError as e:
            raise DataError(f"decision for {cid!r} makes an invalid sample: {e.errors()[0]['msg']}") from None
    return samples


# ---------------------------------------------------------------- coverage

def coverage(evalset: EvalSet | Iterable[Sample], targets: Mapping[str, int] | None = None,
             tags: bool = True) -> dict[str, list[Any]]:
    """Counts per category (and per tag, ``doc:`` tags left out) against targets, as DataFrame-ready columns."""
    samples = list(evalset)
    targets = dict(TARGETS if targets is None else targets)
    rows: list[tuple[str, str, int, int | None]] = []
    for c in CATEGORIES:
        rows.append(("category", c, sum(s.category == c for s in samples), targets.get(c)))
    if tags:
        counts: dict[str, int] = {}
        for s in samples:
            for t in s.tags:
                if not t.startswith("doc:"):
                    counts[t] = counts.get(t, 0) + 1
        rows += [("tag", t, n, targets.get(t)) for t, n in sorted(counts.items())]
    total = len(samples) or 1
    return {"kind": [r[0] for r in rows], "name": [r[1] for r in rows], "count": [r[2] for r in rows],
            "share": [round(r[2] / total, 3) for r in rows], "target": [r[3] for r in rows],
            "met": [None if r[3] is None else r[2] >= r[3] for r in rows]}
