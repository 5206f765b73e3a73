"""Export the winning variant of an experiment as a hashed production config, with the evidence that chose it.

    from workbench.release.export import ExportOptions, evidence_from_results, export_config, write_schema
    from workbench.config.production import GateThresholds
    ev = evidence_from_results(results, "grounded_qa@v3 · medium")      # pass rates with 95% CIs, cost, errors
    cfg = export_config(results, "grounded_qa@v3 · medium", name="northwind-qa",
                        gate=GateThresholds(min_pass_rate=0.5), path="build/configs/pipeline.yaml")
    export_config(results, ..., options=ExportOptions(override_reason="canary to collect labels"))
    write_schema("build/configs/pipeline.schema.json")

The variant's ``PipelineConfig`` is rebuilt from the run's manifest (the exact config the experiment scored, its hash
checked), so nothing is re-described by hand. An export whose evidence misses a gate threshold is **refused**
(``ExportRefusedError``, listing each missed threshold, the measured value and the gap) unless an
``ExportOptions(override_reason=...)`` is given, which is then recorded in ``evidence.override_reason`` for
reviewers to see.
No secrets and no deployment settings go into the file (checked before writing).

Notebook-side: uses numpy/scipy for the bootstrap intervals; the runner never imports this module.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._util.secrets import check_no_secrets
from ..errors import ConfigError, ExportRefusedError, UsageError
from .fallbacks import unevaluated_fallbacks
from .gate import check_thresholds, measure


def _records_of(results: Any, variant: str) -> list[Any]:
    if variant not in results.variants:
        raise UsageError(f"no variant {variant!r} in the run {results.folder}",
                         hint=f"choose one of: {', '.join(results.variants)}")
    records = [r for r in results.records if r.variant == variant]
    if not records:
        raise UsageError(f"variant {variant!r} has no records in {results.folder}: run the experiment first")
    return records


def _with_ci(values: list[float]) -> dict[str, float | int | None]:
    """Mean with a 95% percentile-bootstrap interval (``workbench.stats.bootstrap_ci``, seeded)."""
    if not values:
        return {"value": None, "ci_low": None, "ci_high": None, "n": 0}
    from ..stats import bootstrap_ci

    lo, hi = bootstrap_ci(values, n_boot=5000, seed=0)
    return {"value": sum(values) / len(values), "ci_low": lo, "ci_high": hi, "n": len(values)}


def _rate_with_ci(outcomes: list[float]) -> dict[str, float | int | None]:
    """A rate of 0/1 outcomes with its 95% Wilson score interval (``workbench.stats.wilson_interval``)."""
    if not outcomes:
        return {"value": None, "ci_low": None, "ci_high": None, "n": 0}
    from ..stats.rates import wilson_interval

    k, n = int(sum(outcomes)), len(outcomes)
    lo, hi = wilson_interval(k, n)
    return {"value": k / n, "ci_low": lo, "ci_high": hi, "n": n}


def provenance_of(records: list[Any]) -> Any:
    """Who answered ``records`` (``answered_by`` per model) and how their costs are known (per basis)."""
    from collections import Counter

    from ..config.production import Provenance

    return Provenance(answered_by=dict(Counter(r.answered_by for r in records if r.answered_by)),
                      cost_bases=dict(Counter(r.cost_basis for r in records if r.cost_basis)))


def evidence_from_results(results: Any, variant: str, experiment: str | None = None,
                          shipped: list[str] | None = None):
    """The evidence for one variant of a run: overall pass rate and pass rate per category (errors count as fails,
    same rules as ``ExperimentResults``), each with a 95% Wilson interval and n; cost per item (bootstrap
    interval); error rate (status neither ok nor expected, Wilson); the eval set's name and hash from the run's manifest."""
    from ..config.production import Evidence
    from ..experiments.results import OVERALL

    records = _records_of(results, variant)
    values = results.values(variant, OVERALL)
    category = {r.sample_id: r.category for r in records}
    scores: dict[str, dict[str, float | int | None]] = {}
    measured = [float(v) for v in values.values() if v is not None]
    scores["pass_rate"] = {**_rate_with_ci(measured), "unmeasured": len(values) - len(measured)}
    for cat in dict.fromkeys(category.values()):
        scores[f"pass_rate[{cat}]"] = _rate_with_ci([float(v) for sid, v in values.items()
                                                     if v is not None and category.get(sid) == cat])
    scores["error_rate"] = _rate_with_ci([float(r.status not in ("ok", r.expected_status)) for r in records])
    costs = [r.answer_cost_usd for r in records]
    scores["cost_per_item_usd"] = _with_ci([float(c) for c in costs]) if all(c is not None for c in costs) \
        else {"value": None, "ci_low": None, "ci_high": None, "n": len(costs)}
    ev = results.manifest.get("evalset", {})
    provenance = {name: provenance_of(_records_of(results, name)) for name in dict.fromkeys([variant, *(shipped or [])])}
    return Evidence(experiment=experiment or results.manifest.get("name") or results.folder.name,
                    evalset_name=str(ev.get("name")),
                    evalset_hash=ev.get("hash", ""), variant=variant, scores=scores, provenance=provenance)


def measured_from_evidence(evidence: Any) -> dict[str, Any]:
    """The figures ``check_thresholds`` reads, from an ``Evidence`` record."""
    s = evidence.scores
    overall = s.get("pass_rate", {})
    unmeasured = overall.get("unmeasured") or 0
    categories = {k[len("pass_rate["):-1]: v for k, v in s.items() if k.startswith("pass_rate[")}
    return {"pass_rate": overall.get("value"), "n_measured": overall.get("n"),
            "n": (overall.get("n") or 0) + unmeasured if overall.get("n") is not None else None,
            "unmeasured": unmeasured,
            "by_category": {c: v.get("value") for c, v in categories.items()},
            "n_by_category": {c: v.get("n") for c, v in categories.items()},
            "error_rate": s.get("error_rate", {}).get("value"),
            "cost_per_item_usd": s.get("cost_per_item_usd", {}).get("value")}


def pipeline_config_of(results: Any, variant: str):
    """The exact ``PipelineConfig`` a run scored for ``variant`` (rebuilt from the manifest, hash checked)."""
    from ..config.pipeline import PipelineConfig

    entry = results.manifest.get("variants", {}).get(variant)
    if entry is None:
        raise UsageError(f"no variant {variant!r} in the run {results.folder}",
                         hint=f"choose one of: {', '.join(results.variants)}")
    cfg = PipelineConfig(**entry["config"])
    if entry.get("config_hash") and cfg.hash != entry["config_hash"]:
        raise ConfigError(f"variant {variant!r}: the manifest's config does not match its hash "
                          f"({entry['config_hash'][:19]}…)", hint="re-run the experiment into a fresh folder")
    return cfg


@dataclass(frozen=True)
class ExportOptions:
    """Everything an export may add to the winning variant and its gate, e.g.
    ``ExportOptions(override_reason="canary to collect labels")``. A field left None takes the default."""

    candidates: dict[str, str] | None = None
    """Other variants of the same run to ship alongside, by name (the keys), for an A/B test."""
    split: dict[str, float] | None = None
    """Traffic per shipped variant, e.g. ``{winner: 0.9, candidate: 0.1}`` (default: all to the winner)."""
    degradation: Any = None
    """A ``DegradationPolicy`` (default: ``DegradationPolicy()``)."""
    escalation: Any = None
    """``EscalationRules`` (default: ``EscalationRules()``)."""
    logging: Any = None
    """``LoggingSettings`` (default: ``LoggingSettings()``)."""
    override_reason: str | None = None
    """Export even though a gate threshold is missed or a fallback's own prompt was never evaluated; recorded in
    ``evidence.override_reason``, with the checks it lifted in ``evidence.overridden``."""
    accept_stand_in_evidence: str | None = None
    """Why the runner and the gate may use this config with real models although offline stand-ins answered its
    evidence (its thresholds were measured on heuristics); recorded like the other overrides."""
    experiment: str | None = None
    """The experiment's name in the evidence (default: the run's manifest name, else its folder's)."""
    created_at: str | None = None
    """The ``created_at`` timestamp (default: now, UTC, ISO 8601)."""


