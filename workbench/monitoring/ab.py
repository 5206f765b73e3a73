"""A/B in production, as one sequential experiment across every ``workbench monitor`` run: per-variant quality
(sampled), cost, latency and errors from the live split; each candidate against the control (the variant with the
largest split weight) with **always-valid confidence sequences** (``workbench.stats.sequential``), so looking
every day does not inflate the error rate; and one of four outcomes.

Three criteria per candidate — the sampled pass rate, the error rate, the cost per request — each a confidence
sequence of *candidate − control* over the inverse-probability-weighted stream of the two arms' requests since the
experiment started. The error rate α (``ABRules.alpha``, 5 %) is **spent** across criteria and candidates
(Bonferroni: α / (3 × candidates) each), so the chance that *any* of them ever excludes the truth is at most α, at
any number of looks. The outcomes, in this order:

- ``continue`` — fewer than ``min_scored`` sampled outputs (or ``min_requests`` requests) on a side, or the
  sequences cannot decide yet; the evidence and the planned horizon say how far along it is;
- ``roll back`` — quality lower (its sequence entirely below 0) or the error rate higher (entirely above 0);
- ``promote`` — quality not worse by more than ``margin`` (the sequence's low end above −margin) *and* either
  quality higher (above 0) or cost per request lower (entirely below 0);
- ``stop for futility`` — quality within ±``margin`` for sure and not cheaper (nothing to gain), or the planned
  horizon reached without a decision.

A decision, once made, is kept in the experiment's stored state (``ab_state``) and reported at later looks with
the evidence it was made on. The horizon is planned before any data: the scored outputs at which a true quality
gain of ``min_effect`` (at a ``planning_rate`` pass rate) is detected with ``power`` (80 %). Reference-free checks
cannot see a confident wrong answer: confirm a promotion with ``workbench gate`` before ``workbench rollout
promote``.
"""
from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np

from .alerts import Alert
from .ops import percentile
from .quality import RowScore

MIN_SCORED = 30
MIN_REQUESTS = 50
CRITERIA = ("quality", "error_rate", "cost_per_request")


@dataclass(frozen=True)
class ABRules:
    """How the sequential A/B decides (see the module docstring)."""

    min_scored: int = MIN_SCORED
    """Sampled (scored) outputs needed on each side before any decision."""
    min_requests: int = MIN_REQUESTS
    """Requests needed on each side before any decision."""
    margin: float = 0.02
    """How much lower quality (as a share) still counts as "not worse"; also the band of "no meaningful gain"."""
    alpha: float = 0.05
    """The chance of any wrong decision over the whole experiment, at any number of looks."""
    min_effect: float = 0.05
    """The smallest quality gain (pass-rate share) worth detecting: the horizon is planned for it."""
    power: float = 0.8
    """The chance of detecting ``min_effect`` by the planned horizon."""
    planning_rate: float = 0.8
    """The control's pass rate the horizon is planned at (before any data)."""


def bootstrap_difference(a: list[float], b: list[float], *, n_boot: int = 4000, ci: float = 0.95,
                         seed: int = 0) -> dict[str, float | int]:
    """Mean of ``b`` − mean of ``a`` with a two-sample percentile bootstrap interval: valid at one look only
    (kept for one-off comparisons; the A/B uses confidence sequences)."""
    x, y = np.asarray(a, float), np.asarray(b, float)
    rng = np.random.default_rng(seed)
    diffs = (y[rng.integers(0, len(y), size=(n_boot, len(y)))].mean(axis=1)
             - x[rng.integers(0, len(x), size=(n_boot, len(x)))].mean(axis=1))
    lo, hi = np.quantile(diffs, [(1 - ci) / 2, (1 + ci) / 2])
    return {"difference": float(y.mean() - x.mean()), "ci_low": float(lo), "ci_high": float(hi),
            "n_a": len(x), "n_b": len(y), "ci": ci}


def _values(rows: list[dict[str, Any]], scores: dict[int, RowScore]) -> dict[str, list[float]]:
    return {"quality": [float(scores[r["id"]].passed) for r in rows if r.get("id") in scores],
            "cost": [r["cost_usd"] for r in rows if r["cost_usd"] is not None and r["status"] != "rejected"],
            "latency": [r["latency_ms"] for r in rows if r["latency_ms"] is not None],
            "failed": [float(r["status"] == "failed") for r in rows]}


def _describe(values: dict[str, list[float]], n: int) -> dict[str, Any]:
    def mean(xs: list[float]) -> float | None:
        return float(np.mean(xs)) if xs else None

    return {"requests": n, "scored": len(values["quality"]), "pass_rate": mean(values["quality"]),
            "cost_per_request": mean(values["cost"]), "latency_p50_ms": percentile(values["latency"], 50),
            "latency_mean_ms": mean(values["latency"]), "error_rate": mean(values["failed"])}


