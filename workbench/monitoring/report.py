"""The monitoring report: operations, sampled quality, drift, costs and A/B over one window of the log store,
with the alerts that fired (stored, logged, and POSTed to a webhook).

    from workbench.monitoring import Window, monitor
    report = monitor("sqlite:///build/runner/runner.sqlite", config="configs/pipeline.yaml",
                     baseline="evalsets/northwind_qa.jsonl", window=Window(since="7d"))
    report.alerts, report.to_dict(), print(report.to_text()), report.exit_code     # 1 when an alert fired
    report.candidates                                                                # new eval samples
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import ab as ab_mod
from . import candidates as cand_mod
from . import costs as costs_mod
from . import drift as drift_mod
from . import ops as ops_mod
from . import quality as quality_mod
from .alerts import Alert, deliver
from .logdata import LogData, iso, load


@dataclass(frozen=True)
class Window:
    """The stretch of the log store a report covers: from ``since`` until now, e.g. ``Window(since="7d")``."""

    since: str | float | None = None
    """A duration back from now (``30m``, ``1h``, ``7d``, ``2w``), an ISO-8601 time or epoch seconds (None:
    the last 24 hours)."""
    clock: Callable[[], float] = time.time
    """Seconds now, the window's end (a fixed clock replays a simulated or past window)."""


@dataclass(frozen=True)
class AlertDelivery:
    """Where a report's alerts go besides the report, e.g. ``AlertDelivery(store=False, webhook=url)``."""

    store: bool = True
    """Store them in the log store's ``alerts`` table (one already there is not stored or posted again)."""
    webhook: str | None = None
    """POST them as JSON to this URL (a failure is reported in ``MonitorReport.delivery``, not raised)."""


_SECTION_OF = {"error_rate": "operations", "quality_below_threshold": "quality", "quality_drop": "quality",
               "drift": "drift", "cost_anomaly": "costs", "runaway_tokens": "costs", "retry_loop": "costs",
               "latency_anomaly": "costs", "ab_rollback": "ab"}
"""Which report section raises each alert kind (the cost-anomaly detector raises the last four)."""


