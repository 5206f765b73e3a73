"""The runner's log store, through SQLAlchemy Core: one row per request, and the escalation table.

SQLite by default (``$WORKBENCH_DB_URL``, else ``<workspace>/runner/runner.sqlite``; WAL mode), Postgres by URL
(``postgresql+psycopg://user@host/db``). The schema is versioned: ``schema_version`` records the migrations
applied, and ``MIGRATIONS`` (ordered functions) bring any older file up to date on open. ``purge`` deletes
requests older than the retention (run on open when ``retention_days`` is given).

What a row holds is ``rows.py``; keys, endpoints and database URLs are never logged.
"""
from __future__ import annotations

import operator
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from .._util.paths import workspace
from .._util.wal import fold_wal as fold_connection_wal
from .._util.wal import use_wal
from ..errors import LogStoreError
from .sqlitefile import explain_url, in_memory


def default_db_url() -> str:
    """``$WORKBENCH_DB_URL``, else SQLite at ``<workspace>/runner/runner.sqlite``."""
    return os.environ.get("WORKBENCH_DB_URL") or f"sqlite:///{workspace('runner', 'runner.sqlite', create=False)}"


def safe_url(url: str) -> str:
    """The URL with any password masked, for messages."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a malformed URL: show no part of it that could hold a secret
        return "<unparseable database URL>"


# ---- schema ---------------------------------------------------------------------------------------------------
def _request_columns_v1() -> list[sa.Column]:
    s, f, i = sa.String, sa.Float, sa.Integer
    return [sa.Column("id", i, primary_key=True, autoincrement=True), sa.Column("ts", f, nullable=False),
            sa.Column("item_id", s(512)), sa.Column("input_hash", s(80)), sa.Column("input_chars", i),
            sa.Column("language", s(16)), sa.Column("length_class", s(16)), sa.Column("content_type", s(32)),
            sa.Column("variant", s(128)), sa.Column("config_hash", s(80)), sa.Column("model", s(256)),
            sa.Column("tier", s(64)), sa.Column("input_tokens", i), sa.Column("output_tokens", i),
            sa.Column("cost_usd", f), sa.Column("cost_basis", s(16)), sa.Column("latency_ms", f),
            sa.Column("cache", s(16)), sa.Column("status", s(16), nullable=False), sa.Column("error_code", s(64)),
            sa.Column("output_hash", s(80)), sa.Column("raw_input", sa.Text), sa.Column("raw_output", sa.Text)]


def _request_columns_v2() -> list[sa.Column]:
    return [sa.Column(name, sa.Boolean, nullable=False, server_default=sa.false())
            for name in ("fallback", "degraded", "escalated")]


def _request_columns_v3() -> list[sa.Column]:
    return [sa.Column("answered_by", sa.String(256)), sa.Column("saved_usd", sa.Float)]


def _request_columns_v4() -> list[sa.Column]:
    return [sa.Column("flags", sa.String(512))]


def _event_columns() -> list[sa.Column]:
    return [sa.Column("id", sa.Integer, primary_key=True, autoincrement=True), sa.Column("ts", sa.Float, nullable=False),
            sa.Column("kind", sa.String(32), nullable=False), sa.Column("config_hash", sa.String(80)),
            sa.Column("detail", sa.Text)]


def _escalation_columns() -> list[sa.Column]:
    return [sa.Column("id", sa.Integer, primary_key=True, autoincrement=True), sa.Column("ts", sa.Float, nullable=False),
            sa.Column("item_id", sa.String(512)), sa.Column("reason", sa.String(64), nullable=False),
            sa.Column("status", sa.String(16), nullable=False, server_default="open"),
            sa.Column("input", sa.Text), sa.Column("output", sa.Text), sa.Column("resolution", sa.Text),
            sa.Column("human_answer", sa.Text), sa.Column("resolved_at", sa.Float)]


_META = sa.MetaData()
VERSIONS = sa.Table("schema_version", _META, sa.Column("version", sa.Integer, primary_key=True),
                    sa.Column("applied_at", sa.Float, nullable=False))
REQUESTS = sa.Table("requests", _META, *_request_columns_v1(), *_request_columns_v2(), *_request_columns_v3(),
                    *_request_columns_v4())
_INSERT_REQUEST = REQUESTS.insert()
_REQUEST_KEYS = tuple(c.name for c in REQUESTS.c if c.name != "id")
_ROW_VALUES = operator.itemgetter(*_REQUEST_KEYS)
_FLAG_COLUMNS = tuple(_REQUEST_KEYS.index(flag) for flag in ("fallback", "degraded", "escalated"))
_TS_COLUMN = _REQUEST_KEYS.index("ts")
_PLAIN = frozenset({str, int, float, bool, type(None)})
_MARKS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


def _driver_insert(dialect: Any) -> str | None:
    """The request INSERT in the driver's own parameter style, for ``executemany`` with tuples: SQLAlchemy's
    per-row parameter handling cost the background writer ~20 µs a row, the driver's ~5 (None: a style not
    written here, and SQLAlchemy's statement is used)."""
    mark = _MARKS.get(dialect.paramstyle)
    if mark is None:
        return None
    quote = dialect.identifier_preparer.quote
    return (f"INSERT INTO {quote(REQUESTS.name)} ({', '.join(map(quote, _REQUEST_KEYS))}) "
            f"VALUES ({', '.join([mark] * len(_REQUEST_KEYS))})")
