"""Reading the runner's log store for monitoring: read-only, tolerant of bad rows, with a time window.

The ``requests`` table is read with plain SQL (``sqlalchemy.text``: no type processing, so a corrupted value
cannot break the query) and every row is checked: a row without a usable timestamp is dropped and counted as
``corrupt``; a bad number (text, NaN, negative) becomes ``None`` and is counted in ``bad_values``. Nothing here
writes to the store (the ``alerts`` table lives in ``workbench.monitoring.alerts``).

    data = load(db_url, since="7d", clock=time.time)      # LogData: window rows, history rows, escalations
"""
from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

NUMERIC = ("input_chars", "input_tokens", "output_tokens", "cost_usd", "latency_ms")
FLAGS = ("fallback", "degraded", "escalated")
HISTORY_DAYS = 7.0
"""Days of history before the window that are loaded (cost anomalies compare each hour to previous days)."""
_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_since(text: str | float | None, now: float, default: str = "24h") -> float:
    """Epoch seconds for ``--since``: a duration back from ``now`` (``30m``, ``1h``, ``7d``, ``2w``), an
    ISO-8601 time (naive = UTC) or epoch seconds. ``UsageError`` for anything else."""
    from ..errors import UsageError

    if text is None:
        text = default
    if isinstance(text, int | float):
        return float(text)
    m = _RELATIVE.match(text)
    if m:  # at the earliest the epoch: "999999999d" means everything, not a year out of range
        return max(0.0, now - float(m.group(1)) * _UNITS[m.group(2)])
    try:
        dt = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"cannot read --since {text!r}",
                         hint="give a duration (30m, 1h, 7d, 2w) or an ISO-8601 time (2025-03-01T00:00:00Z)") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return max(0.0, dt.timestamp())


def iso(ts: float | None) -> str | None:
    """``2025-03-01T14:00:00Z`` for epoch seconds (None stays None)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class LogData:
    """Rows of the log store around a monitoring window ``[start, end]``, checked and sorted by time."""

    url: str
    """The store's URL, password masked."""
    start: float
    """Window start (``--since``), epoch seconds."""
    end: float
    """Window end (now, from the injectable clock)."""
    rows: list[dict[str, Any]] = field(default_factory=list)
    """Every usable row from ``start - HISTORY_DAYS`` to ``end``, oldest first."""
    corrupt: int = 0
    """Rows dropped: no usable ``ts`` (or not a row at all)."""
    bad_values: int = 0
    """Values replaced by None: a number column holding text, NaN or a negative value."""
    tables: list[str] = field(default_factory=list)
    """Tables found in the store."""
    escalations: list[dict[str, Any]] = field(default_factory=list)
    """The escalation table's rows (all of them; resolved ones become eval candidates)."""
    queue_depth: dict[str, int] | None = None
    """Items per state in the queue ledger (``queue_items``), when the store has one."""

    @property
    def window(self) -> list[dict[str, Any]]:
        """Rows with ``start <= ts <= end``."""
        return [r for r in self.rows if self.start <= r["ts"] <= self.end]

    @property
    def history(self) -> list[dict[str, Any]]:
        """Rows before the window (the baseline window when no eval set is given)."""
        return [r for r in self.rows if r["ts"] < self.start]

    def summary(self) -> dict[str, Any]:
        """The ``store`` part of the report."""
        status = "ok" if self.rows else ("no_requests_table" if "requests" not in self.tables else "empty")
        return {"url": self.url, "status": status, "rows_loaded": len(self.rows), "rows_window": len(self.window),
                "rows_history": len(self.history), "corrupt_rows": self.corrupt, "bad_values": self.bad_values,
                "tables": self.tables}


def _number(value: Any) -> tuple[float | None, bool]:
    """``(value as float or None, whether it was bad)``."""
    if value is None:
        return None, False
    if isinstance(value, bool):
        return None, True
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None, True
    if not math.isfinite(x) or x < 0:
        return None, True
    return x, False


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "t", "yes")
    return bool(value)


