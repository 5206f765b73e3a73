"""Cost per request, item and day, and statistical anomaly detection on hourly series — cost, tokens per
request (runaway generations, bloated contexts), repeats of one input (client retry loops) and p95 latency.

**Detector** (robust and aware of daily seasonality): for each hour of the window, the expected value is the
median of the *same hour* on the previous days (up to 7; at least 2), or, with less history, the median of the
previous 24 hours. The noise scale is the MAD (× 1.4826) of the residuals *value − expected* over the previous
7 days, floored at 10 % of the expected value and at a quarter of the series' typical (median non-zero) value. An
hour is anomalous when it is ``z_threshold`` (6) scales above expectation *and* at least ``min_ratio`` (1.5 ×)
the expected value; consecutive anomalous hours make one alert. Only upward moves alert. Time comes from the
log rows and the report's clock, so tests inject both.
"""
from __future__ import annotations

from bisect import bisect_left
from collections import Counter, defaultdict
from statistics import median
from typing import Any

from .alerts import Alert
from .logdata import iso
from .ops import percentile

HOUR = 3600.0
DAY = 86400.0
MIN_HISTORY_HOURS = 24
MIN_PER_HOUR = 3
"""Fewest requests in an hour for a per-request median (or p95) to count."""
SERIES_KIND = {"cost_usd": "cost_anomaly", "cost_per_request": "cost_anomaly",
               "output_tokens_per_request": "runaway_tokens", "input_tokens_per_request": "runaway_tokens",
               "max_repeats_per_input": "retry_loop", "latency_p95_ms": "latency_anomaly"}
ABSOLUTE_MIN = {"max_repeats_per_input": 5.0, "latency_p95_ms": 1000.0}
"""A value must also reach this to alert (5 identical requests in an hour; p95 ≥ 1 s)."""


def _typical(xs: list[float]) -> float | None:
    """The hour's median (robust to one odd request), or None below ``MIN_PER_HOUR`` values."""
    return median(xs) if len(xs) >= MIN_PER_HOUR else None


def hour_metrics(rows: list[dict[str, Any]]) -> dict[str, float | None]:
    """The hourly series' values for one hour of rows: total cost, the *median* cost and tokens per request (a
    runaway affects most requests of an hour; one long input does not make an anomaly), the most requests for one
    input, p95 latency."""
    paid = [r for r in rows if r["status"] != "rejected"]
    fresh = [r for r in paid if r["cache"] == "miss"]
    repeats = Counter(r.get("input_hash") for r in rows if r.get("input_hash"))
    latency = [r["latency_ms"] for r in paid if r["latency_ms"] is not None]
    return {"requests": float(len(rows)),
            "cost_usd": sum(r["cost_usd"] or 0.0 for r in rows),
            "cost_per_request": _typical([r["cost_usd"] for r in paid if r["cost_usd"] is not None]),
            "output_tokens_per_request": _typical([r["output_tokens"] for r in fresh if r["output_tokens"] is not None]),
            "input_tokens_per_request": _typical([r["input_tokens"] for r in fresh if r["input_tokens"] is not None]),
            "max_repeats_per_input": float(max(repeats.values(), default=0)),
            "latency_p95_ms": percentile(latency, 95) if len(latency) >= MIN_PER_HOUR else None}