def recommend(comparison: dict[str, Any], *, margin: float = 0.02) -> tuple[str, str]:
    """``(outcome, reason)`` from one candidate's evidence: each criterion a ``{"difference", "ci_low",
    "ci_high"}`` interval (see the module docstring); ``horizon_reached`` ends it for futility."""
    if comparison.get("quality") is None:
        return "continue", comparison.get("reason", "not enough data on one side")
    for rule in (_roll_back, _promote, _futile):
        found = rule(comparison, margin)
        if found is not None:
            return found
    return "continue", "the sequences cannot tell the variants apart yet"


def _roll_back(c: dict[str, Any], margin: float) -> tuple[str, str] | None:
    q, failed = c["quality"], c.get("error_rate")
    if q["ci_high"] < 0:
        return "roll back", f"quality is lower by {-q['difference'] * 100:.1f} points (the sequence is below 0)"
    if failed is not None and failed["ci_low"] > 0:
        return "roll back", f"the error rate is higher by {failed['difference'] * 100:.1f} points"
    return None


def _cheaper(c: dict[str, Any]) -> bool:
    cost = c.get("cost_per_request")
    return cost is not None and cost["ci_high"] < 0


def _promote(c: dict[str, Any], margin: float) -> tuple[str, str] | None:
    q = c["quality"]
    if q["ci_low"] > -margin and (q["ci_low"] > 0 or _cheaper(c)):
        return "promote", ("quality is higher" if q["ci_low"] > 0 else
                           f"quality is not worse (by more than {margin * 100:.0f} points) and cost per request "
                           "is lower")
    return None


def _futile(c: dict[str, Any], margin: float) -> tuple[str, str] | None:
    q = c["quality"]
    if -margin < q["ci_low"] and q["ci_high"] < margin:
        return "stop for futility", (f"quality is within ±{margin * 100:.0f} points of the control and the "
                                     "candidate is not cheaper: nothing to gain")
    if c.get("horizon_reached"):
        return "stop for futility", "the planned horizon was reached without a decision"
    return None


def _stream(rows: list[dict[str, Any]], value: Any, candidate: str) -> tuple[list[float], list[bool]]:
    ys, arms = [], []
    for r in rows:
        y = value(r)
        if y is not None:
            ys.append(float(y))
            arms.append(r["variant"] == candidate)
    return ys, arms


def _plan(rules: ABRules, share: float, alpha_each: float) -> dict[str, Any]:
    """The horizon and the mixture parameters, fixed before any data of the experiment."""
    from ..stats.sequential import planned_horizon, stream_sd, tuned_rho

    p = rules.planning_rate
    sd_q = stream_sd(p, min(p + rules.min_effect, 1.0), share)
    horizon = planned_horizon(rules.min_effect, sd_q, alpha_each, power=rules.power)
    return {"horizon_scored": horizon, "share": share, "alpha_each": alpha_each,
            "rho": {"quality": tuned_rho(horizon, sd_q, alpha_each),
                    "error_rate": tuned_rho(horizon, stream_sd(0.02, 0.02, share), alpha_each)}}


def _compare(rows: list[dict[str, Any]], scores: dict[int, RowScore], candidate: str,
             plan: dict[str, Any]) -> dict[str, Any]:
    """The confidence sequence of each criterion (candidate − control)."""
    from ..stats.sequential import confidence_sequence, tuned_rho, weighted_stream

    share, alpha = plan["share"], plan["alpha_each"]
    getters = {"quality": lambda r: float(scores[r["id"]].passed) if r.get("id") in scores else None,
               "error_rate": lambda r: float(r["status"] == "failed"),
               "cost_per_request": lambda r: r["cost_usd"] if r["status"] != "rejected" else None}
    out: dict[str, Any] = {}
    for name, get in getters.items():
        ys, arms = _stream(rows, get, candidate)
        if len(ys) < 2 or all(arms) or not any(arms):
            continue
        stream = weighted_stream(ys, arms, share)
        rho = plan["rho"].get(name)
        if rho is None:  # cost: its scale is only known from data; fixed at the first look and kept
            sd = float(np.std(stream, ddof=1)) or 1e-12
            rho = plan["rho"][name] = tuned_rho(plan["horizon_scored"], sd, alpha)
        cs = confidence_sequence(stream, alpha=alpha, rho=rho)
        out[name] = {"difference": cs.estimate, "ci_low": cs.low, "ci_high": cs.high, "n": cs.n,
                     "method": "asymptotic confidence sequence", "alpha": alpha}
    return out


