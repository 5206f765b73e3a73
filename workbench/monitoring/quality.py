"""Sampled quality: score the captured production outputs with reference-free checks, track them over time and
alert when they fall below the config's threshold or drop against the baseline window.

Production has no reference answers, so only checks that need none apply (the same rules as
``workbench.scoring``): ``non_empty``; ``length`` within the variant's ``output.max_chars``; ``answered`` (not a
refusal, ``workbench.scoring.is_refusal``); ``json_valid`` against the variant's schema when it has one;
``grounded`` — the share of the answer's content words found in the documents the input carried (≥ 0.5 passes;
a lexical heuristic). A captured request that ended ``failed`` or ``escalated`` without output counts as a fail.
Extra reference-free scorers (an LLM judge wrapper, say) are ``{name: fn(inputs, output) -> float | None}``; a
value ≥ 0.5 passes, None is unmeasured.

    scores = score_rows(data.rows, config)            # {row id: RowScore}
    q = quality(data.window, scores, threshold=config.gate.min_pass_rate, bucket_seconds=86400)
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .alerts import Alert
from .logdata import iso, parse_input
from .ops import by_bucket

MIN_SCORED = 30
"""Fewest scored outputs for a quality figure to be alerted on."""
ExtraScorer = Callable[[dict[str, Any] | None, str], float | None]
_WORD = re.compile(r"[^\W_]{3,}", re.UNICODE)
_STOP = frozenset(["the", "and", "for", "are", "was", "were", "with", "that", "this", "from", "have", "has", "not", "you", "your", "can", "will", "they", "their", "there", "which", "what", "when", "where", "who", "how", "its", "into", "also", "than", "then", "them", "these", "those", "been", "being", "but", "our", "any", "all", "per", "each", "may", "must", "should", "would", "could", "about"])


@dataclass(frozen=True)
class QualityRules:
    """When the quality section judges a window, and what counts as a drop against the baseline window."""

    min_scored: int = MIN_SCORED
    """Scored outputs needed in the window (else ``insufficient_data``), and in both windows to compare."""
    alpha: float = 0.01
    """Significance level of the two-proportion z-test against the baseline."""
    min_drop: float = 0.10
    """Smallest fall in pass rate (as a share) that raises ``quality_drop``, however significant."""


@dataclass(frozen=True)
class RowScore:
    """Reference-free checks of one captured output."""

    passed: bool
    """Every measured check passed."""
    checks: dict[str, float | None] = field(default_factory=dict)
    """Check name -> value in [0, 1] (None = unmeasured)."""


def _content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


def grounded(output: str, inputs: dict[str, Any] | None) -> float | None:
    """Share of the answer's content words found in the input's documents (None without documents)."""
    docs = (inputs or {}).get("documents")
    if not isinstance(docs, list) or not docs:
        return None
    context = _content_words(" ".join(str(d.get("text", "")) if isinstance(d, dict) else str(d) for d in docs))
    words = _content_words(output)
    if not words:
        return None
    return len(words & context) / len(words)


def judge_scorer(tier: str = "judge", prompt: str = "judge_correctness") -> ExtraScorer:
    """An extra scorer that asks the LLM judge (``workbench.scoring.LLMJudge``) about a captured output, without a
    reference: the rubric then grades whether the context supports the answer. Unparseable or failed verdicts are
    unmeasured (None), never 0. Offline this is the heuristic ``local/judge`` (kappa 0.455 on the shipped labels:
    a trend signal, not a gate)."""
    from ..evalsets.evalset import Sample
    from ..scoring.judge import LLMJudge

    judge = LLMJudge(tier=tier, prompt=prompt)

    def score(inputs: dict[str, Any] | None, output: str) -> float | None:
        if not inputs or not str(inputs.get("question") or "").strip():
            return None
        docs = [d for d in inputs.get("documents") or [] if isinstance(d, dict) and "text" in d]
        # no reference answer in production: a category whose empty `expected` is allowed and means "no reference"
        sample = Sample(id="captured", category="adversarial", inputs={
            "question": str(inputs["question"]), "documents": [{"id": str(d.get("id", "")), "text": str(d["text"])}
                                                               for d in docs]})
        result = judge.score(sample, output)
        return result.value if result.measured else None

    return score


def _settings(config: Any, variant: str | None) -> tuple[int, dict[str, Any] | None]:
    """``(max_chars, json schema or None)`` of a variant (defaults without a config)."""
    if config is None:
        return 4000, None
    variants = config.variants
    cfg = variants.get(variant) if variant in variants else next(iter(variants.values()))
    return cfg.output.max_chars, cfg.output.json_schema or cfg.prompt.output_schema


def score_output(output: str, inputs: dict[str, Any] | None, *, max_chars: int = 4000,
                 schema: dict[str, Any] | None = None, extra: dict[str, ExtraScorer] | None = None) -> RowScore:
    """The reference-free checks of one output."""
    from ..scoring.text import is_refusal

    text = output.strip()
    checks: dict[str, float | None] = {"non_empty": float(bool(text)), "length": float(0 < len(output) <= max_chars)}
    refused = bool(text) and is_refusal(text)
    checks["answered"] = float(bool(text) and not refused)
    if schema is not None:
        from ..scoring.checks import JsonValid

        checks["json_valid"] = JsonValid(schema=schema).score(None, output).value
    checks["grounded"] = None if refused or not text else grounded(text, inputs)
    for name, fn in (extra or {}).items():
        try:
            checks[name] = fn(inputs, output)
        except Exception:  # noqa: BLE001 - a failing extra scorer is unmeasured, not a crash
            checks[name] = None
    passed = all(v >= 0.5 for v in checks.values() if v is not None)
    return RowScore(passed, checks)


def score_rows(rows: list[dict[str, Any]], config: Any = None,
               extra: dict[str, ExtraScorer] | None = None) -> dict[int, RowScore]:
    """Scores of every captured row (``raw_output`` kept, or ``raw_input`` kept and no output), by row ``id``."""
    out: dict[int, RowScore] = {}
    for r in rows:
        key = r.get("id")
        if key is None or r["status"] == "rejected":
            continue
        if r.get("raw_output") is not None:
            max_chars, schema = _settings(config, r.get("variant"))
            out[key] = score_output(r["raw_output"], parse_input(r.get("raw_input")), max_chars=max_chars,
                                    schema=schema, extra=extra)
        elif r.get("raw_input") is not None and r["status"] in ("failed", "escalated"):
            out[key] = RowScore(False, {"non_empty": 0.0})
    return out


def scored(rows: list[dict[str, Any]], scores: dict[int, RowScore]) -> list[tuple[dict[str, Any], RowScore]]:
    """``(row, score)`` for the scored rows among ``rows`` (rows need their ``id``)."""
    return [(r, scores[r["id"]]) for r in rows if r.get("id") is not None and r["id"] in scores]


def _summary(pairs: list[tuple[dict[str, Any], RowScore]]) -> dict[str, Any]:
    n = len(pairs)
    checks: dict[str, list[float]] = {}
    for _, s in pairs:
        for name, v in s.checks.items():
            if v is not None:
                checks.setdefault(name, []).append(v)
    from ..stats.rates import wilson_interval

    passed = sum(s.passed for _, s in pairs)
    return {"scored": n, "pass_rate": (passed / n) if n else None,
            "pass_rate_ci": list(wilson_interval(passed, n)) if n else None,
            "checks": {k: sum(v) / len(v) for k, v in checks.items()}}


def quality(window: list[dict[str, Any]], scores: dict[int, RowScore], *, threshold: float,
            baseline: list[dict[str, Any]] | None = None, bucket_seconds: float = 86400.0,
            rules: QualityRules | None = None) -> dict[str, Any]:
    """The ``quality`` part of the report: pass rate and checks over the window, per bucket and per variant, and
    the comparison with the baseline window (two-proportion z-test; ``rules`` default ``QualityRules()``)."""
    rules = rules or QualityRules()
    min_scored = rules.min_scored
    pairs = scored(window, scores)
    out: dict[str, Any] = {"status": "ok", "threshold": threshold, **_summary(pairs),
                           "buckets": [{"start": iso(b), **_summary(scored(g, scores))}
                                       for b, g in by_bucket(window, bucket_seconds).items()],
                           "by_variant": {}, "baseline": None}
    variants = sorted({str(r.get("variant")) for r, _ in pairs})
    out["by_variant"] = {v: _summary([(r, s) for r, s in pairs if str(r.get("variant")) == v])
                         for v in variants}
    if len(pairs) < min_scored:
        out.update(status="insufficient_data", needed=min_scored)
    base = scored(baseline or [], scores)
    if len(base) >= min_scored and len(pairs) >= min_scored:
        k1, n1 = sum(s.passed for _, s in base), len(base)
        k2, n2 = sum(s.passed for _, s in pairs), len(pairs)
        from ..stats.rates import fisher_exact_p

        out["baseline"] = {"scored": n1, "pass_rate": k1 / n1, "difference": k2 / n2 - k1 / n1,
                           "p_value": fisher_exact_p(k1, n1, k2, n2), "test": "fisher_exact", "alpha": rules.alpha,
                           "min_drop": rules.min_drop}
    return out


def quality_alerts(q: dict[str, Any], *, start: float, end: float) -> list[Alert]:
    """``quality_below_threshold`` (window pass rate under the gate's ``min_pass_rate``) and ``quality_drop``
    (significantly lower than the baseline window by at least ``min_drop``)."""
    if q["status"] != "ok":
        return []
    alerts = []
    rate, threshold = q["pass_rate"], q["threshold"]
    if rate < threshold:
        alerts.append(Alert("quality_below_threshold", "pass_rate",
                            f"{rate:.1%} of {q['scored']} sampled outputs pass the reference-free checks "
                            f"(95% CI {q['pass_rate_ci'][0]:.1%} to {q['pass_rate_ci'][1]:.1%}; threshold "
                            f"{threshold:.0%})", value=rate, threshold=threshold, start=start, end=end,
                            severity="critical", details={"checks": q["checks"]}))
    b = q.get("baseline")
    if b and b["difference"] <= -b["min_drop"] and b["p_value"] < b["alpha"]:
        alerts.append(Alert("quality_drop", "pass_rate",
                            f"sampled pass rate fell from {b['pass_rate']:.1%} to {rate:.1%} "
                            f"({b['difference'] * 100:+.1f} points, p = {b['p_value']:.2g})", value=rate,
                            threshold=b["pass_rate"], start=start, end=end, details=dict(b)))
    return alerts