@dataclass
class MonitorReport:
    """What ``monitor`` found. ``to_dict()`` is the ``--format json`` output (keys in docs/monitoring.md)."""

    sections: dict[str, Any]
    """``window``, ``store``, ``operations``, ``quality``, ``drift``, ``costs``, ``ab``, ``candidates``."""
    alerts: list[Alert] = field(default_factory=list)
    """Every alert that fired in this window."""
    candidates: list[dict[str, Any]] = field(default_factory=list)
    """Candidate eval samples (drifted inputs, resolved escalations) in the eval-sample format."""
    delivery: dict[str, Any] = field(default_factory=dict)
    """How the alerts were delivered: ``stored`` (new rows in ``alerts``), ``store_error``, ``webhook``."""
    data: LogData | None = field(default=None, repr=False)
    """The rows the report was made from (for plots)."""
    scores: dict[int, Any] = field(default_factory=dict, repr=False)
    """Reference-free scores of the captured outputs, by row id."""

    @property
    def exit_code(self) -> int:
        """1 when an alert fired, else 0."""
        return 1 if self.alerts else 0

    def to_dict(self) -> dict[str, Any]:
        """The ``--format json`` output: every section, the alerts and how they were delivered."""
        return {**self.sections, "alerts": [a.to_dict() for a in self.alerts], "delivery": self.delivery}

    def to_json(self) -> str:
        """``to_dict()`` as indented JSON (values JSON does not know as strings)."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, default=str)

    def _health(self, section: str, status: str) -> str:
        """A section's word in the summary: ``ALERT (n)`` when alerts of that section fired, never ``ok`` beside
        them; else the section's status (``ok``, ``insufficient_data``...)."""
        n = sum(_SECTION_OF.get(a.kind) == section for a in self.alerts)
        return f"ALERT ({n})" if n else status

    def to_text(self) -> str:
        """A short human summary; a section with an alert says so (it never reads ``ok`` beside its alerts)."""
        s = self.sections
        w, st, o = s["window"], s["store"], s["operations"]["overall"]
        lines = [(f"window {w['start']} → {w['end']}: {st['rows_window']} requests ({st['corrupt_rows']} corrupt "
                  f"rows skipped, {st['bad_values']} bad values) — store {st['status']}")]
        if o["requests"]:
            lat = o["latency_ms"]
            lines.append(f"operations: p50 {lat['p50']:.0f} ms, p95 {lat['p95']:.0f} ms, p99 {lat['p99']:.0f} ms; "
                         f"errors {o['error_rate']:.1%}; cache hits {(o['cache_hit_rate'] or 0):.1%}; "
                         f"fallback {o['fallback_rate']:.1%}; degraded {o['degraded_rate']:.1%}; "
                         f"escalated {o['escalation_rate']:.1%}")
        q = s["quality"]
        lines.append(f"quality: {self._health('quality', q['status'])}, {q['scored']} sampled outputs"
                     + (f", pass rate {q['pass_rate']:.1%} (threshold {q['threshold']:.0%})" if q["scored"] else ""))
        d = s["drift"]
        lines.append(f"drift vs {d.get('baseline')}: {self._health('drift', d['status'])}"
                     + (f" ({', '.join(d['drifted_features'])})" if d.get("drifted_features") else ""))
        c = s["costs"]
        unpriced = c["per_request"]["unpriced"]
        lines.append(f"costs: {self._health('costs', c['status'])}, ${c['total_usd']:.4f} in the window"
                     + (f" + {unpriced} unpriced request(s) (no known price, not counted as $0)" if unpriced else "")
                     + (f", ${c['per_request']['mean']:.6f} per request" if c["per_request"]["mean"] else "")
                     + (f"; saved by caches ${c['saved_usd']:.4f}" if c.get("saved_usd") else ""))
        for name, comp in (s["ab"].get("comparisons") or {}).items():
            lines.append(f"A/B {name} vs {s['ab']['control']} (look {comp['look']}, horizon "
                         f"{comp['horizon_scored']} scored outputs): {comp['recommendation']} — {comp['reason']}")
        lines.append(f"candidates: {s['candidates']['total']} new eval samples")
        lines += [f"ALERT {a.kind} [{a.metric}, {a.scope}]: {a.message}" for a in self.alerts] or ["no alerts"]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        import html

        return "<pre>" + html.escape(self.to_text()) + "</pre>"


def _config(config: Any) -> Any:
    if config is None or not isinstance(config, str | Path):
        return config
    from ..config.production import load_production_config

    return load_production_config(config)


def reference_for(baseline: Any, data: LogData, config: Any = None) -> drift_mod.Reference:
    """The drift reference: a prepared ``Reference`` as is, an eval set (object or path) or, without one, the
    baseline window (history rows)."""
    if isinstance(baseline, drift_mod.Reference):
        return baseline
    if baseline is None:
        return drift_mod.reference_from("window", drift_mod.row_features(data.history))
    if isinstance(baseline, str | Path):
        from ..evalsets.evalset import load_evalset

        baseline = load_evalset(baseline)
    policy = next(iter(config.variants.values())).input_policy if config is not None else None
    return drift_mod.reference_from(f"evalset:{baseline.name}", drift_mod.evalset_features(list(baseline), policy))


