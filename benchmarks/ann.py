"""The semantic cache's index against existing ANN libraries (usearch, hnswlib, faiss-cpu: wheels, no PyTorch), at
100k and 1M entries: build time, lookup time, recall and memory, all measured in the same run.

The task is the cache's: for a query, *the best stored entry at cosine >= threshold*, or none. Ground truth is an
exact scan (``vectors @ q``). Recall = the share of queries with a true hit where the method returns that entry
(a method may only *miss*: every candidate is re-scored exactly, as the cache does, so no method invents a hit).

- ``sketch``: the hand-written sign-bit index (``workbench.caches.index.SketchIndex``): candidates, then exact
  cosine of those.
- ``usearch`` / ``hnswlib`` / ``faiss``: an HNSW graph (M=16, ef_construction=128, ef_search=64, inner product);
  its top-10, re-scored exactly.
- ``numpy``: the exact scan itself, the yardstick (its absolute time is printed).

Entries are distinct Northwind Ledger questions from ``benchmarks/runner.py``'s templates, embedded with the default
``HashingEmbedder`` (384 dimensions); at 1M, 100k question vectors are extended with noisy copies (each a stored
vector plus noise at cosine ~0.9-0.97, renormalised): a cache full of near-duplicates, the hard case for an index.
Queries: paraphrases of stored questions and unrelated ones. Memory is each index's own structure beyond the
float32 vectors (which the cache keeps anyway for exact re-scoring): measured by serializing hnswlib's and faiss's
indexes; usearch reports its whole footprint, its own copy of the vectors included.

    uv pip install usearch hnswlib faiss-cpu          # not dependencies of workbench: only for this comparison
    python benchmarks/ann.py --sizes 100000
    python benchmarks/ann.py --sizes 100000 1000000 --json results/ann.json
"""
from __future__ import annotations

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import runner as base  # noqa: E402  - the question templates of benchmarks/runner.py

K = 10
THRESHOLDS = (0.95, 0.8)


