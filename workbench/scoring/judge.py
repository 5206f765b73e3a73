"""LLM-as-judge: a versioned rubric prompt, a structured verdict, repeats with majority vote and agreement.

    from workbench.scoring import LLMJudge
    judge = LLMJudge(repeats=3)                       # prompts/judge_correctness (latest), the "judge" tier
    s = judge.score(sample, answer)                   # or: await judge.ascore(sample, answer)
    s.value (mean score), s.passed (majority verdict), s.details["agreement"], s.details["cost_usd"]

Each repeat asks the ``judge`` tier for ``{score, verdict, reason}`` (``response_format`` = the prompt's
``output_schema``). A repeat whose reply cannot be parsed (code fences and leading text are tolerated; the score
must be a number in [0, 1]), that times out or that fails with any ``WorkbenchError`` is *unmeasured*; when no
repeat is measured the whole ``Score`` has ``measured=False`` (counted and shown, never averaged). Offline the
``judge`` tier is answered by ``local/judge``, a lexical heuristic, not a reader: calibrate before trusting it.
"""
from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from typing import Any, Literal

from pydantic import Field

from ..errors import WorkbenchError
from .base import Score, ScorerBase
from .text import answer_text

UNANSWERABLE_REFERENCE = ("The answer is not in the context (the question is unanswerable): a correct response "
                          "declines to answer.")
"""The reference shown to the judge for an unanswerable sample without expected answers."""
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL | re.IGNORECASE)


def parse_verdict(text: str | None, data: Any = None, threshold: float = 0.5) -> dict[str, Any] | None:
    """``{score, verdict, reason}`` from a judge reply, or ``None`` when it cannot be read.

    Takes the parsed structured output when there is one, else the first JSON object in the text (inside a code
    fence or after leading prose). ``score`` must be a number in [0, 1]; a missing ``verdict`` follows the score.
    """
    candidates = [data] if isinstance(data, dict) else []
    for block in [*_FENCE.findall(text or ""), text or ""]:
        candidates += _json_objects(block)
    for obj in candidates:
        verdict = _valid(obj, threshold)
        if verdict:
            return verdict
    return None


def _json_objects(text: str) -> list[dict[str, Any]]:
    decoder, found = json.JSONDecoder(), []
    for m in re.finditer(r"\{", text):
        try:
            obj, _ = decoder.raw_decode(text, m.start())
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict):
            found.append(obj)
    return found


def _valid(obj: dict[str, Any], threshold: float) -> dict[str, Any] | None:
    score = obj.get("score")
    if isinstance(score, str):
        try:
            score = float(score)
        except ValueError:
            return None
    if isinstance(score, bool) or not isinstance(score, (int, float)) or not 0.0 <= score <= 1.0:
        return None
    verdict = str(obj.get("verdict", "")).strip().lower()
    if verdict not in ("pass", "fail"):
        if "verdict" in obj:
            return None
        verdict = "pass" if score >= threshold else "fail"
    return {"score": float(score), "verdict": verdict, "reason": str(obj.get("reason", ""))}


