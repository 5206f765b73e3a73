"""ragas adapter: offline non-LLM metrics on our samples, None instead of NaN, LLM metrics need a real model."""
import asyncio
import json
import math

import pytest

from workbench.errors import ConfigError, UsageError
from workbench.evalsets.evalset import Sample
from workbench.models.records import Completion, Usage
from workbench.scoring import RAGAS_METRICS, RagasModels, aragas_scores, ragas_scores, scorer_from_spec
from workbench.scoring.ragas_adapter import OFFLINE_METRICS

EVIDENCE = "Refunds are available within 30 days of the charge."
SAMPLES = [
    Sample(id="a", inputs={"question": "How long is the refund window?",
                           "documents": [{"id": "r", "text": EVIDENCE + " Credit expires after 12 months."}]},
           expected=["30 days", "thirty days"], metadata={"evidence": EVIDENCE}),
    Sample(id="b", inputs={"question": "When does credit expire?",
                           "documents": [{"id": "r", "text": "Account credit expires 12 months after it is issued."}]},
           expected=["12 months after it is issued"]),
    Sample(id="c", inputs={"question": "Who founded Northwind?", "documents": []}, category="unanswerable"),
]
OUTPUTS = ["Refunds are available within 30 days of the charge.", "Credit expires 12 months after it is issued.",
           "The answer is not in the context."]
CONTEXTS = [[EVIDENCE, "Unrelated text about webhooks."], ["Account credit expires 12 months after it is issued."],
            []]


@pytest.fixture(scope="module")
def rows():
    return ragas_scores(SAMPLES, OUTPUTS, CONTEXTS, metrics=OFFLINE_METRICS)


def test_offline_metrics_on_three_samples(rows):
    assert [r["id"] for r in rows] == ["a", "b", "c"]
    for r in rows:
        for m in OFFLINE_METRICS:
            assert r[m] is None or (0.0 <= r[m] <= 1.0 and not math.isnan(r[m]))
    a, b, c = rows
    assert a["string_present"] == 1.0 and a["exact_match"] == 0.0 and 0 < a["rouge_score"] < 1
    assert b["rouge_score"] > a["rouge_score"] and b["bleu_score"] > a["bleu_score"]
    assert a["non_llm_context_recall"] == 1.0  # the evidence sentence was retrieved
    assert b["non_llm_context_precision_with_reference"] > 0.9  # documents' text as reference contexts
    assert all(c[m] is None for m in OFFLINE_METRICS)  # no expected answers, no contexts: not computable


def test_any_of_references_keep_the_best():
    [row] = ragas_scores(SAMPLES[:1], ["thirty days"], metrics=["exact_match", "rouge_score"])
    assert row["exact_match"] == 1.0 and row["rouge_score"] == 1.0


def test_none_output_gives_none_not_nan():
    [row] = ragas_scores(SAMPLES[:1], [None])
    assert set(row) == {"id", "rouge_score", "bleu_score", "non_llm_string_similarity", "string_present"}
    assert all(v is None for k, v in row.items() if k != "id")


def test_async_and_inside_a_running_loop(rows):
    async def inside():
        sync = ragas_scores(SAMPLES, OUTPUTS, CONTEXTS, metrics=OFFLINE_METRICS)  # worker thread
        return sync, await aragas_scores(SAMPLES, OUTPUTS, CONTEXTS, metrics=OFFLINE_METRICS)

    sync, asynced = asyncio.run(inside())
    assert sync == asynced == rows


def test_llm_metrics_without_a_real_model_raise_a_clear_error():
    for metric in ("faithfulness", "answer_relevancy"):
        with pytest.raises(UsageError, match="need a real model") as e:
            ragas_scores(SAMPLES, OUTPUTS, metrics=[metric])
        assert "local/" in str(e.value) and "offline metrics" in e.value.hint


def test_unknown_metric_and_length_mismatch():
    with pytest.raises(UsageError, match="unknown ragas metric"):
        ragas_scores(SAMPLES, OUTPUTS, metrics=["bertscore"])
    with pytest.raises(UsageError):
        ragas_scores(SAMPLES, OUTPUTS[:2])
    with pytest.raises(ConfigError, match="bertscore"):
        scorer_from_spec({"scorer": "ragas", "metric": "bertscore"})


