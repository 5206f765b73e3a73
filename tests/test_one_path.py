"""The one-path promise, for caching: the same variant on the same inputs makes the same cache decisions and the
same model calls in the experiment engine and in the production runner (both apply the variant's own
``CacheConfig`` through ``Pipeline``)."""
from __future__ import annotations

import json

import pytest

from workbench.config import CacheConfig, Evidence, PipelineConfig, ProductionConfig, TrafficSplit
from workbench.evalsets import EvalSet, Sample
from workbench.experiments import Experiment, ExperimentResults, RunOptions
from workbench.models.records import Attempt, Completion, Usage
from workbench.runner import Runner

DOC = {"id": "refunds.md", "text": "# Refunds\n\nRefunds are available within 30 days of the charge. Approved "
                                   "refunds take 5 to 10 business days to reach the card."}
OTHER = {"id": "plans.md", "text": "# Plans\n\nThe Growth plan costs $49 a month. The Starter plan is free."}
QUESTIONS = [  # (id, question, documents): repeats, paraphrases, near misses, another document
    ("q1", "How long do customers have to ask for a refund?", [DOC]),
    ("q2", "How long do customers have to ask for a refund?", [DOC]),          # the same request again
    ("q3", "how long do customers have to ask for a refund", [DOC]),           # normalises to q1
    ("q4", "How many days until an approved refund reaches the card?", [DOC]),
    ("q5", "How long do customers have to ask for a refund?", [OTHER]),        # same question, other documents
    ("q6", "How much does the Growth plan cost?", [OTHER]),
    ("q7", "How much does the Starter plan cost?", [OTHER]),                   # a near miss of q6
    ("q8", "How much does the Growth plan cost?", [OTHER]),
]


class Recorder:
    """A model that answers deterministically and records every request it receives."""

    name = "test/recorder"

    def __init__(self):
        self.calls: list[str] = []

    def identity(self):
        return {"model": self.name}

    def complete(self, messages, **settings):
        self.calls.append(json.dumps([messages, settings], sort_keys=True))
        text = f"answer {len(self.calls)}: " + messages[-1]["content"][-40:]
        return Completion(text, self.name, Usage(20, 5), 0.0001, "provider", 1.0,
                          attempts=(Attempt(self.name, True, 1.0),))

    async def acomplete(self, messages, **settings):
        return self.complete(messages, **settings)


def evalset() -> EvalSet:
    return EvalSet([Sample(id=i, inputs={"question": q, "documents": d}, expected=["30 days"], category="normal")
                    for i, q, d in QUESTIONS], name="one-path")


@pytest.mark.parametrize("cache", [CacheConfig(exact=True, semantic=False), CacheConfig(exact=True, semantic=True),
                                   CacheConfig(exact=False, semantic=True), CacheConfig(exact=False, semantic=False)],
                         ids=["exact", "exact+semantic", "semantic", "none"])
def test_experiment_and_runner_cache_and_call_alike(cache, tmp_path, monkeypatch):
    variant = PipelineConfig.build("grounded_qa", version=2, tier="medium", cache=cache)

    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "experiment-home"))  # the engine's workspace caches
    in_experiment = Recorder()
    Experiment(evalset(), {"v": variant}, tmp_path / "run",
               options=RunOptions(concurrency=1, models={"medium": in_experiment})).run(progress=False)
    records = {r.sample_id: r for r in ExperimentResults(tmp_path / "run").records}

    in_runner = Recorder()
    config = ProductionConfig(name="one-path", variants={"v": variant}, split=TrafficSplit(weights={"v": 1.0}),
                              evidence=Evidence(experiment="t", evalset_name="one-path", evalset_hash="sha256:0",
                                                variant="v")).with_hash()
    runner = Runner.from_config(config, models={"medium": in_runner}, db_url=f"sqlite:///{tmp_path / 'log.db'}",
                                cache_path=tmp_path / "runner-caches")
    try:
        lines = {x["id"]: runner.run({"id": x["id"], "question": x["question"], "documents": x["documents"]})
                 for x in ({"id": i, "question": q, "documents": d} for i, q, d in QUESTIONS)}
    finally:
        runner.close()

    experiment_decisions = [(i, records[i].cache, records[i].output) for i, _, _ in QUESTIONS]
    runner_decisions = [(i, lines[i].cache, lines[i].output) for i, _, _ in QUESTIONS]
    assert experiment_decisions == runner_decisions
    assert in_experiment.calls == in_runner.calls
    hits = [c for _, c, _ in runner_decisions if c != "miss"]
    if cache.exact or cache.semantic:
        assert hits, "the inputs repeat, so a cache that is on must answer some of them"
    else:
        assert hits == [] and len(in_runner.calls) == len(QUESTIONS)
    if cache.semantic:
        assert lines["q3"].cache == "semantic" and lines["q7"].cache == "miss"  # a paraphrase hits, a near miss not
    else:
        assert "semantic" not in {c for _, c, _ in runner_decisions}