def hourly(rows: list[dict[str, Any]], first: float, last: float) -> list[tuple[float, dict[str, float | None]]]:
    """``(hour start, metrics)`` for every hour from ``first`` to ``last`` (empty hours included)."""
    groups: dict[float, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[r["ts"] - r["ts"] % HOUR].append(r)
    h, out = first - first % HOUR, []
    while h <= last:
        out.append((h, hour_metrics(groups.get(h, []))))
        h += HOUR
    return out


def _expected(values: dict[float, float | None], h: float, days: int = 7) -> float | None:
    same = [values.get(h - d * DAY) for d in range(1, days + 1)]
    same = [v for v in same if v is not None]
    if len(same) >= 2:
        return median(same)
    prev = [values.get(h - i * HOUR) for i in range(1, 25)]
    prev = [v for v in prev if v is not None]
    return median(prev) if len(prev) >= 12 else None


def detect(series: list[tuple[float, float | None]], start: float, *, z_threshold: float = 6.0,
           min_ratio: float = 1.5) -> tuple[list[dict[str, Any]], int]:
    """Anomalous hours (``ts >= start``) of one series, and how many hours had an expectation to compare with."""
    values = dict(series)
    expected = {h: _expected(values, h) for h, _ in series}
    residual = {h: v - expected[h] for h, v in series if v is not None and expected[h] is not None}
    times = sorted(residual)
    typical = [v for v in values.values() if v]
    typical_floor = 0.25 * median(typical) if typical else 0.0
    found, compared = [], 0
    for h, v in series:
        e = expected[h]
        if h < start or v is None or e is None:
            continue
        past = [residual[t] for t in times[bisect_left(times, h - 7 * DAY):bisect_left(times, h)]]
        if len(past) < 12:
            continue
        compared += 1
        m = median(past)
        scale = max(1.4826 * median(abs(r - m) for r in past), 0.1 * abs(e), typical_floor, 1e-12)
        z = (v - e) / scale
        if z >= z_threshold and (e <= 0 or v / e >= min_ratio):
            found.append({"hour": h, "value": v, "expected": e, "z": z})
    return found, compared


def _alerts(metric: str, hits: list[dict[str, Any]]) -> list[Alert]:
    """One alert per run of consecutive anomalous hours."""
    runs: list[list[dict[str, Any]]] = []
    for hit in hits:
        if hit["value"] < ABSOLUTE_MIN.get(metric, 0.0):
            continue
        if runs and hit["hour"] - runs[-1][-1]["hour"] <= HOUR:
            runs[-1].append(hit)
        else:
            runs.append([hit])
    out = []
    for run in runs:
        peak = max(run, key=lambda x: x["z"])
        ratio = peak["value"] / peak["expected"] if peak["expected"] > 0 else float("inf")
        out.append(Alert(SERIES_KIND[metric], metric,
                         f"{metric} {peak['value']:.4g} vs {peak['expected']:.4g} expected "
                         f"({'×' + format(ratio, '.1f') if ratio != float('inf') else 'from zero'}, z = {peak['z']:.0f}) "
                         f"for {len(run)} hour(s) from {iso(run[0]['hour'])}",
                         value=peak["value"], threshold=peak["expected"], start=run[0]["hour"],
                         end=run[-1]["hour"] + HOUR, severity="critical" if ratio >= 3 else "warning",
                         details={"hours": len(run), "z": peak["z"], "ratio": ratio}))
    return out


def _spend(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per request, item and day; ``total_usd`` counts priced requests only (``per_request.unpriced`` says how many
    were not: never counted as $0), ``saved_usd`` what cache hits saved."""
    costs = [r["cost_usd"] for r in rows if r["cost_usd"] is not None]
    items: dict[str, float] = defaultdict(float)
    days: dict[float, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        items[str(r.get("item_id"))] += r["cost_usd"] or 0.0
        days[r["ts"] - r["ts"] % DAY].append(r)
    per_item = list(items.values())
    return {"total_usd": sum(costs), "saved_usd": sum(r.get("saved_usd") or 0.0 for r in rows),
            "per_request": {"mean": sum(costs) / len(costs) if costs else None, "p50": percentile(costs, 50),
                            "p95": percentile(costs, 95), "max": max(costs, default=None),
                            "unpriced": sum(r["cost_usd"] is None for r in rows)},
            "per_item": {"items": len(per_item), "mean": sum(per_item) / len(per_item) if per_item else None,
                         "p95": percentile(per_item, 95), "max": max(per_item, default=None)},
            "per_day": [{"day": iso(d)[:10], "requests": len(g), "cost_usd": sum(r["cost_usd"] or 0.0 for r in g)}
                        for d, g in sorted(days.items())]}


def costs(rows: list[dict[str, Any]], *, start: float, end: float, max_cost_per_item_usd: float | None = None,
          z_threshold: float = 6.0, min_ratio: float = 1.5) -> tuple[dict[str, Any], list[Alert]]:
    """The ``costs`` part of the report (window spend, hourly anomalies) and its alerts. ``rows``: history and
    window, oldest first."""
    window = [r for r in rows if r["ts"] >= start]
    out: dict[str, Any] = {"status": "ok", **_spend(window), "anomalies": {}}
    alerts: list[Alert] = []
    if rows:
        table = hourly(rows, rows[0]["ts"], min(end, rows[-1]["ts"]))
        history_hours = sum(1 for h, _ in table if h < start - start % HOUR)
        for metric in SERIES_KIND:
            hits, compared = detect([(h, m[metric]) for h, m in table], start, z_threshold=z_threshold,
                                    min_ratio=min_ratio)
            found = _alerts(metric, hits)
            out["anomalies"][metric] = {"hours_compared": compared, "anomalous_hours": len(hits),
                                        "alerts": len(found)}
            alerts += found
        if history_hours < MIN_HISTORY_HOURS:
            out.update(status="insufficient_data", hours=history_hours, needed=MIN_HISTORY_HOURS)
    else:
        out.update(status="insufficient_data", hours=0, needed=MIN_HISTORY_HOURS)
    mean_item = out["per_item"]["mean"]
    if max_cost_per_item_usd is not None and mean_item is not None and mean_item > max_cost_per_item_usd:
        alerts.append(Alert("cost_anomaly", "cost_per_item", f"mean cost per item ${mean_item:.6f} is above the "
                            f"budget ${max_cost_per_item_usd:.6f}", value=mean_item, threshold=max_cost_per_item_usd,
                            start=start, end=end))
    return out, alerts
