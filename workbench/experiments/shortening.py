"""Is a shorter prompt worth it? Tokens and cost saved per item against the quality change, from one run.

    from workbench.experiments import compare_prompt_lengths
    d = compare_prompt_lengths(results, "grounded_qa@v2 · medium", "grounded_qa@v3 · medium", continuous="token_f1")
    d["input_tokens_saved_pct"], d["cost_saved_usd"], d["quality_difference"], d["ci_low"], d["verdict"]

Both variants must have run over the same samples (paired by ``sample_id``; repeats averaged). Tokens and cost per
item are means over the samples both variants ran (a rejected input counts as an item with no tokens and no cost,
for both); the quality change is ``ExperimentResults.compare`` (McNemar on pass/fail with a paired bootstrap
interval), plus a Wilcoxon signed-rank comparison of a continuous score (e.g. ``token_f1``) when ``continuous`` is
given. Costs keep their basis: offline stand-ins give ``simulated`` costs, and the verdict says so.

``usage_rows(results, variants)`` turns a run's records into the usage rows ``workbench.costs`` reads
(``item_costs``, ``routing_tradeoff``), adding ``priced_as`` — the real model of each record's tier, from the run's
manifest — so a stand-in's tokens are priced as the model it stands in for instead of as a free local model.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from .results import ExperimentResults, _cell_value

if TYPE_CHECKING:
    from ..stats import ComparisonOptions


def _tier_models(results: ExperimentResults, variant: str) -> dict[str, str]:
    config = results.manifest.get("variants", {}).get(variant, {}).get("config", {})
    return {name: tier.get("model") for name, tier in (config.get("tiers") or {}).items() if tier.get("model")}


def usage_rows(results: ExperimentResults, variants: Iterable[str] | None = None, *, scorer: str = "overall",
               answered_only: bool = False) -> list[dict[str, Any]]:
    """One dict per record of ``variants`` (default: all) with ``priced_as`` (the tier's real model, from the
    manifest), ``score`` (1.0/0.0 for pass/fail on ``scorer``, ``None`` when unmeasured), and ``cost_usd`` /
    ``cost_basis`` for what the answer costs without any cache (what a hit paid is ``paid_usd``).

    ``answered_only=True`` leaves out cells no tier answered (inputs the policy rejected): use it for
    ``item_costs``; keep them for ``routing_tradeoff``, where their tier reads ``(status)``, e.g. ``(rejected)``.
    """
    wanted = list(variants) if variants is not None else results.variants
    unknown = [v for v in wanted if v not in {r.variant for r in results.records}]
    if unknown:
        raise UsageError(f"no records for variant(s) {unknown}", hint=f"one of {', '.join(results.variants)}")
    models = {v: _tier_models(results, v) for v in wanted}
    rows = []
    for r in results.records:
        if r.variant not in models or (answered_only and not r.tier):
            continue
        _, passed = _cell_value(r, scorer)
        row = {k: v for k, v in r.to_dict().items() if k not in ("scores", "output", "tags")}
        row["tier"] = r.tier or f"({r.status})"
        row["priced_as"] = r.priced_as or models[r.variant].get(r.tier or "") or r.model
        row["paid_usd"], row["cost_usd"], row["cost_basis"] = r.cost_usd, r.answer_cost_usd, r.cost_basis
        row["score"] = None if passed is None else float(passed)
        rows.append(row)
    return rows


def _per_item(results: ExperimentResults, variant: str) -> dict[str, dict[str, Any]]:
    """``{sample_id: {"input_tokens", "output_tokens", "cost_usd", "bases"}}``, repeats averaged."""
    acc: dict[str, list[Any]] = {}
    for r in results.records:
        if r.variant == variant:
            acc.setdefault(r.sample_id, []).append(r)
    out = {}
    for sid, recs in acc.items():
        costs = [r.answer_cost_usd for r in recs]
        out[sid] = {"input_tokens": sum(r.input_tokens for r in recs) / len(recs),
                    "output_tokens": sum(r.output_tokens for r in recs) / len(recs),
                    "cost_usd": None if any(c is None for c in costs) else sum(costs) / len(recs),
                    "bases": {r.cost_basis for r in recs if r.cost_basis}}
    return out


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else math.nan


_TESTS = {"mcnemar_exact": "McNemar", "mcnemar_midp": "McNemar mid-p"}


def _verdict(d: dict[str, Any], scorer: str) -> str:
    def pts(x: float) -> str:
        return f"{100 * x:+.1f}"

    tokens = (f"{d['short_variant']} sends {d['input_tokens_saved']:,.0f} fewer input tokens per item than "
              f"{d['long_variant']} ({d['input_tokens_short']:,.0f} vs {d['input_tokens_long']:,.0f}, "
              f"{-100 * d['input_tokens_saved_pct']:+.1f} %)")
    if d["cost_saved_usd"] is None:
        cost = "; its cost is unpriced"
    else:
        basis = f", {d['cost_basis']}" if d["cost_basis"] else ""
        cost = (f" and costs ${d['cost_saved_usd']:.7f} less per item "
                f"({-100 * d['cost_saved_pct']:+.1f} %{basis})" if d["cost_saved_usd"] >= 0 else
                f" yet costs ${-d['cost_saved_usd']:.7f} more per item ({-100 * d['cost_saved_pct']:+.1f} %{basis})")
    diff, lo, hi = d["quality_difference"], d["ci_low"], d["ci_high"]
    quality = (f"the {scorer} pass rate changes by {pts(diff)} points (95 % CI {pts(lo)} to {pts(hi)}; "
               f"{_TESTS.get(d['test'], d['test'])} p = {d['p_value']:.3f}, {d['n_pairs']} pairs)")
    if d["significant"] and diff < 0:
        decision = "the shorter prompt costs quality: keep the longer one unless the saving is worth that loss"
    elif d["significant"]:
        decision = "the shorter prompt is cheaper and better"
    elif lo == hi == 0:
        decision = "both prompts passed and failed the same items, so the saving comes with no measured quality loss"
    else:
        decision = (f"no significant change; the interval still allows a loss of up to {-100 * min(lo, 0):.1f} "
                    f"points, so collect more samples before claiming the shortening is free")
    extra = ""
    if "continuous_difference" in d:
        extra = (f" Mean {d['continuous']} changes by {d['continuous_difference']:+.3f} (95 % CI "
                 f"{d['continuous_ci_low']:+.3f} to {d['continuous_ci_high']:+.3f}; Wilcoxon p = "
                 f"{d['continuous_p_value']:.3f}).")
    return f"{tokens}{cost}; {quality}: {decision}.{extra}"


def compare_prompt_lengths(results: ExperimentResults, long_variant: str, short_variant: str,
                           scorer: str = "overall", *, continuous: str | None = None,
                           options: ComparisonOptions | None = None) -> dict[str, Any]:
    """Tokens and cost per item saved by ``short_variant`` against ``long_variant``, and the quality change.

    Returns a JSON-safe dict: ``n_items``; ``input_tokens_long``/``_short``, ``input_tokens_saved`` and
    ``input_tokens_saved_pct`` (fraction of the long prompt's input tokens); ``output_tokens_long``/``_short``;
    ``cost_per_item_long``/``_short``, ``cost_saved_usd`` and ``cost_saved_pct`` (``None`` when a cost is
    unpriced) and ``cost_basis``; ``quality_long``/``_short`` (pass rate on ``scorer``), ``quality_difference``
    (short − long), ``ci_low``, ``ci_high``, ``p_value``, ``test``, ``significant``, ``n_pairs``; with
    ``continuous`` (a scorer's value, e.g. ``token_f1``) also ``continuous_difference``, ``continuous_ci_low``,
    ``continuous_ci_high``, ``continuous_p_value`` (Wilcoxon signed-rank); and ``verdict``, one sentence.
    ``options`` (a ``workbench.stats.ComparisonOptions``: alpha, min pairs, bootstrap) go to both comparisons.
    """
    long_items, short_items = _per_item(results, long_variant), _per_item(results, short_variant)
    for name, items in ((long_variant, long_items), (short_variant, short_items)):
        if not items:
            raise UsageError(f"no records for variant {name!r}", hint=f"one of {', '.join(results.variants)}")
    ids = [sid for sid in long_items if sid in short_items]
    if not ids:
        raise UsageError(f"{long_variant!r} and {short_variant!r} share no sample",
                         hint="run both variants over the same eval set")
    tok_long = _mean([long_items[i]["input_tokens"] for i in ids])
    tok_short = _mean([short_items[i]["input_tokens"] for i in ids])
    costs_long = [long_items[i]["cost_usd"] for i in ids]
    costs_short = [short_items[i]["cost_usd"] for i in ids]
    priced = all(c is not None for c in costs_long + costs_short)
    cost_long = _mean(costs_long) if priced else None
    cost_short = _mean(costs_short) if priced else None
    bases = sorted(set().union(*(long_items[i]["bases"] | short_items[i]["bases"] for i in ids)))
    c = results.compare(long_variant, short_variant, scorer, options=options)
    d: dict[str, Any] = {
        "long_variant": long_variant, "short_variant": short_variant, "scorer": scorer, "n_items": len(ids),
        "input_tokens_long": tok_long, "input_tokens_short": tok_short, "input_tokens_saved": tok_long - tok_short,
        "input_tokens_saved_pct": (tok_long - tok_short) / tok_long if tok_long else 0.0,
        "output_tokens_long": _mean([long_items[i]["output_tokens"] for i in ids]),
        "output_tokens_short": _mean([short_items[i]["output_tokens"] for i in ids]),
        "cost_per_item_long": cost_long, "cost_per_item_short": cost_short,
        "cost_saved_usd": None if not priced else cost_long - cost_short,
        "cost_saved_pct": None if not priced else ((cost_long - cost_short) / cost_long if cost_long else 0.0),
        "cost_basis": ",".join(bases),
        "quality_long": c.mean_a, "quality_short": c.mean_b, "quality_difference": c.difference,
        "ci_low": c.ci_low, "ci_high": c.ci_high, "p_value": c.p_value, "test": c.test,
        "significant": c.significant, "n_pairs": c.n_pairs,
    }
    if continuous:
        from ..stats import paired_comparison

        w = paired_comparison(results.values(long_variant, continuous, kind="value"),
                              results.values(short_variant, continuous, kind="value"), name_a=long_variant,
                              name_b=short_variant, kind="continuous", options=options)
        d.update(continuous=continuous, continuous_long=w.mean_a, continuous_short=w.mean_b,
                 continuous_difference=w.difference, continuous_ci_low=w.ci_low, continuous_ci_high=w.ci_high,
                 continuous_p_value=w.p_value, continuous_test=w.test, continuous_n_pairs=w.n_pairs)
    d["verdict"] = _verdict(d, scorer)
    return d
