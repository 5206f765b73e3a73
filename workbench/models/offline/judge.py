"""The ``judge`` heuristic: one job, an LLM-as-judge stand-in that grades an answer lexically.

Token F1 against the reference (question words ignored) and word support in the context; without a reference, the
context sentence the extractive heuristic would pick serves as a silver reference. Replies with a JSON verdict
(``score``, ``verdict``, ``reason``), schema-filled when a schema is given.
"""
from __future__ import annotations

import re
from collections import Counter
from typing import Any

from ..._util.lexical import terms
from .parsing import Prompt, is_refusal, sentences
from .qa import REFUSAL, Answer, extract
from .structured import render

PASS_MARK = 0.5


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
    silver = extract(question, sentences(context)) if question else Answer(REFUSAL)
    if is_refusal(answer):
        score = 0.2 if silver.found else 0.8
        return score, "the answer declines and the context " + ("seems to" if silver.found else "does not") + \
            " hold the question's words"
    support = _support(answer, context)
    match = _token_f1(answer, silver.text, set(terms(question))) if silver.found else 0.0
    return 0.6 * match + 0.4 * support, (f"no reference: token F1 {match:.2f} against the best-matching context "
                                         f"sentence, {support:.0%} of answer words found in the context")


def _judge_values(p: Prompt) -> dict[str, Any]:
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


def judge_reply(p: Prompt, response_format: Any) -> str:
    """The judge's reply: the lexical grade (score, verdict, reason) as JSON, filled into the requested schema."""
    v = _judge_values(p)
    values = {**v, "answer": v["verdict"], "found": v["verdict"] == "pass", "evidence": v["reason"], "json": v}
    return render(values, response_format, None)
