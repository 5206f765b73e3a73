"""New eval cases from production: drifted inputs and resolved escalations, in the eval-sample format of
notebook 01 (``workbench.evalsets.Sample``), plus how drift relates to the sampled quality.

A drifted input has no reference answer: when production answered it, the answer is kept as a *draft* expected
answer (category ``edge``, tag ``needs-review``, ``metadata.draft_expected: true``) for a reviewer to confirm or
correct; when production refused or failed, it becomes an ``unanswerable`` draft with the same tag. Resolved
escalations with a human answer go through ``workbench.runner.escalation.to_candidate_sample``.

    rows = drifted_inputs(reference, data.window, scores)
    samples = candidate_samples(rows, data.escalations)
    export_candidates(samples, "build/candidates.jsonl")     # then notebook 01's review
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .drift import Reference, drift_reasons, question_of
from .logdata import iso, parse_input
from .quality import RowScore


def drifted_inputs(reference: Reference, window: list[dict[str, Any]],
                   scores: dict[int, RowScore] | None = None) -> list[dict[str, Any]]:
    """Captured window rows whose input looks unlike the reference, each with ``reasons`` and ``passed``."""
    out = []
    parsed = [parse_input(r.get("raw_input")) for r in window]
    reasons_per_row = drift_reasons(reference, [question_of(x) for x in parsed])
    for r, inputs, reasons in zip(window, parsed, reasons_per_row, strict=True):
        if reasons:
            score = (scores or {}).get(r.get("id"))
            out.append({**r, "inputs": inputs, "reasons": reasons, "passed": None if score is None else score.passed})
    return out


def drift_quality(window: list[dict[str, Any]], drifted: list[dict[str, Any]],
                  scores: dict[int, RowScore]) -> dict[str, Any]:
    """Sampled pass rate of drifted inputs against the other captured inputs of the window."""
    ids = {r.get("id") for r in drifted}
    groups: dict[str, list[bool]] = {"drifted": [], "other": []}
    for r in window:
        s = scores.get(r.get("id"))
        if s is not None:
            groups["drifted" if r.get("id") in ids else "other"].append(s.passed)

    def rate(xs: list[bool]) -> float | None:
        return (sum(xs) / len(xs)) if xs else None

    a, b = rate(groups["drifted"]), rate(groups["other"])
    return {"drifted_scored": len(groups["drifted"]), "other_scored": len(groups["other"]),
            "pass_rate_drifted": a, "pass_rate_other": b,
            "difference": None if a is None or b is None else a - b}


def drift_sample(row: dict[str, Any]) -> dict[str, Any]:
    """One drifted input as a draft eval sample (see the module docstring)."""
    from ..scoring.text import is_refusal

    inputs = {k: v for k, v in (row.get("inputs") or {}).items() if k != "id"}
    docs = inputs.get("documents") if isinstance(inputs.get("documents"), list) else []
    inputs["documents"] = [{"id": str(d.get("id") or f"doc-{i + 1}"), "text": str(d.get("text", ""))}
                           if isinstance(d, dict) else {"id": f"doc-{i + 1}", "text": str(d)}
                           for i, d in enumerate(docs)]
    output = row.get("raw_output")
    answered = bool(output and output.strip()) and not is_refusal(output)
    key = str(row.get("input_hash") or row.get("id")).removeprefix("sha256:")[:12]
    return {"id": f"drift-{key}", "inputs": inputs, "expected": [output] if answered else [],
            "category": "edge" if answered else "unanswerable",
            "tags": ["from-production", "drift", "needs-review", *row.get("reasons", [])],
            "criteria": [{"scorer": "contains_any"}] if answered else [{"scorer": "refusal"}],
            "metadata": {"draft_expected": answered, "item_id": row.get("item_id"), "variant": row.get("variant"),
                         "seen_at": iso(row.get("ts")), "drift_reasons": row.get("reasons", []),
                         "model_output": output}}


def candidate_samples(drifted: list[dict[str, Any]], escalations: list[dict[str, Any]] = ()) -> list[dict[str, Any]]:
    """Eval-sample dicts: one per distinct drifted input, then every resolved escalation with a human answer.
    Each is checked against ``workbench.evalsets.Sample``."""
    from ..evalsets.evalset import Sample
    from ..store.escalation import to_candidate_sample

    out, seen = [], set()
    for row in drifted:
        sample = drift_sample(row)
        if sample["id"] not in seen and question_ok(sample):
            seen.add(sample["id"])
            out.append(sample)
    out += [to_candidate_sample(e) for e in escalations if e.get("status") == "resolved" and e.get("human_answer")]
    return [Sample.model_validate(s).to_json() for s in out]


def question_ok(sample: dict[str, Any]) -> bool:
    """True when the candidate sample has a non-blank string question."""
    return isinstance(sample["inputs"].get("question"), str) and bool(sample["inputs"]["question"].strip())


def export_candidates(samples: list[dict[str, Any]], path: str | Path) -> Path:
    """Write candidate samples as JSONL (the eval-set format notebook 01 loads)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(s, ensure_ascii=False) + "\n" for s in samples), encoding="utf-8")
    return path