def monitor(db_url: str, config: Any = None, *, baseline: Any = None, window: Window | None = None,
            delivery: AlertDelivery | None = None,
            extra_scorers: dict[str, quality_mod.ExtraScorer] | None = None) -> MonitorReport:
    """Build the report for the ``window`` (default: the last 24 hours) and deliver its alerts (default:
    stored in the log store). ``config``: a ``ProductionConfig`` or its path (thresholds, schemas, split);
    ``baseline``: the drift reference, an eval set or its path, or a prepared ``Reference`` (reused across
    calls); default: the rows before the window. ``extra_scorers``: more reference-free scorers for the
    sampled outputs."""
    config = _config(config)
    window, delivery = window or Window(), delivery or AlertDelivery()
    data = load(db_url, since=window.since, clock=window.clock)
    rows, gate = data.window, getattr(config, "gate", None)
    scores = quality_mod.score_rows(data.rows, config, extra_scorers)
    span = data.end - data.start
    ops = ops_mod.operations(rows, start=data.start, end=data.end, bucket_seconds=3600.0 if span <= 3 * 86400
                             else 86400.0, queue_depth=data.queue_depth)
    alerts = ops_mod.ops_alerts(ops, max_error_rate=gate.max_error_rate if gate else 0.05, start=data.start,
                                end=data.end)
    q = quality_mod.quality(rows, scores, threshold=gate.min_pass_rate if gate else 0.5,
                            baseline=data.history)
    alerts += quality_mod.quality_alerts(q, start=data.start, end=data.end)
    reference = reference_for(baseline, data, config)
    d = drift_mod.drift(reference, rows)
    alerts += [Alert("drift", name, _drift_message(name, f), value=f["psi"], threshold=d["psi_threshold"],
                     start=data.start, end=data.end, details={k: v for k, v in f.items() if k != "status"})
               for name, f in d["features"].items() if f["status"] == "drift"]
    drifted = cand_mod.drifted_inputs(reference, rows, scores)
    c, cost_alerts = costs_mod.costs(data.rows, start=data.start, end=data.end,
                                     max_cost_per_item_usd=gate.max_cost_per_item_usd if gate else None)
    a, ab_alerts = _ab_section(db_url, config, data, scores, extra_scorers, keep=delivery.store)
    candidates = cand_mod.candidate_samples(drifted, data.escalations)
    sections = {"window": {"start": iso(data.start), "end": iso(data.end), "seconds": span,
                           "config": getattr(config, "name", None), "config_hash": getattr(config, "config_hash", None)},
                "store": data.summary(), "operations": ops, "quality": q, "drift": d,
                "drift_quality": cand_mod.drift_quality(rows, drifted, scores), "costs": c, "ab": a,
                "candidates": {"drifted_inputs": len(drifted), "total": len(candidates),
                               "resolved_escalations": sum(1 for s in candidates if "from-escalation" in s["tags"])}}
    alerts += cost_alerts + ab_alerts
    report = MonitorReport(sections, alerts, candidates, data=data, scores=scores)
    if delivery.store or delivery.webhook:
        report.delivery = deliver(alerts, db_url if delivery.store else None, now=data.end,
                                  webhook=delivery.webhook, report=sections)
    return report


def _ab_section(db_url: str, config: Any, data: LogData, scores: dict[int, Any], extra_scorers: Any, *,
                keep: bool) -> tuple[dict[str, Any], list[Alert]]:
    """The A/B over every request since the experiment started (its first look: this window), continuing the
    stored sequential experiment when ``keep`` (a report that stores nothing makes a one-off look)."""
    from . import ab_state

    weights = dict(config.split.weights) if config is not None else None
    key, rows = ab_state.experiment_key(config), data.window
    state = (ab_state.load_state(db_url, key) if keep else None) or {}
    started = state.setdefault("started_at", min((r["ts"] for r in rows if r.get("ts") is not None),
                                                 default=data.start))
    if started < data.start:  # later looks: everything since the start, not only this window
        since = load(db_url, since=started, clock=lambda: data.end, history_days=0)
        rows = since.window
        scores = quality_mod.score_rows(rows, config, extra_scorers)
    section, alerts = ab_mod.ab(rows, scores, weights, state=state, now=data.end)
    section["started_at"], section["experiment"] = iso(started), key
    if keep:
        ab_state.save_state(db_url, key, state, now=data.end)
    return section, alerts


def _drift_message(name: str, f: dict[str, Any]) -> str:
    if f["test"] == "ks":
        return (f"{name} drifted: median {f['reference_median']:.0f} → {f['current_median']:.0f} "
                f"(PSI {f['psi']:.2f}, KS D = {f['statistic']:.2f}, p = {f['p_value']:.2g}, {f['rows']} rows)")
    moved = sorted(f["current_share"], key=lambda k: -abs(f["current_share"][k] - f["reference_share"].get(k, 0)))[:3]
    shares = ", ".join(f"{k} {f['reference_share'].get(k, 0):.0%}→{f['current_share'][k]:.0%}" for k in moved)
    return f"{name} drifted: {shares} (PSI {f['psi']:.2f}, chi² p = {f['p_value']:.2g}, {f['rows']} rows)"