def export_config(results: Any, variant: str, *, name: str, gate: Any, options: ExportOptions | None = None,
                  path: str | Path | None = None):
    """The production config ``name`` for ``variant`` of ``results`` (an ``ExperimentResults``), hashed.

    Every shipped variant (the winner and ``options.candidates``) is checked against ``gate``; a miss raises
    ``ExportRefusedError`` unless ``options.override_reason`` is given (it is then recorded in the evidence).
    ``path`` writes the YAML."""
    from ..config.production import (
        DegradationPolicy,
        EscalationRules,
        LoggingSettings,
        ProductionConfig,
        TrafficSplit,
    )

    opts = options or ExportOptions()
    names = [variant, *(c for c in (opts.candidates or {}) if c != variant)]
    variants = {n: pipeline_config_of(results, n) for n in names}
    evidence = evidence_from_results(results, variant, opts.experiment, shipped=names)
    missed = [(variant, c) for c in check_thresholds(gate, measured_from_evidence(evidence)) if not c.passed]
    for cand in names[1:]:
        m = measure(_records_of(results, cand))
        missed += [(cand, c) for c in check_thresholds(gate, m) if not c.passed]
    evidence = _with_overrides(evidence, missed, unevaluated_fallbacks(results, variants), opts)
    weights = opts.split or {variant: 1.0, **{c: 0.0 for c in names[1:]}}
    config = ProductionConfig(
        name=name, variants=variants, split=TrafficSplit(weights=weights),
        degradation=opts.degradation or DegradationPolicy(), escalation=opts.escalation or EscalationRules(),
        gate=gate, logging=opts.logging or LoggingSettings(), evidence=evidence,
        created_at=opts.created_at or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())).with_hash()
    check_no_secrets(config.model_dump(mode="json"))
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        header = (f"# Exported pipeline config {name!r}: do not edit by hand. config_hash covers every field;\n"
                  f"# an edited file is refused. Re-export with workbench.release.export_config.\n")
        path.write_text(header + config.to_yaml(), encoding="utf-8")
    return config