def clean_row(raw: dict[str, Any]) -> tuple[dict[str, Any] | None, int]:
    """A checked copy of one ``requests`` row and how many of its values were bad; None when it has no usable
    timestamp or status."""
    ts, bad_ts = _number(raw.get("ts"))
    status = raw.get("status")
    if ts is None or bad_ts or not isinstance(status, str) or not status:
        return None, 0
    row, bad = dict(raw), 0
    row["ts"] = ts
    for name in NUMERIC:
        row[name], was_bad = _number(raw.get(name))
        bad += was_bad
    for name in FLAGS:
        row[name] = _flag(raw.get(name))
    for name in ("raw_input", "raw_output"):
        if row.get(name) is not None and not isinstance(row[name], str):
            row[name], bad = None, bad + 1
    row["cache"] = raw.get("cache") if raw.get("cache") in ("miss", "exact", "semantic") else "miss"
    return row, bad


def check_rows(raw_rows: Iterable[dict[str, Any]]) -> tuple[list[dict[str, Any]], int, int]:
    """``(rows sorted by ts, corrupt count, bad-value count)`` for raw row dicts."""
    rows, corrupt, bad = [], 0, 0
    for raw in raw_rows:
        row, n_bad = clean_row(raw) if isinstance(raw, dict) else (None, 0)
        if row is None:
            corrupt += 1
            continue
        rows.append(row)
        bad += n_bad
    rows.sort(key=lambda r: (r["ts"], r.get("id") or 0))
    return rows, corrupt, bad


def parse_input(raw: str | None) -> dict[str, Any] | None:
    """A captured raw input as a dict (None when absent or unreadable)."""
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except (TypeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _engine(url: str):
    import sqlalchemy as sa

    from ..errors import LogStoreError
    from ..store.logstore import safe_url

    try:
        parsed = sa.engine.make_url(url)
    except Exception:  # noqa: BLE001 - a malformed URL
        raise LogStoreError(f"cannot read the database URL {safe_url(url)}",
                            hint="e.g. sqlite:///build/runner/runner.sqlite or postgresql+psycopg://...") from None
    if (parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:")
            and not Path(parsed.database).expanduser().is_file()):
        raise LogStoreError(f"no log store at {parsed.database}",
                                hint="check --db / WORKBENCH_DB_URL: the runner creates the file on first use")
    from ..store.logstore import make_engine

    return make_engine(url)


def _select(conn: Any, table: str, where: str = "", **params: Any) -> list[dict[str, Any]]:
    import sqlalchemy as sa

    return [dict(r._mapping) for r in conn.execute(sa.text(f"SELECT * FROM {table} {where}"), params)]


def load(url: str, *, since: str | float | None = None, clock: Callable[[], float] = time.time,
         history_days: float = HISTORY_DAYS) -> LogData:
    """The log store's rows for the window ``[since, now]`` plus ``history_days`` before it.

    ``LogStoreError`` (exit 2) when the store cannot be opened or read at all; bad rows are counted, not raised."""
    import sqlalchemy as sa

    from ..errors import LogStoreError
    from ..store.logstore import safe_url

    now = float(clock())
    start = parse_since(since, now)
    data = LogData(url=safe_url(url), start=start, end=now)
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            data.tables = sorted(sa.inspect(conn).get_table_names())
            if "requests" in data.tables:
                lo = start - history_days * 86400.0
                raw = _select(conn, "requests", "WHERE ts >= :lo OR typeof(ts) NOT IN ('real', 'integer')"
                              if engine.dialect.name == "sqlite" else "WHERE ts >= :lo", lo=lo)
                rows, data.corrupt, data.bad_values = check_rows(raw)
                data.rows = [r for r in rows if lo <= r["ts"] <= now]
            if "escalations" in data.tables:
                data.escalations = _select(conn, "escalations", "ORDER BY id")
            if "queue_items" in data.tables:
                counts = conn.execute(sa.text("SELECT state, COUNT(*) FROM queue_items GROUP BY state")).all()
                data.queue_depth = {str(s): int(n) for s, n in counts}
    except sa.exc.SQLAlchemyError as e:
        reason = getattr(e, "orig", None) or e
        raise LogStoreError(f"cannot read the log store {safe_url(url)}: {type(reason).__name__}: {reason}",
                            hint="check the URL; a damaged SQLite file can be recovered with `sqlite3 F .recover`"
                            ) from None
    finally:
        engine.dispose()
    return data
