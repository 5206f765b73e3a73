"""PipelineConfig and Pipeline: validate -> context -> prompt -> model -> output validation -> Result."""
import asyncio
import json

import pytest
from pydantic import ValidationError

from workbench.config.pipeline import PipelineConfig, RoutingRule
from workbench.errors import ConfigError, ProviderUnavailableError
from workbench.models.records import Attempt, Completion, Usage
from workbench.pipeline import Pipeline

DOC = ("# Refunds\n\nRefunds are available within 30 days of the charge. Approved refunds take 5 to 10 business "
       "days.\n\n## Credit\n\nAccount credit expires 12 months after it is issued.\n")
INPUTS = {"question": "How many days after a charge can I get a refund?",
          "documents": [{"id": "refund-policy.md", "text": DOC}]}


class FakeModel:
    """A Model that answers from a script of texts or exceptions (the Model protocol)."""

    def __init__(self, *script):
        self.script, self.calls = list(script), []

    name = "fake/model"

    def identity(self):
        return {"model": "fake"}

    def complete(self, messages, **settings):
        self.calls.append((messages, settings))
        item = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(item, Exception):
            raise item
        return Completion(item, "fake/model", Usage(10, 5), 0.001, "provider", 1.0,
                          attempts=(Attempt("fake/model", True, 1.0),))

    async def acomplete(self, messages, **settings):
        return self.complete(messages, **settings)


@pytest.fixture
def config():
    return PipelineConfig.build("grounded_qa", version=2, tier="medium",
                                chunking={"strategy": "structure", "max_tokens": 64})


def test_config_is_frozen_hashed_and_strict(config):
    assert config.hash.startswith("sha256:") and config.hash == PipelineConfig(**config.model_dump()).hash
    with pytest.raises(ValidationError, match="frozen"):
        config.tier = "small"
    with pytest.raises(Exception, match="Extra inputs"):
        PipelineConfig(**{**config.model_dump(), "colour": "blue"})
    assert config.schema_version == 1 and {"medium", "small"} <= set(config.tiers)


def test_edited_prompt_text_is_refused(config):
    data = config.model_dump()
    data["prompt"]["sections"]["system"] += " Always answer 42."
    with pytest.raises(Exception, match="prompt text was edited"):
        PipelineConfig(**data)


def test_variants_change_one_thing(config):
    v = config.variant(tier="large")
    assert v.tier == "large" and "large" in v.tiers and v.prompt_hash == config.prompt_hash
    assert config.variant(version=3).prompt.version == 3 and config.variant(version=3).hash != config.hash
    assert v.label == "grounded_qa@v2 · large · structure/64"


def test_bad_chunking_or_missing_tier_is_a_config_error():
    with pytest.raises(ConfigError, match="strategy"):
        PipelineConfig.build("grounded_qa", chunking={"strategy": "nope"})
    with pytest.raises(Exception, match="not embedded"):
        c = PipelineConfig.build("grounded_qa")
        PipelineConfig(**{**c.model_dump(), "tier": "gigantic"})


def test_end_to_end_offline_answer(config):
    r = Pipeline(config, cache=None)(INPUTS)
    assert r.status == "ok" and "30 days" in r.output
    assert r.tier == "medium" and r.answered_by == "local/extractive" and r.model == "openai/gpt-4o-mini"
    assert r.cost_basis == "simulated" and r.cost_usd > 0
    assert r.input_tokens > 0 and r.attempts == 1 and r.cache == "miss" and r.config_hash == config.hash
    assert r.context and all(c["tokens"] <= 64 for c in r.context)
    json.dumps(r.to_dict())


def test_context_respects_the_budget_and_prefers_relevant_chunks():
    cfg = PipelineConfig.build("grounded_qa", chunking={"strategy": "structure", "max_tokens": 32},
                               context={"top_k": 1, "max_context_tokens": 40})
    p = Pipeline(cfg, cache=None)
    prepared = p.prepare(INPUTS)
    assert len(prepared.context) == 1 and "30 days" in prepared.context[0].text
    assert "Context:" in prepared.messages[-1]["content"]


def test_rejected_input_never_reaches_a_model(config):
    fake = FakeModel("never")
    r = Pipeline(config, cache=None, models={"medium": fake})({"question": "\u202eevil", "documents": []})
    assert r.status == "rejected" and r.error["code"] == "bidi" and not fake.calls


def test_routing_rules_pick_the_tier(config):
    cfg = config.variant(routing=[RoutingRule(tier="small", length=["short"], max_question_chars=60)])
    small, medium = FakeModel("from small"), FakeModel("from medium")
    p = Pipeline(cfg, cache=None, models={"small": small, "medium": medium})
    assert p({"question": "Refund window?", "documents": [{"id": "d", "text": "Short doc."}]}).tier == "small"
    assert p(INPUTS).tier == "medium"


