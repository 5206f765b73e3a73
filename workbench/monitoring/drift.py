"""Input drift: recent inputs against the eval set (or a baseline window) — input length, language mix, input
classes, question length and language, and topics — with PSI and a test per feature.

A feature **drifts** when both say so: PSI ≥ ``psi_threshold`` (0.25, the usual "major shift") *and* the test's
p < ``alpha`` (0.01): two-sample Kolmogorov–Smirnov for numbers, chi-square on the 2×k table for categories.
PSI alone is biased upward on small samples and a test alone flags negligible shifts on large ones; requiring
both keeps a stable stream quiet. A side with fewer than ``min_rows`` values gives
``{"status": "insufficient_data", "rows": n, "needed": min_rows}`` instead of a p-value.

Topics: questions are embedded with ``HashingEmbedder`` and clustered (k-means, seeded) on the reference; each
recent question goes to its nearest cluster, or to ``new`` when it is less similar to every centroid than 99 %
of the reference questions are to theirs. Per-feature columns come from every request; question features from
the captured sample (``raw_input``).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from .logdata import parse_input

MIN_ROWS = 50
PSI_THRESHOLD = 0.25
ALPHA = 0.01
NUMERIC_FEATURES = ("input_chars", "question_chars")
CATEGORICAL_FEATURES = ("language", "length_class", "content_type", "question_language", "topic")


@dataclass(frozen=True)
class Reference:
    """The reference side of the drift tests: per-feature values and the topic model fitted on them."""

    name: str
    """``evalset:<name>`` or ``window``."""
    values: dict[str, list[Any]]
    topics: Any
    """A ``TopicModel`` (None when there were too few questions to fit one)."""


# ---- statistics -----------------------------------------------------------------------------------------------
def psi(expected: np.ndarray, actual: np.ndarray, eps: float = 1e-4) -> float:
    """Population stability index of two count vectors over the same bins (smoothed with ``eps``)."""
    e = np.asarray(expected, float) / max(float(np.sum(expected)), 1.0)
    a = np.asarray(actual, float) / max(float(np.sum(actual)), 1.0)
    e, a = np.clip(e, eps, None), np.clip(a, eps, None)
    return float(np.sum((a - e) * np.log(a / e)))


def numeric_test(ref: list[float], cur: list[float]) -> dict[str, Any]:
    """PSI over reference-quantile bins and the two-sample KS test."""
    from scipy.stats import ks_2samp

    r, c = np.asarray(ref, float), np.asarray(cur, float)
    k = int(min(10, max(4, min(len(r), len(c)) // 25)))
    edges = np.unique(np.quantile(r, np.linspace(0, 1, k + 1))[1:-1])

    def counts(x: np.ndarray) -> np.ndarray:
        return np.bincount(np.searchsorted(edges, x, side="right"), minlength=len(edges) + 1)

    ks = ks_2samp(r, c)
    return {"test": "ks", "psi": psi(counts(r), counts(c)), "statistic": float(ks.statistic),
            "p_value": float(ks.pvalue), "reference_median": float(np.median(r)), "current_median": float(np.median(c))}


def categorical_test(ref: list[str], cur: list[str]) -> dict[str, Any]:
    """PSI over the categories and the chi-square test of the 2×k table."""
    from scipy.stats import chi2_contingency

    cats = sorted(set(ref) | set(cur))
    rc, cc = Counter(ref), Counter(cur)
    table = np.array([[rc[x] for x in cats], [cc[x] for x in cats]], float)
    p = 1.0 if len(cats) < 2 else float(chi2_contingency(table)[1])

    def share(counter: Counter, n: int) -> dict[Any, float]:
        return {x: round(counter[x] / n, 4) for x in cats}

    return {"test": "chi2", "psi": psi(table[0], table[1]), "p_value": p,
            "reference_share": share(rc, len(ref)), "current_share": share(cc, len(cur))}


def compare(name: str, ref: list[Any], cur: list[Any], *, min_rows: int = MIN_ROWS,
            psi_threshold: float = PSI_THRESHOLD, alpha: float = ALPHA) -> dict[str, Any]:
    """One feature's drift verdict."""
    ref = [v for v in ref if v is not None]
    cur = [v for v in cur if v is not None]
    n = min(len(ref), len(cur))
    if n < min_rows:
        return {"status": "insufficient_data", "rows": len(cur), "reference_rows": len(ref), "needed": min_rows}
    result = numeric_test(ref, cur) if name in NUMERIC_FEATURES else categorical_test([str(v) for v in ref],
                                                                                   [str(v) for v in cur])
    drifted = result["psi"] >= psi_threshold and result["p_value"] < alpha
    return {"status": "drift" if drifted else "ok", "rows": len(cur), "reference_rows": len(ref), **result}


# ---- topics ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TopicModel:
    """k-means centroids over ``HashingEmbedder`` vectors and the similarity below which a question is ``new``."""

    centroids: np.ndarray
    floor: float

    @classmethod
    def fit(cls, texts: list[str], k: int = 8, seed: int = 0, iterations: int = 25) -> TopicModel | None:
        """Fit on reference questions (None with fewer than ``3 * k`` of them)."""
        if len(texts) < 3 * k:
            return None
        x = _embed(texts)
        rng = np.random.default_rng(seed)
        centroids = x[rng.choice(len(x), size=k, replace=False)]
        for _ in range(iterations):
            labels = np.argmax(x @ centroids.T, axis=1)
            for j in range(k):
                members = x[labels == j]
                if len(members):
                    c = members.mean(axis=0)
                    centroids[j] = c / (np.linalg.norm(c) or 1.0)
        best = np.max(x @ centroids.T, axis=1)
        return cls(centroids, float(np.quantile(best, 0.01)))

    def assign(self, texts: list[str]) -> list[str]:
        """Cluster labels (``t0``..) or ``new``."""
        if not texts:
            return []
        sims = _embed(texts) @ self.centroids.T
        best, labels = np.max(sims, axis=1), np.argmax(sims, axis=1)
        return ["new" if b < self.floor else f"t{j}" for b, j in zip(best, labels, strict=True)]