def ab(window: list[dict[str, Any]], scores: dict[int, RowScore], weights: dict[str, float] | None = None, *,
       rules: ABRules | None = None, state: dict[str, Any] | None = None,
       now: float | None = None) -> tuple[dict[str, Any], list[Alert]]:
    """The ``ab`` part of the report, and an ``ab_rollback`` alert per candidate to roll back.

    ``window``: the requests of the experiment so far (every look sees all of them, from its start); ``state``:
    the experiment's stored state (``ab_state.load_state``), updated in place — its control, plans, looks and
    decisions (``None``: a one-off look, nothing kept)."""
    rules = rules or ABRules()
    state = {} if state is None else state
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in window:
        if r.get("variant"):
            groups[str(r["variant"])].append(r)
    values = {v: _values(g, scores) for v, g in groups.items()}
    described = {v: _describe(values[v], len(groups[v])) for v in sorted(groups)}
    if len(groups) < 2:
        return {"status": "single_variant", "variants": described}, []
    weights = weights or {}
    control = state.get("control")
    if control not in groups:  # the first look fixes it for the whole experiment
        control = state["control"] = max(groups, key=lambda v: (weights.get(v, 0.0), len(groups[v]), v))
    candidates = sorted(v for v in groups if v != control)
    out: dict[str, Any] = {"status": "ok", "control": control, "method": _METHOD, "alpha": rules.alpha,
                           "variants": described, "comparisons": {}}
    ordered = sorted((r for r in window if r.get("variant")), key=lambda r: r.get("ts") or 0.0)
    alerts = []
    for cand in candidates:
        exp = state.setdefault("candidates", {}).setdefault(cand, {"looks": 0, "decision": None})
        exp.setdefault("plan", _plan(rules, _share(weights, control, cand, groups),
                                     rules.alpha / (len(CRITERIA) * len(candidates))))
        enough = _enough(rules, values[control], values[cand], len(groups[control]), len(groups[cand]))
        comp = {"horizon_scored": exp["plan"]["horizon_scored"], "share": exp["plan"]["share"]}
        if enough is not None:
            comp["reason"] = enough
        else:
            comp |= _compare([r for r in ordered if r["variant"] in (control, cand)], scores, cand, exp["plan"])
            comp["horizon_reached"] = comp.get("quality", {}).get("n", 0) >= exp["plan"]["horizon_scored"]
        out["comparisons"][cand] = comp = _decide(comp, exp, rules, now)
        if comp["recommendation"] == "roll back":
            alerts.append(Alert("ab_rollback", "pass_rate", f"roll back {cand!r}: {comp['reason']}",
                                value=comp["quality"]["difference"] if "quality" in comp else None,
                                scope=f"variant={cand}", severity="critical"))
    return out, alerts


def _enough(rules: ABRules, a: dict[str, list[float]], b: dict[str, list[float]], n_a: int, n_b: int) -> str | None:
    """Why a candidate cannot be judged yet (too few scored outputs or requests on a side), or None."""
    if min(len(a["quality"]), len(b["quality"])) < rules.min_scored or min(n_a, n_b) < rules.min_requests:
        return (f"needs {rules.min_scored} sampled outputs and {rules.min_requests} requests per variant; has "
                f"{len(a['quality'])}/{len(b['quality'])} and {n_a}/{n_b}")
    return None


def _decide(comp: dict[str, Any], exp: dict[str, Any], rules: ABRules, now: float | None) -> dict[str, Any]:
    """This look's outcome; the first decision is kept in the experiment's state and reported from then on."""
    exp["looks"] += 1
    comp["look"] = exp["looks"]
    outcome, reason = recommend(comp, margin=rules.margin)
    if exp["decision"] is None and outcome != "continue":
        exp["decision"] = {"outcome": outcome, "reason": reason, "look": exp["looks"],
                           "at": now if now is not None else time.time(),
                           "evidence": {k: comp[k] for k in CRITERIA if k in comp}}
    elif exp["decision"] is not None:
        decided = exp["decision"]
        outcome, reason = decided["outcome"], f"{decided['reason']} (decided at look {decided['look']})"
    comp["recommendation"], comp["reason"], comp["decision"] = outcome, reason, exp["decision"]
    return comp


_METHOD = ("asymptotic confidence sequences (Waudby-Smith et al. 2024), inverse-probability-weighted two-arm "
           "stream, alpha spent across criteria and candidates")


def _share(weights: dict[str, float], control: str, cand: str, groups: dict[str, list[Any]]) -> float:
    """The candidate's share of the two arms' traffic: from the split weights, else as observed."""
    w_c, w_0 = weights.get(cand, 0.0), weights.get(control, 0.0)
    if w_c > 0 and w_0 > 0:
        return w_c / (w_c + w_0)
    n_c, n_0 = len(groups[cand]), len(groups[control])
    return min(max(n_c / (n_c + n_0), 0.01), 0.99)
