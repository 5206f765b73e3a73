"""LLM-as-judge: offline judge tier, verdict parsing, unmeasured repeats, majority and agreement, costs."""
import asyncio
import itertools
import json
import math

import pytest

from workbench.errors import ConfigError, ModelTimeoutError, RateLimitedError
from workbench.evalsets.evalset import Sample
from workbench.models.records import Completion, Usage
from workbench.models.wrappers import Model
from workbench.scoring import LLMJudge, parse_verdict, scorer_from_spec, summarise

SAMPLE = Sample(id="s1", inputs={"question": "How many days after a charge can a customer request a refund?",
                                 "documents": [{"id": "refund", "text": "Refunds are available within 30 days "
                                                "of the charge. " * 3}]},
                expected=["30 days"])
UNANSWERABLE = Sample(id="u1", inputs={"question": "Who founded Northwind Labs?",
                                       "documents": [{"id": "d", "text": "Refunds are available within 30 days."}]},
                      category="unanswerable")


class FakeModel:
    """A scripted ``Model``: each call returns (or raises) the next item of ``replies``."""

    def __init__(self, *replies, cost=0.001):
        self.replies, self.cost, self.calls = itertools.cycle(replies), cost, []

    name = "fake/judge"

    def identity(self):
        return {"model": self.name}

    def complete(self, messages, **settings):
        self.calls.append((messages, settings))
        reply = next(self.replies)
        if isinstance(reply, Exception):
            raise reply
        text = reply if isinstance(reply, str) else json.dumps(reply)
        return Completion(text=text, model=self.name, usage=Usage(100, 20), cost_usd=self.cost,
                          cost_basis="provider")

    async def acomplete(self, messages, **settings):
        return self.complete(messages, **settings)


def test_fake_model_is_a_model():
    assert isinstance(FakeModel("x"), Model)


def test_offline_judge_tier_grades_through_the_model_layer():
    judge = LLMJudge()
    good, bad = judge.score(SAMPLE, "Customers can request a refund within 30 days."), judge.score(SAMPLE, "60 days")
    assert good.measured and good.passed and 0.5 <= good.value <= 1
    assert bad.measured and not bad.passed
    assert good.details["judge_model"] == "local/judge" and good.details["cost_basis"] == "simulated"
    assert good.details["cost_usd"] > 0 and good.details["input_tokens"] > 0 and good.details["output_tokens"] > 0
    assert good.details["prompt"].startswith("judge_correctness@v") and good.details["agreement"] == 1.0


def test_offline_judge_async_and_unanswerable_reference():
    judge = LLMJudge()
    s = asyncio.run(judge.ascore(UNANSWERABLE, "The answer is not in the context."))
    assert s.measured and s.passed
    assert not asyncio.run(judge.ascore(UNANSWERABLE, "Jane Doe founded it in 2016.")).passed


def test_prompt_rendering_and_structured_request():
    fake = FakeModel({"score": 1, "verdict": "pass", "reason": "ok"})
    LLMJudge(model=fake, context_chars=40).score(SAMPLE, "30 days")
    messages, settings = fake.calls[0]
    user = messages[-1]["content"]
    assert "Answer: 30 days" in user and "Reference: 30 days" in user and "[...]" in user
    assert len(user.split("Context:")[1]) < 80  # the context budget
    schema = settings["response_format"]["json_schema"]["schema"]
    assert settings["response_format"]["type"] == "json_schema" and schema["required"] == ["score", "verdict",
                                                                                             "reason"]


@pytest.mark.parametrize("text, expected", [
    ('{"score": 0.9, "verdict": "pass", "reason": "r"}', ("pass", 0.9)),
    ('```json\n{"score": 0.2, "verdict": "FAIL", "reason": "r"}\n```', ("fail", 0.2)),
    ('Here is my verdict: {"score": 1, "verdict": "pass", "reason": "fine"} Thanks!', ("pass", 1.0)),
    ('{"score": "0.7", "reason": "no verdict given"}', ("pass", 0.7)),
    ('{"score": 1.7, "verdict": "pass", "reason": "r"}', None),
    ('{"score": 0.5, "verdict": "maybe", "reason": "r"}', None),
    ('{"score": true, "verdict": "pass"}', None),
    ("The answer looks right to me.", None),
    ("", None),
])
def test_parse_verdict(text, expected):
    got = parse_verdict(text)
    assert (got and (got["verdict"], got["score"])) == expected if expected else got is None