def test_provider_failure_is_a_failed_result_not_an_exception(config):
    fake = FakeModel(ProviderUnavailableError("down", model="fake"))
    r = Pipeline(config, cache=None, models={"medium": fake})(INPUTS)
    assert r.status == "failed" and r.error["code"] == "provider_unavailable" and r.output is None


def test_invalid_output_is_retried_then_fails(config):
    fake = FakeModel("", "", "")
    r = Pipeline(config, cache=None, models={"medium": fake})(INPUTS)
    assert r.status == "failed" and r.error["code"] == "invalid_output" and len(fake.calls) == 2
    fixed = FakeModel("", "30 days.")
    r = Pipeline(config, cache=None, models={"medium": fixed})(INPUTS)
    assert r.status == "ok" and r.output == "30 days." and r.cost_usd == pytest.approx(0.002)


def test_a_retry_adds_its_tokens_and_attempts_and_one_unpriced_answer_leaves_the_cost_unknown(config):
    class Unpriced(FakeModel):
        def complete(self, messages, **settings):
            c = super().complete(messages, **settings)
            return c if c.text else Completion("", "fake/model", Usage(10, 5), None, "unpriced", 1.0,
                                               attempts=(Attempt("fake/model", True, 1.0),))

    r = Pipeline(config, cache=None, models={"medium": Unpriced("", "30 days.")})(INPUTS)
    assert r.status == "ok" and r.cost_usd is None and r.answer_cost_usd is None  # never summed as 0
    assert (r.input_tokens, r.output_tokens, r.attempts, r.saved_usd) == (20, 10, 2, 0.0)


def test_schema_validation_of_structured_output(config):
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
    cfg = config.variant(output={"json_schema": schema, "retries": 0})
    assert Pipeline(cfg, cache=None, models={"medium": FakeModel('{"answer": "x"}')})(INPUTS).status == "ok"
    bad = Pipeline(cfg, cache=None, models={"medium": FakeModel('{"nope": 1}')})(INPUTS)
    assert bad.status == "failed" and "schema" in bad.error["message"]
    offline = Pipeline(cfg, cache=None)(INPUTS)  # the offline model honours the schema
    assert offline.status == "ok" and offline.data["answer"]


def test_async_twin_matches(config):
    p = Pipeline(config, cache=None)
    assert asyncio.run(p.arun(INPUTS)).output == p(INPUTS).output


def test_cache_hit_is_reported(config, tmp_path):
    from workbench.caches import ResponseCache

    p = Pipeline(config, cache=ResponseCache(tmp_path / "c.sqlite"))
    first, second = p(INPUTS), p(INPUTS)
    assert (first.cache, second.cache) == ("miss", "exact") and second.attempts == 0 and second.cost_usd == 0
    assert second.answer_cost_usd == first.answer_cost_usd == first.cost_usd > 0


def _plan_prompt():
    from workbench.prompts import load_prompt

    base = load_prompt("grounded_qa", 2).model_dump()
    base["variables"]["plan"] = {"type": "string", "description": "the customer's plan"}
    base["variables"]["seats"] = {"type": "integer", "description": "seats on the account", "required": False}
    base["sections"]["user"] = "Plan: {{ plan }}{% if seats %} ({{ seats }} seats){% endif %}\nQuestion: {{ question }}"
    base["variants"] = []
    from workbench.prompts import PromptTemplate

    return PromptTemplate(**base)


def test_a_declared_field_reaches_the_template_and_its_absence_or_type_is_a_coded_rejection():
    cfg = PipelineConfig.build(_plan_prompt(), tier="medium", chunking={"strategy": "structure", "max_tokens": 64})
    fake = FakeModel("30 days.")
    p = Pipeline(cfg, cache=None, models={"medium": fake})
    ok = p({**INPUTS, "plan": "Enterprise", "seats": 12})
    assert ok.status == "ok" and "Plan: Enterprise (12 seats)" in fake.calls[0][0][-1]["content"]
    fake.calls.clear()
    missing = p(INPUTS)
    assert missing.status == "rejected" and missing.error["code"] == "missing_field" and "plan" in missing.error["message"]
    wrong = p({**INPUTS, "plan": ["Enterprise"]})
    assert wrong.status == "rejected" and wrong.error["code"] == "wrong_type" and "'plan'" in wrong.error["message"]
    boolean_seats = p({**INPUTS, "plan": "Team", "seats": True})  # a bool is not an integer
    assert boolean_seats.error["code"] == "wrong_type" and "'seats'" in boolean_seats.error["message"]
    assert p({**INPUTS, "plan": "Team"}).status == "ok"  # an optional field may be absent
    assert len(fake.calls) == 1  # no rejected input reached the model