def _embed(texts: list[str]) -> np.ndarray:
    from ..models.embedders import HashingEmbedder

    return HashingEmbedder().embed(texts)


# ---- features -------------------------------------------------------------------------------------------------
def question_of(inputs: dict[str, Any] | None) -> str | None:
    """The question of an input (None when it has none)."""
    q = (inputs or {}).get("question")
    return q if isinstance(q, str) and q.strip() else None


def row_features(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Per-feature values of log rows (question features from captured rows only; ``_questions`` keeps the
    question texts for the topic model)."""
    from ..inputs.language import detect_language

    questions = [q for q in (question_of(parse_input(r.get("raw_input"))) for r in rows) if q]
    return {"input_chars": [r["input_chars"] for r in rows], "language": [r.get("language") for r in rows],
            "length_class": [r.get("length_class") for r in rows], "content_type": [r.get("content_type") for r in rows],
            "question_chars": [len(q) for q in questions], "question_language": [detect_language(q) for q in questions],
            "_questions": questions}


def input_classes(inputs: dict[str, Any], policy: Any = None) -> dict[str, str]:
    """The runner's classes of an input: the policy's fields joined and classified (``workbench.inputs``), without
    the validation work (normalisation rarely changes a class)."""
    from ..inputs.classes import classify
    from ..inputs.fields import selected
    from ..inputs.policy import InputPolicy

    policy = policy or InputPolicy()
    texts, _ = selected(inputs, policy.fields)
    return classify("\n\n".join(t for _, t in texts), short=policy.short_max_chars, medium=policy.medium_max_chars,
                    long=policy.long_max_chars)


def evalset_features(samples: list[Any], policy: Any = None) -> dict[str, list[Any]]:
    """The same features for eval samples, classified with the pipeline's input policy (as the runner does)."""
    from ..inputs.language import detect_language
    from ..store.rows import text_chars

    inputs = [s.inputs.model_dump(mode="json") if hasattr(s, "inputs") else s for s in samples]
    classes = [input_classes(x, policy) for x in inputs]
    questions = [q for q in (question_of(x) for x in inputs) if q]
    return {"input_chars": [text_chars(x) for x in inputs], "language": [c.get("language") for c in classes],
            "length_class": [c.get("length") for c in classes], "content_type": [c.get("content_type") for c in classes],
            "question_chars": [len(q) for q in questions], "question_language": [detect_language(q) for q in questions],
            "_questions": questions}


def reference_from(name: str, values: dict[str, list[Any]]) -> Reference:
    """A reference with its topic model fitted on its questions."""
    topics = TopicModel.fit(values["_questions"])
    values = dict(values, topic=topics.assign(values["_questions"]) if topics else [])
    return Reference(name, values, topics)


def drift(reference: Reference, window: list[dict[str, Any]], *, min_rows: int = MIN_ROWS,
          psi_threshold: float = PSI_THRESHOLD, alpha: float = ALPHA) -> dict[str, Any]:
    """The ``drift`` part of the report."""
    cur = row_features(window)
    cur["topic"] = reference.topics.assign(cur["_questions"]) if reference.topics else []
    features = {name: compare(name, reference.values.get(name, []), cur[name], min_rows=min_rows,
                              psi_threshold=psi_threshold, alpha=alpha)
                for name in (*NUMERIC_FEATURES, *CATEGORICAL_FEATURES)}
    statuses = [f["status"] for f in features.values()]
    if all(s == "insufficient_data" for s in statuses):
        return {"status": "insufficient_data", "rows": len(window), "needed": min_rows, "baseline": reference.name,
                "features": features}
    return {"status": "drift" if "drift" in statuses else "ok", "rows": len(window), "baseline": reference.name,
            "drifted_features": [n for n, f in features.items() if f["status"] == "drift"], "features": features,
            "psi_threshold": psi_threshold, "alpha": alpha}


# ---- drifted inputs -------------------------------------------------------------------------------------------
def drift_reasons(reference: Reference, questions: list[str | None]) -> list[list[str]]:
    """Why each question looks unlike the reference: ``language:<xx>`` (under 1 % of the reference),
    ``topic:new`` and ``long_question`` (longer than every reference question); [] for None."""
    from ..inputs.language import detect_language

    present = [q for q in questions if q]
    topics = iter(reference.topics.assign(present) if reference.topics is not None else ["?"] * len(present))
    langs = Counter(reference.values.get("question_language", []))
    total = sum(langs.values()) or 1
    longest = max(reference.values.get("question_chars") or [0]) or None
    out = []
    for q in questions:
        if not q:
            out.append([])
            continue
        lang, reasons = detect_language(q), []
        if langs and langs[lang] / total < 0.01:
            reasons.append(f"language:{lang}")
        if next(topics) == "new":
            reasons.append("topic:new")
        if longest is not None and len(q) > longest:
            reasons.append("long_question")
        out.append(reasons)
    return out