class LLMJudge(ScorerBase):
    """Grades an answer with a rubric prompt through the model layer; ``repeats`` votes by majority."""

    kind: Literal["llm_judge"] = "llm_judge"
    prompt: str = "judge_correctness"
    prompt_version: int | None = None
    tier: str = "judge"
    repeats: int = Field(1, ge=1, le=15)
    threshold: float | None = Field(0.5, ge=0, le=1)
    timeout: float = Field(30.0, gt=0)
    retries: int = Field(1, ge=0)
    context_chars: int = Field(6000, ge=0)
    """Budget for the context shown to the judge (documents' text, truncated)."""
    model: Any = Field(None, exclude=True, repr=False)
    """A ``Model`` to use instead of the tier (tests, custom wrappers); not part of the config."""

    def _template(self):
        from ..prompts import load_prompt

        return load_prompt(self.prompt, self.prompt_version)

    def _model(self):
        if self.model is not None:
            return self.model
        from ..models import Endpoint, ModelOptions, build_model

        return build_model(tier=self.tier, options=ModelOptions(retries=self.retries,
                                                                endpoint=Endpoint(timeout=self.timeout)))

    def _values(self, sample, answer: str, declared: dict) -> dict[str, Any]:
        refs = [e for e in sample.expected if e.strip()]
        if not refs and sample.category == "unanswerable":
            refs = [UNANSWERABLE_REFERENCE]
        context = "\n\n".join(d.text for d in sample.inputs.documents)
        if len(context) > self.context_chars:
            context = context[: self.context_chars].rstrip() + " [...]"
        values = {"question": sample.inputs.question, "answer": answer, "reference": "\n".join(refs),
                  "context": context}
        return {k: v for k, v in values.items() if k in declared and (v or declared[k].required)}

    def _request(self, sample, answer: str) -> tuple[list[dict], dict[str, Any], str]:
        template = self._template()
        messages = template.render(self._values(sample, answer, template.variables))
        settings: dict[str, Any] = {}
        if template.output_schema:
            settings["response_format"] = {"type": "json_schema", "json_schema": {
                "name": f"{template.id}_verdict", "schema": template.output_schema}}
        return messages, settings, template.ref

    def score(self, sample, output) -> Score:
        """The judge's verdict on the answer: the mean score of the measured repeats, passed by majority vote (a tie by
        the mean); unmeasured when no repeat produced a readable verdict."""
        answer, why = answer_text(output)
        if answer is None:
            return Score.unmeasured(self.name, why)
        messages, settings, ref = self._request(sample, answer)
        model = self._model()
        runs = [self._one(lambda: model.complete(messages, **settings)) for _ in range(self.repeats)]
        return self._combine(runs, ref)

    async def ascore(self, sample, output) -> Score:
        """Async twin of ``score``: the repeats run concurrently, each with ``timeout``."""
        answer, why = answer_text(output)
        if answer is None:
            return Score.unmeasured(self.name, why)
        messages, settings, ref = self._request(sample, answer)
        model = self._model()

        async def one() -> dict[str, Any]:
            try:
                completion = await asyncio.wait_for(model.acomplete(messages, **settings), self.timeout)
            except TimeoutError:
                return {"error": f"timeout: no reply within {self.timeout:g} s", "code": "timeout"}
            except WorkbenchError as e:
                return {"error": e.message, "code": e.code}
            return self._read(completion)

        return self._combine(list(await asyncio.gather(*(one() for _ in range(self.repeats)))), ref)

    def _one(self, call) -> dict[str, Any]:
        try:
            completion = call()
        except WorkbenchError as e:
            return {"error": e.message, "code": e.code}
        return self._read(completion)

    def _read(self, completion) -> dict[str, Any]:
        usage = {"cost_usd": completion.cost_usd, "cost_basis": completion.cost_basis, "model": completion.model,
                 "input_tokens": completion.usage.input_tokens, "output_tokens": completion.usage.output_tokens}
        verdict = parse_verdict(completion.text, completion.data, self.pass_mark)
        if verdict is None:
            return {**usage, "error": f"unparseable verdict: {completion.text[:200]!r}", "code": "unparseable"}
        return {**usage, **verdict}

    def _combine(self, runs: list[dict[str, Any]], ref: str) -> Score:
        details = _cost_details(runs) | {"prompt": ref, "repeats": len(runs),
                                         "errors": [r["error"] for r in runs if "error" in r]}
        good = [r for r in runs if "verdict" in r]
        details["measured_repeats"] = len(good)
        if not good:
            codes = Counter(r.get("code") for r in runs)
            return Score.unmeasured(self.name, f"judge could not be measured in {len(runs)} repeat(s): "
                                    + ", ".join(f"{c} ×{n}" for c, n in codes.items()), **details)
        votes = Counter(r["verdict"] for r in good)
        mean = sum(r["score"] for r in good) / len(good)
        if votes["pass"] == votes["fail"]:
            majority = "pass" if mean >= self.pass_mark else "fail"
        else:
            majority = votes.most_common(1)[0][0]
        agreement = votes[majority] / len(good)
        details |= {"verdicts": [r["verdict"] for r in good], "scores": [r["score"] for r in good],
                    "reasons": [r["reason"] for r in good], "verdict": majority, "agreement": agreement}
        why = f"judge verdict {majority} ({votes[majority]}/{len(good)} measured repeats): {good[0]['reason']}"
        return Score(self.name, mean, majority == "pass", True, why.strip(), details)


def _cost_details(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Total cost and tokens of the judge calls that returned (``cost_usd`` None if any was unpriced)."""
    called = [r for r in runs if "model" in r]
    costs = [r["cost_usd"] for r in called]
    return {"cost_usd": None if any(c is None for c in costs) else sum(costs),
            "input_tokens": sum(r["input_tokens"] for r in called),
            "output_tokens": sum(r["output_tokens"] for r in called),
            "judge_model": called[0]["model"] if called else None,
            "cost_basis": called[0]["cost_basis"] if called else None}