def test_ragas_scorer_as_a_criterion():
    scorer = scorer_from_spec({"scorer": "ragas", "metric": "rouge_score", "threshold": 0.3})
    s = scorer.score(SAMPLES[1], OUTPUTS[1])
    assert s.scorer == "ragas:rouge_score" and s.measured and s.passed and s.value > 0.5
    assert not scorer.score(SAMPLES[2], OUTPUTS[2]).measured
    assert asyncio.run(scorer.ascore(SAMPLES[1], OUTPUTS[1])) == s
    assert scorer.dump() == {"kind": "ragas", "threshold": 0.3} and scorer_from_spec(scorer.dump()) == scorer


class ScriptedJudgeModel:
    """A workbench ``Model`` that answers ragas' faithfulness prompts (statements, then one verdict each)."""

    name = "fake/ragas"

    def __init__(self):
        self.prompts = []

    def identity(self):
        return {"model": self.name}

    def complete(self, messages, **settings):
        prompt = messages[-1]["content"]
        self.prompts.append(prompt)
        if '"context"' in prompt.rsplit("Now perform the same", 1)[-1]:  # the NLI step
            reply = {"statements": [{"statement": "Refunds are available within 30 days.", "reason": "stated",
                                     "verdict": 1}]}
        else:
            reply = {"statements": ["Refunds are available within 30 days."]}
        return Completion(text=json.dumps(reply), model=self.name, usage=Usage(10, 10), cost_usd=0.0,
                          cost_basis="provider")

    async def acomplete(self, messages, **settings):
        return self.complete(messages, **settings)


def test_llm_metric_goes_through_our_model_layer():
    model = ScriptedJudgeModel()
    [row] = ragas_scores(SAMPLES[:1], OUTPUTS[:1], metrics=["faithfulness"], models=RagasModels(llm=model))
    assert len(model.prompts) >= 2  # ragas' prompts reached our Model
    assert row["faithfulness"] == 1.0  # one statement, supported
    assert set(RAGAS_METRICS) >= {"faithfulness", "answer_relevancy", *OFFLINE_METRICS}


class FlakyJudgeModel(ScriptedJudgeModel):
    """Answers sample ``a`` well; replies with text ragas cannot parse for ``b``; a provider error for ``c``."""

    def complete(self, messages, **settings):
        from workbench.errors import ProviderUnavailableError

        prompt = messages[-1]["content"]
        if "lasts a year" in prompt:
            self.prompts.append(prompt)
            return Completion(text="I'd rather not answer in JSON.", model=self.name, usage=Usage(10, 10),
                              cost_usd=0.0, cost_basis="provider")
        if "Nobody" in prompt:
            self.prompts.append(prompt)
            raise ProviderUnavailableError("503 from the provider", model=self.name)
        return super().complete(messages, **settings)


def test_a_parse_or_provider_error_marks_only_that_item_unmeasured():
    samples = [SAMPLES[0], SAMPLES[1], SAMPLES[2].model_copy(update={"inputs": SAMPLES[1].inputs.model_copy(
        update={"question": "Who founded Northwind?"})})]
    rows = ragas_scores(samples, ["Refunds are available within 30 days.", "Credit lasts a year.", "Nobody."],
                        metrics=["faithfulness", "rouge_score"], models=RagasModels(llm=FlakyJudgeModel()))
    assert [r["id"] for r in rows] == ["a", "b", "c"]
    assert rows[0]["faithfulness"] == 1.0 and "errors" not in rows[0]
    for row in rows[1:]:
        assert row["faithfulness"] is None and set(row["errors"]) == {"faithfulness"}
    assert "ProviderUnavailableError" in rows[2]["errors"]["faithfulness"]
    assert rows[1]["rouge_score"] is not None  # the other metric of the same item still ran
    scorer = scorer_from_spec({"scorer": "ragas", "metric": "faithfulness"})
    score = scorer._to_score(rows[1])
    assert not score.measured and "failed on this item" in score.explanation
