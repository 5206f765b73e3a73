"""Operations from the log store: latency percentiles, throughput, error rate by code, cache hit rate,
fallback / degradation / escalation rates — overall, per time bucket, per variant and per tier — and the
error-rate alert.

    ops = operations(data.window, start=data.start, end=data.end, bucket_seconds=3600)
    ops["overall"]["latency_ms"]["p95"], ops["by_variant"]["current"]["error_rate"], ops["buckets"][0]
"""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from .alerts import Alert
from .logdata import iso

MIN_ROWS = 50
"""Fewest requests for a rate to be alerted on."""


def percentile(values: Iterable[float | None], q: float) -> float | None:
    """The ``q``-th percentile (linear interpolation) of the non-None values; None when there are none."""
    xs = sorted(v for v in values if v is not None)
    if not xs:
        return None
    pos = (len(xs) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def _rate(n: int, total: int) -> float | None:
    return n / total if total else None


def _wilson(n: int, total: int) -> list[float] | None:
    """The 95 % Wilson interval of ``n / total`` (None without requests)."""
    from ..stats.rates import wilson_interval

    return list(wilson_interval(n, total)) if total else None


def summarise(rows: list[dict[str, Any]], seconds: float | None = None) -> dict[str, Any]:
    """Counts, rates and latency percentiles of some requests (``seconds``: the span, for throughput)."""
    n = len(rows)
    status = Counter(r["status"] for r in rows)
    answered = [r for r in rows if r["status"] != "rejected"]
    latency = [r["latency_ms"] for r in rows]
    codes = Counter(r.get("error_code") or "unknown" for r in rows if r["status"] == "failed")
    costs = [r["cost_usd"] for r in rows if r["cost_usd"] is not None]
    return {
        "requests": n,
        "throughput_per_min": (n / (seconds / 60.0)) if seconds else None,
        "latency_ms": {"p50": percentile(latency, 50), "p95": percentile(latency, 95), "p99": percentile(latency, 99)},
        "status": dict(status),
        "error_rate": _rate(status.get("failed", 0), n),
        "error_rate_ci": _wilson(status.get("failed", 0), n),
        "errors_by_code": dict(codes),
        "rejected_rate": _rate(status.get("rejected", 0), n),
        "cache_hit_rate": _rate(sum(r["cache"] != "miss" for r in answered), len(answered)),
        "fallback_rate": _rate(sum(r["fallback"] for r in rows), n),
        "degraded_rate": _rate(sum(r["degraded"] or r["status"] == "degraded" for r in rows), n),
        "escalation_rate": _rate(sum(r["escalated"] or r["status"] == "escalated" for r in rows), n),
        "cost_usd": sum(costs) if costs else 0.0,
        "unpriced": sum(r["cost_usd"] is None and r["status"] not in ("rejected",) for r in rows),
        "saved_usd": sum(r.get("saved_usd") or 0.0 for r in rows),
    }


def bucket_of(ts: float, bucket_seconds: float) -> float:
    """Start of the bucket (aligned to the epoch, i.e. to UTC hours and days) holding ``ts``."""
    return ts - ts % bucket_seconds


def by_bucket(rows: list[dict[str, Any]], bucket_seconds: float) -> dict[float, list[dict[str, Any]]]:
    """Rows grouped by bucket start, in time order."""
    groups: dict[float, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[bucket_of(r["ts"], bucket_seconds)].append(r)
    return dict(sorted(groups.items()))


def _group(rows: list[dict[str, Any]], key: str, seconds: float) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[str(r.get(key) or "none")].append(r)
    return {name: summarise(group, seconds) for name, group in sorted(groups.items())}


def operations(rows: list[dict[str, Any]], *, start: float, end: float, bucket_seconds: float = 3600.0,
               queue_depth: dict[str, int] | None = None) -> dict[str, Any]:
    """The ``operations`` part of the report for the window's rows."""
    seconds = max(end - start, 1.0)
    buckets = [{"start": iso(b), **summarise(group, bucket_seconds)}
               for b, group in by_bucket(rows, bucket_seconds).items()]
    pending = None if queue_depth is None else queue_depth.get("pending", 0) + queue_depth.get("leased", 0)
    return {"status": "ok" if rows else "no_data", "bucket_seconds": bucket_seconds,
            "overall": summarise(rows, seconds), "by_variant": _group(rows, "variant", seconds),
            "by_tier": _group(rows, "tier", seconds), "buckets": buckets,
            "queue_depth": None if queue_depth is None else {"states": queue_depth, "waiting": pending}}


def ops_alerts(ops: dict[str, Any], *, max_error_rate: float, start: float, end: float,
               min_rows: int = MIN_ROWS) -> list[Alert]:
    """An ``error_rate`` alert when the window's failure share is above ``max_error_rate`` (the config's gate)."""
    overall = ops["overall"]
    rate = overall["error_rate"]
    if overall["requests"] < min_rows or rate is None or rate <= max_error_rate:
        return []
    codes = ", ".join(f"{c} {n}" for c, n in sorted(overall["errors_by_code"].items(), key=lambda kv: -kv[1]))
    low, high = overall["error_rate_ci"]
    return [Alert("error_rate", "error_rate", f"{rate:.1%} of {overall['requests']} requests failed "
                  f"(95% CI {low:.1%} to {high:.1%}; limit {max_error_rate:.1%}): {codes}", value=rate, threshold=max_error_rate, start=start,
                  end=end, severity="critical", details={"errors_by_code": overall["errors_by_code"]})]