def corpus(n: int, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """``n`` unit vectors: embedded distinct questions (up to 100k), then noisy copies of them."""
    from workbench.models import HashingEmbedder

    rng = np.random.default_rng(seed)
    texts: dict[str, None] = {}
    while len(texts) < min(n, 100_000):
        text, _ = base.fill(rng, int(rng.integers(len(base.TEMPLATES))))
        texts[text] = None
    questions = list(texts)
    vectors = HashingEmbedder().embed(questions).astype(np.float32)
    if n > len(vectors):
        extra = n - len(vectors)
        picks = vectors[rng.integers(len(vectors), size=extra)]
        noise = rng.standard_normal(picks.shape).astype(np.float32)
        noise /= np.linalg.norm(noise, axis=1, keepdims=True)
        mix = rng.uniform(0.25, 0.48, size=(extra, 1)).astype(np.float32)  # tan(acos(c)): cosine ~0.9-0.97
        copies = picks + mix * noise
        copies /= np.linalg.norm(copies, axis=1, keepdims=True)
        vectors = np.vstack([vectors, copies])
    return vectors, questions


def queries(questions: list[str], count: int, seed: int = 1) -> np.ndarray:
    from workbench.models import HashingEmbedder

    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        if i % 3 == 2:  # unrelated
            out.append(f"What is the capital of country number {i} in the atlas?")
        else:
            q = questions[int(rng.integers(len(questions)))]
            old, new = base.PARAPHRASES[int(rng.integers(len(base.PARAPHRASES)))]
            out.append(q.replace(old, new, 1))
    return HashingEmbedder().embed(out).astype(np.float32)


def truth(vectors: np.ndarray, qs: np.ndarray, threshold: float) -> tuple[list[int | None], float]:
    answers, times = [], []
    for q in qs:
        start = time.perf_counter()
        scores = vectors @ q
        best = int(np.argmax(scores))
        times.append(time.perf_counter() - start)
        answers.append(best if scores[best] >= threshold else None)
    return answers, statistics.median(times)


def rescore(vectors: np.ndarray, q: np.ndarray, ids: np.ndarray, threshold: float) -> int | None:
    ids = np.asarray(ids, dtype=np.int64)
    ids = ids[ids >= 0]
    if len(ids) == 0:
        return None
    scores = vectors[ids] @ q
    best = int(np.argmax(scores))
    return int(ids[best]) if scores[best] >= threshold else None


class Sketch:
    name = "sketch"

    def __init__(self, dim: int):
        from workbench.caches.index import SketchIndex

        self.index = SketchIndex(dim)

    def build(self, vectors: np.ndarray) -> None:
        self.index.add(vectors)

    def candidates(self, q: np.ndarray, threshold: float) -> np.ndarray:
        return self.index.candidates(q, threshold)

    def nbytes(self) -> int:
        return self.index.nbytes


class Usearch:
    name = "usearch"

    def __init__(self, dim: int):
        from usearch.index import Index

        self.index = Index(ndim=dim, metric="ip", dtype="f32", connectivity=16, expansion_add=128,
                           expansion_search=64)

    def build(self, vectors: np.ndarray) -> None:
        self.index.add(np.arange(len(vectors)), vectors)

    def candidates(self, q: np.ndarray, threshold: float) -> np.ndarray:
        return self.index.search(q, K).keys

    def nbytes(self) -> int:  # its whole footprint: it keeps its own copy of the vectors
        return int(self.index.memory_usage)


class Hnswlib:
    name = "hnswlib"

    def __init__(self, dim: int):
        import hnswlib

        self.index = hnswlib.Index(space="ip", dim=dim)
        self.dim = dim

    def build(self, vectors: np.ndarray) -> None:
        self.index.init_index(max_elements=len(vectors), ef_construction=128, M=16)
        self.index.add_items(vectors, np.arange(len(vectors)))
        self.index.set_ef(64)

    def candidates(self, q: np.ndarray, threshold: float) -> np.ndarray:
        return self.index.knn_query(q, k=K)[0][0]

    def nbytes(self) -> int:  # the saved index, less the vectors it copies
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "index.bin"
            self.index.save_index(str(path))
            return path.stat().st_size - self.index.get_current_count() * self.dim * 4


class Faiss:
    name = "faiss"

    def __init__(self, dim: int):
        import faiss

        self.index = faiss.IndexHNSWFlat(dim, 16, faiss.METRIC_INNER_PRODUCT)
        self.index.hnsw.efConstruction = 128

    def build(self, vectors: np.ndarray) -> None:
        self.index.add(vectors)
        self.index.hnsw.efSearch = 64

    def candidates(self, q: np.ndarray, threshold: float) -> np.ndarray:
        return self.index.search(q.reshape(1, -1), K)[1][0]

    def nbytes(self) -> int:  # the serialized index, less the vectors it stores
        import faiss

        return int(faiss.serialize_index(self.index).nbytes - self.index.ntotal * self.index.d * 4)


METHODS = (Sketch, Usearch, Hnswlib, Faiss)


def run_size(n: int, n_queries: int) -> dict[str, Any]:
    start = time.perf_counter()
    vectors, questions = corpus(n)
    qs = queries(questions, n_queries)
    print(f"\n{n:,} entries (corpus and queries embedded in {time.perf_counter() - start:.0f} s, excluded)")
    truths = {t: truth(vectors, qs, t) for t in THRESHOLDS}
    scan_ms = statistics.median(m for _, m in truths.values()) * 1000
    print(f"  numpy exact scan: {scan_ms:.3f} ms per query (the yardstick)")
    out: dict[str, Any] = {"entries": n, "queries": n_queries, "scan_ms": scan_ms, "methods": {}}
    for cls in METHODS:
        try:
            method = cls(vectors.shape[1])
        except ImportError as e:
            print(f"  {cls.name:8s} skipped ({e.name} not installed)")
            continue
        start = time.perf_counter()
        method.build(vectors)
        build_s = time.perf_counter() - start
        row: dict[str, Any] = {"build_s": build_s, "extra_mb": method.nbytes() / 1e6}
        for t in THRESHOLDS:
            expected, _ = truths[t]
            times, found = [], 0
            for q, want in zip(qs, expected, strict=True):
                s = time.perf_counter()
                got = rescore(vectors, q, method.candidates(q, t), t)
                times.append(time.perf_counter() - s)
                found += want is not None and got == want
            hits = sum(w is not None for w in expected)
            lookup = statistics.median(times) * 1000
            row[f"t{t}"] = {"lookup_ms": lookup, "x_faster_than_scan": scan_ms / lookup,
                            "recall": found / hits if hits else None, "true_hits": hits}
        out["methods"][cls.name] = row
        cells = "  ".join(f"@{t}: {row[f't{t}']['lookup_ms']:.3f} ms ({row[f't{t}']['x_faster_than_scan']:.1f}x), "
                          f"recall {row[f't{t}']['recall']:.3f}" for t in THRESHOLDS)
        print(f"  {cls.name:8s} build {build_s:6.1f} s, +{row['extra_mb']:.0f} MB  {cells}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = [run_size(n, args.queries) for n in args.sizes]
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