ESCALATIONS = sa.Table("escalations", _META, *_escalation_columns())
EVENTS = sa.Table("events", _META, *_event_columns())


def _v1(conn: Connection) -> None:
    """Requests (metadata, sampled raw text) and escalations."""
    meta = sa.MetaData()
    sa.Table("requests", meta, *_request_columns_v1())
    sa.Table("escalations", meta, *_escalation_columns())
    meta.create_all(conn)


def _v2(conn: Connection) -> None:
    """Flags per request (fallback / degraded / escalated) and indexes for monitoring and the review queue."""
    for name in ("fallback", "degraded", "escalated"):
        conn.exec_driver_sql(f"ALTER TABLE requests ADD COLUMN {name} BOOLEAN NOT NULL DEFAULT FALSE")
    conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS ix_requests_ts ON requests (ts)")
    conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS ix_escalations_status ON escalations (status)")


def _v3(conn: Connection) -> None:
    """Provenance per request (the model that produced the answer, what a cache hit saved) and runner events."""
    conn.exec_driver_sql("ALTER TABLE requests ADD COLUMN answered_by VARCHAR(256)")
    conn.exec_driver_sql("ALTER TABLE requests ADD COLUMN saved_usd FLOAT")
    meta = sa.MetaData()
    sa.Table("events", meta, *_event_columns())
    meta.create_all(conn)


def _v4(conn: Connection) -> None:
    """The input's flags per request (``injection_suspected,pii``...): what the policy let through flagged."""
    conn.exec_driver_sql("ALTER TABLE requests ADD COLUMN flags VARCHAR(512)")


MIGRATIONS: list[Callable[[Connection], None]] = [_v1, _v2, _v3, _v4]
"""Migration ``i`` (0-based) brings the schema from version ``i`` to ``i + 1``; append, never edit."""
SCHEMA_VERSION = len(MIGRATIONS)


# ---- engine ---------------------------------------------------------------------------------------------------
def _sqlite_engine(url: sa.URL, begin: str, synchronous: str) -> Engine:
    if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # transactions are begun below, so DDL is transactional too
        use_wal(dbapi_conn)
        cur = dbapi_conn.cursor()
        # secure_delete: deleted or rewritten rows are overwritten, not left in free pages (the capture policy)
        for pragma in ("busy_timeout=30000", f"synchronous={synchronous}", "secure_delete=ON"):
            cur.execute(f"PRAGMA {pragma}")
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql(begin)

    return engine


def fold_wal(engine: Engine) -> bool:
    """For SQLite, fold the write-ahead log back into the file and truncate it (``wal_checkpoint(TRUNCATE)``), so
    no old page (a row since redacted or purged) is left behind in ``-wal``; True when done (or not SQLite). False
    when it could not finish: another connection, perhaps in another process, is reading an older snapshot (a
    checkpoint cannot pass it) or the file cannot be written; the log is folded when the last connection closes.

    Run on the driver's connection, outside a transaction: inside one (the ledger begins with ``BEGIN IMMEDIATE``)
    SQLite refuses it (``database table is locked``)."""
    if engine.url.get_backend_name() != "sqlite":
        return True
    try:
        raw = engine.raw_connection()
    except sa.exc.DBAPIError:
        return False
    try:
        return fold_connection_wal(raw)
    finally:
        raw.close()