def _with_overrides(evidence: Any, missed: list[tuple[str, Any]], fallbacks: list[str], opts: ExportOptions) -> Any:
    """The evidence with the checks an override lifted recorded; ``ExportRefusedError`` listing every failed check
    when there is no ``override_reason``."""
    reason = (opts.override_reason or "").strip()
    failed = [f"{v}: {c.describe()}" for v, c in missed] + fallbacks
    if failed and not reason:
        raise ExportRefusedError(f"{len(failed)} check(s) failed — " + "; ".join(failed), checks=[c for _, c in missed],
                                 hint="choose another variant, evaluate the fallbacks' prompts on their own models "
                                      "(a variant per fallback tier), change the thresholds with a reason, or pass "
                                      "options=ExportOptions(override_reason=...) to export anyway (it is recorded)")
    overridden = (["thresholds"] if missed else []) + (["unevaluated_fallback_prompts"] if fallbacks else [])
    stand_ins = [n for n, p in evidence.provenance.items() if p.on_stand_ins]
    accepted = (opts.accept_stand_in_evidence or "").strip()
    if stand_ins and accepted:
        overridden.append("stand_in_evidence")
        reason = f"{reason}; {accepted}" if reason else accepted
    return evidence.model_copy(update={"override_reason": reason or None, "overridden": overridden})


def write_schema(path: str | Path) -> Path:
    """Write the JSON Schema of ``ProductionConfig`` (``configs/pipeline.schema.json``)."""
    from ..config.production import ProductionConfig

    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "ProductionConfig",
              **ProductionConfig.json_schema()}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
