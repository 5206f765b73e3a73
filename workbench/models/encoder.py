"""A BERT sentence encoder in numpy: the forward pass of a sentence-transformers model (here all-MiniLM-L6-v2),
from its ``model.safetensors`` and ``tokenizer.json``, without PyTorch.

    encoder = SentenceEncoder.load(folder)            # config.json, model.safetensors, tokenizer.json
    vectors = encoder.encode(["How do I reset my password?"])   # (1, 384) float32, mean-pooled, L2-normalised

The arithmetic is BERT's (post-norm layers, exact GELU, attention masked over padding) followed by
sentence-transformers' mean pooling and normalisation, so the vectors are the model's own: on the example of the
sentence-transformers documentation it gives the published similarities to four decimals (``tests/test_encoder.py``).
Tokenisation is Hugging Face ``tokenizers`` (Rust; a dependency of litellm). A text costs ~0.4 ms a token on
one CPU core (5–10 ms for a question of 12–24 tokens): the arithmetic itself, ~20 MFLOP a token, so batching
barely helps.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MAX_TOKENS = 256
"""sentence-transformers' ``max_seq_length`` for all-MiniLM-L6-v2: longer texts are truncated, as it does."""

# Abramowitz & Stegun 7.1.26: erf to 1.5e-7, below float32's resolution of the activations
_ERF_P = 0.3275911
_ERF_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)


def _gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact GELU, ``x · Φ(x)``, with erf from a polynomial (numpy has no erf)."""
    z = np.abs(x) * np.float32(1 / math.sqrt(2))
    t = 1.0 / (1.0 + _ERF_P * z)
    poly = t * (_ERF_A[0] + t * (_ERF_A[1] + t * (_ERF_A[2] + t * (_ERF_A[3] + t * _ERF_A[4]))))
    erf = np.copysign(1.0 - poly * np.exp(-z * z), x)
    return (0.5 * x * (1.0 + erf)).astype(np.float32, copy=False)


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    centred = x - mean
    return centred / np.sqrt((centred * centred).mean(-1, keepdims=True) + eps) * weight + bias


@dataclass(frozen=True)
class _Layer:
    qkv: np.ndarray  # (hidden, 3·hidden): query, key and value projections side by side, for x @ qkv
    qkv_bias: np.ndarray
    out: np.ndarray
    out_bias: np.ndarray
    norm1: tuple[np.ndarray, np.ndarray]
    up: np.ndarray
    up_bias: np.ndarray
    down: np.ndarray
    down_bias: np.ndarray
    norm2: tuple[np.ndarray, np.ndarray]


class SentenceEncoder:
    """A BERT encoder's weights, laid out for ``x @ W``, and its tokenizer; ``encode`` is thread-safe."""

    def __init__(self, weights: dict[str, np.ndarray], config: dict[str, Any], tokenizer: Any,
                 max_tokens: int = MAX_TOKENS):
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.dim = int(config["hidden_size"])
        self.words = weights["embeddings.word_embeddings.weight"]
        self.positions = weights["embeddings.position_embeddings.weight"]
        self.token_type = weights["embeddings.token_type_embeddings.weight"][0]
        self.norm0 = (weights["embeddings.LayerNorm.weight"], weights["embeddings.LayerNorm.bias"])
        self.layers = [self._layer(weights, f"encoder.layer.{i}.") for i in range(int(config["num_hidden_layers"]))]
        self.max_tokens = min(max_tokens, len(self.positions))
        tokenizer.no_padding()
        tokenizer.enable_truncation(self.max_tokens)
        self.tokenizer = tokenizer

    @classmethod
    def load(cls, folder: str | Path) -> SentenceEncoder:
        """The model in ``folder`` (``config.json``, ``model.safetensors``, ``tokenizer.json``)."""
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        folder = Path(folder)
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        return cls(load_file(str(folder / "model.safetensors")), config,
                   Tokenizer.from_file(str(folder / "tokenizer.json")))

    @staticmethod
    def _layer(w: dict[str, np.ndarray], p: str) -> _Layer:
        def t(name: str) -> np.ndarray:
            return np.ascontiguousarray(w[p + name + ".weight"].T)

        attention = [w[p + f"attention.self.{n}.weight"] for n in ("query", "key", "value")]
        return _Layer(
            qkv=np.ascontiguousarray(np.concatenate(attention).T),
            qkv_bias=np.concatenate([w[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")]),
            out=t("attention.output.dense"), out_bias=w[p + "attention.output.dense.bias"],
            norm1=(w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"]),
            up=t("intermediate.dense"), up_bias=w[p + "intermediate.dense.bias"],
            down=t("output.dense"), down_bias=w[p + "output.dense.bias"],
            norm2=(w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"]))

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Mean-pooled, L2-normalised sentence vectors, one float32 row per text (shape ``(len(texts), dim)``).
        Texts are batched by length, so padding stays small; longer than ``max_tokens`` tokens are truncated."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self.tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            out[rows] = self._forward([encodings[i].ids for i in rows])
        return out

    def _forward(self, token_ids: list[list[int]]) -> np.ndarray:
        n = max(len(ids) for ids in token_ids)
        ids = np.zeros((len(token_ids), n), dtype=np.int64)
        mask = np.zeros((len(token_ids), n), dtype=np.float32)
        for row, seq in enumerate(token_ids):
            ids[row, :len(seq)] = seq
            mask[row, :len(seq)] = 1.0
        x = _layer_norm(self.words[ids] + self.positions[:n] + self.token_type, *self.norm0, self.eps)
        batch, heads, size = len(token_ids), self.heads, self.dim // self.heads
        padding = ((mask - 1.0) * np.float32(1e9))[:, None, None, :]  # 0 on tokens, -1e9 on padding
        scale = np.float32(1 / math.sqrt(size))
        for layer in self.layers:
            qkv = (x @ layer.qkv + layer.qkv_bias).reshape(batch, n, 3, heads, size)
            q, k, v = (qkv[:, :, i].transpose(0, 2, 1, 3) for i in range(3))
            scores = q @ k.transpose(0, 1, 3, 2) * scale + padding
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            attended = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, n, self.dim)
            x = _layer_norm(attended @ layer.out + layer.out_bias + x, *layer.norm1, self.eps)
            hidden = _gelu(x @ layer.up + layer.up_bias)
            x = _layer_norm(hidden @ layer.down + layer.down_bias + x, *layer.norm2, self.eps)
        pooled = (x * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