def dispose(engine: Engine) -> None:
    """Release an engine's connections, the write-ahead log first folded back and truncated (``fold_wal``; if
    another process holds the log open, the last one to close it folds it)."""
    fold_wal(engine)
    engine.dispose()


def make_engine(url: str, *, begin: str = "BEGIN", synchronous: str = "NORMAL") -> Engine:
    """An engine for ``url``: SQLite with WAL, secure delete and transactional DDL (``begin`` opens each
    transaction: ``BEGIN IMMEDIATE`` takes the write lock at once; ``synchronous``: ``NORMAL`` or ``FULL``), or any
    other SQLAlchemy URL."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, begin, synchronous)
    return sa.create_engine(parsed, pool_pre_ping=True)


def migrate(engine: Engine, target: int | None = None) -> int:
    """Apply the missing migrations up to ``target`` (default: all); returns the schema version. Safe when two
    processes open the same database at once: the loser of a race re-reads the version and retries."""
    target = SCHEMA_VERSION if target is None else target
    for attempt in range(4):
        try:
            with engine.begin() as conn:
                VERSIONS.create(conn, checkfirst=True)
                current = conn.execute(sa.select(sa.func.max(VERSIONS.c.version))).scalar() or 0
                for version in range(current + 1, target + 1):
                    MIGRATIONS[version - 1](conn)
                    conn.execute(VERSIONS.insert().values(version=version, applied_at=time.time()))
                return max(current, target)
        except sa.exc.DBAPIError:
            if attempt == 3:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def _plain(value: Any) -> Any:
    """A value the driver binds as it is: str/int/float subclasses (a ``StrEnum``) as the plain type, a numpy
    scalar (a token count or a cost computed with numpy) as its Python value."""
    for kind in (bool, int, float, str):
        if isinstance(value, kind):
            return kind(value) if kind is not str else str.__str__(value)
    item = getattr(value, "item", None)
    if callable(item) and type(value).__module__ == "numpy":
        return item()
    return value


class LogStore:
    """Requests and escalations in SQL. Opening creates or upgrades the schema and purges old requests."""

    def __init__(self, url: str | None = None, *, retention_days: int | None = None,
                 clock: Callable[[], float] = time.time, schema_version: int | None = None):
        """``schema_version`` stops migrating at that version (for tests of upgrades)."""
        self.url = url or default_db_url()
        self.clock = clock
        if in_memory(self.url):  # each connection (the background writer's too) would get its own empty database
            raise LogStoreError(f"an in-memory log store ({safe_url(self.url)}) would lose every row: each "
                                "connection to it gets a database of its own",
                                hint="give a file URL, e.g. --db sqlite:////abs/path/runner.sqlite (or leave --db and "
                                     "WORKBENCH_DB_URL unset for the workspace's)")
        try:
            self.engine = make_engine(self.url)
            self.version = migrate(self.engine, schema_version)
        except (sa.exc.SQLAlchemyError, OSError, ValueError) as e:
            raise open_error(self.url, e) from None
        self.retention_days = retention_days
        self._insert = _driver_insert(self.engine.dialect)
        if retention_days is not None and self.version == SCHEMA_VERSION:
            self.purge(retention_days)

    def __repr__(self) -> str:
        return f"LogStore({safe_url(self.url)!r}, version={self.version})"

    def close(self) -> None:
        """Release the database connections (SQLite: the write-ahead log folded back and truncated)."""
        dispose(self.engine)

    def fold_wal(self) -> bool:
        """Fold SQLite's write-ahead log back into the file now and truncate it (see ``fold_wal``); ``workbench
        purge`` calls it so deleted rows do not linger in ``-wal`` while other processes keep the store open."""
        return fold_wal(self.engine)

    def log_request(self, row: dict[str, Any]) -> int:
        """Insert one request row (unknown keys are ignored); returns its id."""
        with self.engine.begin() as conn:
            return conn.execute(_INSERT_REQUEST, self._values(row)).inserted_primary_key[0]

    def log_requests(self, rows: list[dict[str, Any]]) -> None:
        """Insert request rows in one transaction: one statement in the driver's parameter style, executed for
        many rows (SQLAlchemy's compiled statement for a driver style not written by hand)."""
        if not rows:
            return
        with self.engine.begin() as conn:
            if self._insert is None:
                conn.execute(_INSERT_REQUEST, [self._values(r) for r in rows])
            else:
                conn.exec_driver_sql(self._insert, [self._row_tuple(r) for r in rows])

    def _row_tuple(self, row: dict[str, Any]) -> tuple:
        """Every column's value in column order (the driver's INSERT lists the columns in that order; so many rows
        share one statement): a missing column is None, a missing flag False, a missing ``ts`` now, and a ``str`` or
        number subclass (a status enum) or a numpy number its plain value."""
        try:
            values = list(_ROW_VALUES(row))  # a runner row has every column: one C call instead of 28 lookups
        except KeyError:
            values = [row.get(k) for k in _REQUEST_KEYS]
        if not all(map(_PLAIN.__contains__, map(type, values))):
            values = [v if type(v) in _PLAIN else _plain(v) for v in values]
        for i in _FLAG_COLUMNS:
            values[i] = bool(values[i])
        if values[_TS_COLUMN] is None:
            values[_TS_COLUMN] = self.clock()
        return tuple(values)

    def _values(self, row: dict[str, Any]) -> dict[str, Any]:
        """``_row_tuple`` by column name (for SQLAlchemy's statement)."""
        return dict(zip(_REQUEST_KEYS, self._row_tuple(row), strict=True))

    def log_event(self, kind: str, detail: str, config_hash: str | None = None) -> None:
        """Keep a runner event (``override``, ...) with its time and the config it concerns."""
        with self.engine.begin() as conn:
            conn.execute(EVENTS.insert().values(ts=self.clock(), kind=kind, config_hash=config_hash, detail=detail))

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Runner events, oldest first (of one ``kind`` when given)."""
        query = sa.select(EVENTS).order_by(EVENTS.c.id)
        if kind is not None:
            query = query.where(EVENTS.c.kind == kind)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def requests(self, since: float | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """Request rows (oldest first) with ``ts >= since``, as dicts: what monitoring reads."""
        query = sa.select(REQUESTS).order_by(REQUESTS.c.id)
        if since is not None:
            query = query.where(REQUESTS.c.ts >= since)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def purge(self, older_than_days: float | None = None) -> int:
        """Delete requests (and resolved escalations) older than ``older_than_days`` (default: the retention);
        returns the number of requests deleted."""
        days = self.retention_days if older_than_days is None else older_than_days
        if days is None:
            return 0
        cutoff = self.clock() - float(days) * 86400.0
        with self.engine.begin() as conn:
            deleted = conn.execute(REQUESTS.delete().where(REQUESTS.c.ts < cutoff)).rowcount
            conn.execute(ESCALATIONS.delete().where(ESCALATIONS.c.status == "resolved",
                                                    ESCALATIONS.c.resolved_at < cutoff))
        return int(deleted or 0)


def open_error(url: str, e: BaseException) -> LogStoreError:
    """The error for a log store that cannot be opened (or written): a read-only place or a damaged SQLite file
    says so with its repair; anything else names the URL and the driver's words."""
    known = explain_url(url, e, "the log store",
                        "a new, empty log store is made on the next use (the old rows: `sqlite3 {broken} .recover`)")
    if known is not None:
        return LogStoreError(known[0], hint=known[1])
    return LogStoreError(f"cannot open the log store {safe_url(url)}: {_reason(e)}",
                         hint="check --db / WORKBENCH_DB_URL, the disk space and permissions")


def _reason(e: BaseException) -> str:
    if isinstance(e, sa.exc.DBAPIError) and e.orig is not None:
        return f"{type(e.orig).__name__}: {e.orig}"
    return f"{type(e).__name__}: {getattr(e, 'strerror', None) or e}"
