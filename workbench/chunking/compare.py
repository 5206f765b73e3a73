"""Compare chunking strategies on a corpus: boundary quality, sizes and retrieval, as rows for a DataFrame."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from .base import Chunk
from .quality import chunk_quality
from .retrieval import Query, retrieval_quality
from .spec import make_chunker, registry


def document_strategies() -> list[str]:
    """Strategies meant for documents (``conversation`` is for transcripts)."""
    return sorted(s for s in registry() if s != "conversation")


def chunk_corpus(documents: dict[str, str], strategy: str, **params: Any) -> tuple[list[Chunk], float]:
    """All chunks of all documents (``source`` = document name) and the seconds it took."""
    chunker = make_chunker(strategy, **params)
    start = time.perf_counter()
    chunks = [c for name, text in documents.items() for c in chunker.chunk(text, source=name)]
    return chunks, time.perf_counter() - start


def compare_quality(documents: dict[str, str], strategies: list[str] | None = None,
                    sizes: tuple[int, ...] = (256, 512), model: str | None = None) -> list[dict[str, Any]]:
    """One row per (strategy, max_tokens): chunk count, sizes, MB/s and every boundary-quality figure."""
    rows = []
    for strategy in strategies or document_strategies():
        for size in sizes:
            chunks, seconds = chunk_corpus(documents, strategy, max_tokens=size, model=model)
            by_doc = [(text, [c for c in chunks if c.source == name]) for name, text in documents.items()]
            report = chunk_quality(by_doc, size, seconds=seconds).to_dict()
            rows.append({"strategy": strategy, "max_tokens": size, **report})
    return rows


def chunk_sizes(documents: dict[str, str], strategies: list[str] | None = None, max_tokens: int = 256,
                model: str | None = None) -> list[dict[str, Any]]:
    """One row per chunk (strategy, source, tokens) for size-distribution plots."""
    return [{"strategy": s, "source": c.source, "tokens": c.tokens}
            for s in strategies or document_strategies()
            for c in chunk_corpus(documents, s, max_tokens=max_tokens, model=model)[0]]


@dataclass(frozen=True)
class RetrievalOptions:
    """How ``compare_retrieval`` measures retrieval over the chunks."""

    ks: tuple[int, ...] = (1, 3, 5)
    """The k of each recall@k reported."""
    embedder: Any = None
    """The ``Embedder`` of the embedding retrieval (None: ``HashingEmbedder()``)."""


def compare_retrieval(documents: dict[str, str], queries: list[Query], strategies: list[str] | None = None,
                      max_tokens: int = 256, *, model: str | None = None,
                      options: RetrievalOptions | None = None) -> list[dict[str, Any]]:
    """One row per (strategy, retrieval method): recall@k, MRR and how many answers the chunking cut apart.
    ``model``: the chunkers' tokenizer model; ``options``: the k's and the embedder
    (``RetrievalOptions()``)."""
    options = options or RetrievalOptions()
    rows = []
    for strategy in strategies or document_strategies():
        chunks, _ = chunk_corpus(documents, strategy, max_tokens=max_tokens, model=model)
        for method in ("bm25", "embedding"):
            report = retrieval_quality(chunks, documents, queries, ks=options.ks, method=method,
                                       embedder=options.embedder)
            rows.append({"strategy": strategy, "max_tokens": max_tokens, "chunks": len(chunks), **report.to_dict()})
    return rows