def test_garbage_reply_is_unmeasured_never_nan():
    judge = LLMJudge(model=FakeModel("I think it is fine.", "```\nnot json\n```"), repeats=2)
    s = judge.score(SAMPLE, "30 days")
    assert s.measured is False and s.value is None and s.passed is None
    assert "unparseable ×2" in s.explanation and len(s.details["errors"]) == 2
    assert s.details["cost_usd"] == pytest.approx(0.002)  # the calls still cost money
    summary = summarise([s, LLMJudge(model=FakeModel({"score": 1, "verdict": "pass", "reason": "r"}))
                        .score(SAMPLE, "30 days")])
    assert summary["mean"] == 1.0 and summary["unmeasured"] == 1 and not math.isnan(summary["mean"])


@pytest.mark.parametrize("error", [ModelTimeoutError("too slow", model="fake/judge"),
                                   RateLimitedError("429", model="fake/judge")])
def test_model_errors_are_unmeasured(error):
    judge = LLMJudge(model=FakeModel(error))
    for s in (judge.score(SAMPLE, "30 days"), asyncio.run(judge.ascore(SAMPLE, "30 days"))):
        assert not s.measured and error.code in s.explanation and s.details["cost_usd"] == 0


def test_async_timeout_is_unmeasured():
    class Slow(FakeModel):
        async def acomplete(self, messages, **settings):
            await asyncio.sleep(5)

    s = asyncio.run(LLMJudge(model=Slow("x"), timeout=0.05).ascore(SAMPLE, "30 days"))
    assert not s.measured and "timeout" in s.explanation


def test_repeats_majority_mean_and_agreement():
    replies = [{"score": 0.9, "verdict": "pass", "reason": "a"}, {"score": 0.3, "verdict": "fail", "reason": "b"},
               {"score": 0.8, "verdict": "pass", "reason": "c"}]
    s = LLMJudge(model=FakeModel(*replies), repeats=3).score(SAMPLE, "30 days")
    assert s.passed and s.value == pytest.approx(2.0 / 3) and s.details["agreement"] == pytest.approx(2 / 3)
    assert s.details["verdicts"] == ["pass", "fail", "pass"] and s.details["cost_usd"] == pytest.approx(0.003)
    assert s.details["input_tokens"] == 300 and s.details["output_tokens"] == 60


def test_partly_measured_repeats_vote_among_the_measured():
    replies = [{"score": 0.1, "verdict": "fail", "reason": "a"}, ModelTimeoutError("slow"), "garbage"]
    s = asyncio.run(LLMJudge(model=FakeModel(*replies), repeats=3).ascore(SAMPLE, "30 days"))
    assert s.measured and not s.passed and s.value == pytest.approx(0.1)
    assert s.details["measured_repeats"] == 1 and s.details["agreement"] == 1.0 and len(s.details["errors"]) == 2


def test_tie_is_broken_by_mean_score():
    replies = [{"score": 0.9, "verdict": "pass", "reason": "a"}, {"score": 0.4, "verdict": "fail", "reason": "b"}]
    s = LLMJudge(model=FakeModel(*replies), repeats=2).score(SAMPLE, "30 days")
    assert s.passed and s.details["agreement"] == 0.5


def test_no_output_is_unmeasured_without_a_call():
    fake = FakeModel({"score": 1, "verdict": "pass", "reason": "r"})
    assert not LLMJudge(model=fake).score(SAMPLE, None).measured and not fake.calls


def test_judge_is_a_config_component():
    judge = scorer_from_spec({"scorer": "llm_judge", "repeats": 3, "prompt_version": 1})
    assert judge.dump() == {"kind": "llm_judge", "repeats": 3, "prompt_version": 1}
    assert "model" not in LLMJudge(model=FakeModel("x")).model_dump()
    with pytest.raises(ConfigError, match="repeats"):
        scorer_from_spec({"scorer": "llm_judge", "repeats": 0})
