"""Alerts: plain records, kept in an ``alerts`` table of the log store's database, sent to a log sink and
optionally POSTed as JSON to a webhook.

    alert = Alert("cost_anomaly", "cost_per_request", "cost per request 5.2x the same hour on previous days", ...)
    delivered = deliver([alert], db_url, webhook="https://hooks.example/monitor")

Delivery never raises: a database or webhook failure is logged (logger ``workbench.monitoring``) and reported in
the returned dict. An alert already stored (same ``fingerprint``: kind, metric, scope and the start of the span it
covers) is not stored twice, so running the monitor every few minutes does not pile up duplicates.
"""
from __future__ import annotations

import json
import logging
import os
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from typing import Any

from ..hashing import content_hash

log = logging.getLogger("workbench.monitoring")
log.addHandler(logging.NullHandler())  # a library logs; the application decides where it goes
WEBHOOK_ENV = "WORKBENCH_WEBHOOK_URL"
KINDS = ("error_rate", "quality_below_threshold", "quality_drop", "drift", "cost_anomaly", "runaway_tokens",
         "retry_loop", "latency_anomaly", "ab_rollback")


@dataclass(frozen=True)
class Alert:
    """One fired alert."""

    kind: str
    """What fired: one of ``KINDS``."""
    metric: str
    """The measured quantity (``cost_per_request``, ``pass_rate``, ``question_language`` ...)."""
    message: str
    """One sentence for a human: what happened, by how much, when."""
    value: float | None = None
    """The measured value."""
    threshold: float | None = None
    """The threshold or expected value it was compared with."""
    start: float | None = None
    """Start of the span the alert covers (epoch seconds)."""
    end: float | None = None
    """End of that span."""
    scope: str = "all"
    """What part of the traffic: ``all``, ``variant=<name>``, ``tier=<name>``."""
    severity: str = "warning"
    """``warning`` or ``critical``."""
    details: dict[str, Any] = field(default_factory=dict)
    """Supporting figures (test statistic, p-value, z-score, rows...)."""

    @property
    def fingerprint(self) -> str:
        """Same alert, same fingerprint: kind, metric, scope and the start of its span."""
        return content_hash([self.kind, self.metric, self.scope, None if self.start is None else round(self.start)])

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe, with ISO-8601 times and the fingerprint."""
        from .logdata import iso

        d = asdict(self)
        d.update(start=iso(self.start), end=iso(self.end), fingerprint=self.fingerprint)
        return d


def _table(meta: Any) -> Any:
    import sqlalchemy as sa

    return sa.Table("alerts", meta, sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                    sa.Column("ts", sa.Float, nullable=False), sa.Column("fingerprint", sa.String(80), unique=True),
                    sa.Column("kind", sa.String(64), nullable=False), sa.Column("metric", sa.String(128)),
                    sa.Column("scope", sa.String(256)), sa.Column("severity", sa.String(16)),
                    sa.Column("value", sa.Float), sa.Column("threshold", sa.Float),
                    sa.Column("window_start", sa.Float), sa.Column("window_end", sa.Float),
                    sa.Column("message", sa.Text), sa.Column("details", sa.Text))


def store_alerts(alerts: list[Alert], url: str, now: float) -> int:
    """Insert new alerts into the ``alerts`` table (created when missing); returns how many were new."""
    import sqlalchemy as sa

    from ..store.logstore import make_engine

    engine = make_engine(url)
    try:
        table = _table(sa.MetaData())
        with engine.begin() as conn:
            table.create(conn, checkfirst=True)
            known = {r[0] for r in conn.execute(sa.select(table.c.fingerprint))}
            new = [a for a in alerts if a.fingerprint not in known]
            for a in new:
                conn.execute(table.insert().values(
                    ts=now, fingerprint=a.fingerprint, kind=a.kind, metric=a.metric, scope=a.scope,
                    severity=a.severity, value=a.value, threshold=a.threshold, window_start=a.start,
                    window_end=a.end, message=a.message, details=json.dumps(a.details, default=str)))
        return len(new)
    finally:
        engine.dispose()


def stored_alerts(url: str) -> list[dict[str, Any]]:
    """Every row of the ``alerts`` table, oldest first (empty when there is none)."""
    import sqlalchemy as sa

    from ..store.logstore import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if "alerts" not in sa.inspect(conn).get_table_names():
                return []
            return [dict(r._mapping) for r in conn.execute(sa.text("SELECT * FROM alerts ORDER BY id"))]
    finally:
        engine.dispose()


def post_webhook(url: str, payload: dict[str, Any], timeout: float = 5.0) -> dict[str, Any]:
    """POST ``payload`` as JSON; ``{"status": "sent", "http_status"}`` or ``{"status": "failed", "error"}``."""
    body = json.dumps(payload, ensure_ascii=False, default=str).encode("utf-8")
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json", "User-Agent": "workbench-monitor"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return {"status": "sent", "http_status": response.status}
    except (urllib.error.URLError, OSError, ValueError) as e:
        log.warning("alert webhook failed: %s", e)
        return {"status": "failed", "error": f"{type(e).__name__}: {e}"}


def deliver(alerts: list[Alert], db_url: str | None, *, now: float, webhook: str | None = None,
            report: dict[str, Any] | None = None) -> dict[str, Any]:
    """Log every alert, store the new ones, and POST them to ``webhook`` (else ``$WORKBENCH_WEBHOOK_URL``).

    Returns ``{"stored": n | None, "store_error": ..., "webhook": {...} | None}``; never raises."""
    for a in alerts:
        log.warning("ALERT %s [%s, %s]: %s", a.kind, a.metric, a.scope, a.message)
    out: dict[str, Any] = {"stored": None, "store_error": None, "webhook": None}
    if db_url and alerts:
        try:
            out["stored"] = store_alerts(alerts, db_url, now)
        except Exception as e:  # noqa: BLE001 - a read-only or locked database must not hide the report
            log.warning("cannot store alerts: %s", e)
            out["store_error"] = f"{type(e).__name__}: {e}"
    webhook = webhook or os.environ.get(WEBHOOK_ENV)
    if webhook and alerts:
        payload = {"source": "workbench monitor", "alerts": [a.to_dict() for a in alerts]}
        if report is not None:
            payload["window"] = report.get("window")
        out["webhook"] = post_webhook(webhook, payload)
    return out
