"""Retrieval quality of a chunking: does search find the chunk that holds the answer?

For each question whose answer text lies in a document, the *relevant* chunks are those of that document that
contain a whole occurrence of the answer. All chunks of all documents are ranked by BM25 (bm25s) or by cosine
similarity under an ``Embedder``; we report recall@k (a relevant chunk in the top k) and MRR (mean of 1 / rank
of the first relevant chunk; 0 for a query none of whose chunks holds the whole answer, i.e. the chunking cut
through the answer — those are counted in ``unanswerable``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from .base import Chunk


@dataclass(frozen=True, slots=True)
class Query:
    """A question whose answer text appears verbatim in the document ``source``."""

    question: str
    source: str
    answer: str


@dataclass(frozen=True)
class RetrievalReport:
    """Recall@k and MRR over the queries; ``unanswerable`` counts queries no chunk contains whole."""

    method: str
    queries: int
    recall: dict[int, float]
    mrr: float
    unanswerable: int = 0
    ranks: list[int | None] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """A flat JSON-ready row: method, queries, MRR, unanswerable and one ``recall@k`` key per k."""
        return {"method": self.method, "queries": self.queries, "mrr": self.mrr, "unanswerable": self.unanswerable,
                **{f"recall@{k}": v for k, v in self.recall.items()}}


def relevant(chunks: list[Chunk], documents: dict[str, str], q: Query) -> set[int]:
    """Indices of the chunks of ``q.source`` that contain a whole occurrence of the answer."""
    text = documents[q.source]
    spans, pos = [], text.find(q.answer)
    while pos >= 0:
        spans.append((pos, pos + len(q.answer)))
        pos = text.find(q.answer, pos + 1)
    return {i for i, c in enumerate(chunks) if c.source == q.source
            and any(c.start <= s and e <= c.end for s, e in spans)}


def _bm25_scores(chunks: list[Chunk], questions: list[str]) -> np.ndarray:
    import bm25s

    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize([c.text for c in chunks], stopwords="en", show_progress=False),
                    show_progress=False)
    tokens = bm25s.tokenize(questions, stopwords="en", show_progress=False)
    docs, scores = retriever.retrieve(tokens, k=len(chunks), show_progress=False)
    out = np.zeros((len(questions), len(chunks)), dtype=np.float32)
    np.put_along_axis(out, docs, scores, axis=1)
    return out


def _embedding_scores(chunks: list[Chunk], questions: list[str], embedder: Any) -> np.ndarray:
    if embedder is None:
        from ..models.embedders import HashingEmbedder

        embedder = HashingEmbedder()
    return embedder.embed(questions) @ embedder.embed([c.text for c in chunks]).T


def retrieval_quality(chunks: list[Chunk], documents: dict[str, str], queries: list[Query],
                      ks: tuple[int, ...] = (1, 3, 5), method: Literal["bm25", "embedding"] = "bm25",
                      embedder: Any = None) -> RetrievalReport:
    """Rank every chunk for every query; recall@k and MRR of the first relevant chunk."""
    if not chunks or not queries:
        return RetrievalReport(method, len(queries), {k: 0.0 for k in ks}, 0.0, len(queries))
    questions = [q.question for q in queries]
    scores = _bm25_scores(chunks, questions) if method == "bm25" else \
        _embedding_scores(chunks, questions, embedder)
    order = np.argsort(-scores, axis=1, kind="stable")
    ranks: list[int | None] = []
    unanswerable = 0
    for qi, q in enumerate(queries):
        good = relevant(chunks, documents, q)
        unanswerable += not good
        hits = np.flatnonzero(np.isin(order[qi], list(good))) if good else []
        ranks.append(int(hits[0]) + 1 if len(hits) else None)
    n = len(queries)
    recall = {k: sum(1 for r in ranks if r is not None and r <= k) / n for k in ks}
    mrr = sum(1.0 / r for r in ranks if r is not None) / n
    return RetrievalReport(method, n, recall, mrr, unanswerable, ranks)
