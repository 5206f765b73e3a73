"""The numpy BERT encoder (``workbench.models.encoder``) against sentence-transformers' published numbers, and its
batching, padding and truncation: the vectors must be the model's own, whatever the batch."""
from __future__ import annotations

import numpy as np
import pytest

from workbench.models.embedders import MiniLMEmbedder, _minilm
from workbench.models.encoder import MAX_TOKENS, SentenceEncoder, _gelu


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    MiniLMEmbedder().embed(["warm"])
    return _minilm()


def test_the_similarities_sentence_transformers_publishes(encoder):
    """The quickstart of the sentence-transformers documentation (v3+) prints, for all-MiniLM-L6-v2:
    tensor([[1.0000, 0.6660, 0.1046], [0.6660, 1.0000, 0.1411], [0.1046, 0.1411, 1.0000]])."""
    v = encoder.encode(["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."])
    assert np.allclose(v @ v.T, [[1.0, 0.6660, 0.1046], [0.6660, 1.0, 0.1411], [0.1046, 0.1411, 1.0]], atol=6e-5)


def test_a_batch_gives_each_text_its_own_vector(encoder):
    """Padding is masked: a text in a batch of longer and shorter ones gets the vector it gets alone."""
    texts = ["short", "a somewhat longer question about the refund window of the premium plan", "", "x " * 40,
             "Wie kann ich mein Passwort zurücksetzen?", "何か質問がありますか"]
    together = encoder.encode(texts, batch_size=4)
    alone = np.vstack([encoder.encode([t]) for t in texts])
    assert together.shape == (6, 384) and together.dtype == np.float32
    assert np.abs(together - alone).max() < 1e-5
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    assert encoder.encode([]).shape == (0, 384)


def test_long_texts_are_truncated_as_sentence_transformers_does(encoder):
    head = "refund policy details " * (MAX_TOKENS // 3)
    assert len(encoder.tokenizer.encode(head + "tail " * 1000).ids) == MAX_TOKENS
    a, b = encoder.encode([head + "ocean " * 1000, head + "mountain " * 1000])
    assert float(a @ b) > 0.999  # everything past the 256th token is cut off, as the model was trained


def test_gelu_is_the_exact_one():
    from math import erf, sqrt

    x = np.linspace(-8, 8, 2001, dtype=np.float32)
    exact = np.array([0.5 * v * (1 + erf(v / sqrt(2))) for v in x.tolist()], dtype=np.float32)
    assert np.abs(_gelu(x) - exact).max() < 2e-6 and _gelu(x).dtype == np.float32


def test_threads_share_one_encoder(encoder):
    """The runner embeds in its request threads (lookups) and its background writer (new entries) at once."""
    from concurrent.futures import ThreadPoolExecutor

    texts = [f"How long do refunds take for order {i} on the {plan} plan?" for i in range(40)
             for plan in ("pro", "team")]
    alone = encoder.encode(texts)
    with ThreadPoolExecutor(8) as pool:
        parts = list(pool.map(lambda i: encoder.encode(texts[i:i + 10], batch_size=4), range(0, len(texts), 10)))
    assert np.abs(np.vstack(parts) - alone).max() < 1e-5
