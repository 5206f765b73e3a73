"""Every Model implementation through the same checks (the scikit-learn estimator-checks idea)."""
import asyncio
import dataclasses
import json

import pytest

from workbench.caches import ResponseCache
from workbench.models import (
    CachedModel,
    Endpoint,
    FallbackModel,
    LimitedModel,
    LiteLLMModel,
    ModelOptions,
    RetryingModel,
    RetryPolicy,
    build_model,
)
from workbench.models.records import Completion
from workbench.models.wrappers import Model
from workbench.testing import FaultServer

MSGS = [{"role": "system", "content": "Answer from the context."},
        {"role": "user", "content": "Context:\nThe blue door is on Elm Street. The red door opened in 1972.\n\n"
                                    "Question: When did the red door open?"}]
BASES = {"provider", "simulated", "offline", "unpriced"}


@pytest.fixture(scope="module")
def server():
    with FaultServer(seed=3) as s:
        yield s


def implementations(server, tmp):
    fast = RetryPolicy(retries=2, base_delay=0.001)

    def http(m="openai/gpt-4o-mini"):
        return LiteLLMModel(m, endpoint=Endpoint(server.base_url, "sk-test"))

    return {
        "local": LiteLLMModel("local/extractive"),
        "local-lead": LiteLLMModel("local/keyword"),
        "stand-in": LiteLLMModel("local/extractive", priced_as="openai/gpt-4o-mini", tier="medium"),
        "http": http(),
        "http-unpriced": http("openai/unknown-model-x"),
        "retrying": RetryingModel(http(), fast),
        "fallback": FallbackModel([http(), LiteLLMModel("local/keyword")]),
        "cached": CachedModel(LiteLLMModel("local/extractive"), ResponseCache(tmp / "contract.sqlite")),
        "limited": LimitedModel(http(), 4),
        "tier": build_model("small", options=ModelOptions(retries=1)),
    }


NAMES = ["local", "local-lead", "stand-in", "http", "http-unpriced", "retrying", "fallback", "cached", "limited",
         "tier"]


@pytest.fixture(params=NAMES)
def model(request, server, tmp_path_factory):
    return implementations(server, tmp_path_factory.mktemp("contract"))[request.param]


def check_completion(c: Completion):
    assert isinstance(c, Completion)
    assert isinstance(c.text, str) and c.text
    assert c.usage.input_tokens > 0 and c.usage.output_tokens > 0
    assert c.cost_basis in BASES
    assert (c.cost_usd is None) == (c.cost_basis == "unpriced" and not c.cached)
    assert c.cost_usd is None or c.cost_usd >= 0
    assert c.latency_ms >= 0 and isinstance(c.model, str)
    assert c.cached or (c.attempts and c.attempts[-1].ok)
    json.dumps(c.to_dict())  # records serialise
    assert Completion.from_dict(json.loads(json.dumps(c.to_dict()))) == c
    assert c.to_dict() == dataclasses.asdict(c)  # the hand-written to_dict is asdict, faster


def test_is_a_model(model):
    assert isinstance(model, Model)
    assert isinstance(model.name, str) and model.name
    json.dumps(model.identity())


def test_complete(model):
    check_completion(model.complete(MSGS))


def test_acomplete_matches_complete(model):
    sync = model.complete(MSGS)
    async_ = asyncio.run(model.acomplete(MSGS))
    check_completion(async_)
    assert async_.text == sync.text


def test_does_not_mutate_the_callers_messages(model):
    msgs = json.loads(json.dumps(MSGS))
    model.complete(msgs)
    assert msgs == MSGS


def test_settings_pass_through(model):
    c = model.complete(MSGS, max_tokens=50, temperature=0)
    check_completion(c)
