"""The item ledger of the durable queue: one row per enqueued item, in SQL (SQLite by default, Postgres by URL).

huey removes a task from its broker when a worker takes it, so a worker killed mid-item would lose that task. The
ledger is the source of truth instead; the broker only carries item ids:

    pending ──lease()──► leased ──complete()──► done
       ▲                    │
       └──── reap() ◄───────┘  (lease expired: the worker died; the id is pushed to the broker again)

Every transition is one conditional ``UPDATE``, so it is safe across processes and machines: an item is leased by
one worker at a time, and ``complete()`` only writes a result while the item is not done yet — a duplicate task, or
a slow worker whose lease expired and was taken over, never writes a second result. Lease expiry compares
wall-clock epoch seconds: keep the workers' clocks in sync (NTP) when they run on several machines.

A database that fails after it was opened (damaged, its table dropped or altered, its disk full, its server gone)
raises ``QueueUnavailableError`` from every method, with the repair: never a driver's exception. Nothing is lost by
a failed call: each is one transaction, so an item a worker held stays leased until its lease expires.
"""
from __future__ import annotations

import functools
import inspect
import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa

from ..errors import QueueUnavailableError
from ..store.logstore import dispose, fold_wal, make_engine, safe_url
from ..store.sqlitefile import (
    changed_under,
    explain_url,
    identity,
    in_memory,
    is_damaged,
    move_aside,
    reason,
    sqlite_file,
)

F = TypeVar("F", bound=Callable[..., Any])

STATES = ("pending", "leased", "done")

_META = sa.MetaData()
ITEMS = sa.Table(
    "queue_items", _META,
    sa.Column("queue", sa.String(200), primary_key=True, doc="queue name (several queues can share a database)"),
    sa.Column("item_id", sa.String(500), primary_key=True, doc="the input's id: processing is idempotent by it"),
    sa.Column("seq", sa.BigInteger, nullable=False, doc="enqueue order (exports follow it)"),
    sa.Column("kind", sa.String(20), nullable=False, doc="`run` (a runner input) or `cell` (an experiment cell)"),
    sa.Column("input", sa.Text, nullable=False, doc="the input object, as JSON"),
    sa.Column("state", sa.String(10), nullable=False, doc="pending | leased | done"),
    sa.Column("lease_owner", sa.String(200), doc="the worker holding the lease"),
    sa.Column("lease_expires", sa.Float, doc="epoch seconds after which another worker may take the item"),
    sa.Column("attempts", sa.Integer, nullable=False, doc="how many leases were granted"),
    sa.Column("result", sa.Text, doc="the result line, as JSON (set once, when done)"),
    sa.Column("config_hash", sa.String(100), doc="the config that produced the result"),
    sa.Column("queued_at", sa.Float, doc="when the id was last pushed to the broker (null: never)"),
    sa.Column("updated", sa.Float, nullable=False),
)
sa.Index("ix_queue_items_state", ITEMS.c.queue, ITEMS.c.state)


_REPAIR = ("it held every queued item and result: enqueue the inputs again (what it held: `sqlite3 {broken} "
           ".recover`)")
_HELD = "items a worker held stay leased until their lease expires, then a worker takes them again"
_THEN_READ = "nothing was changed"
_THEN_WORKER = "then start the worker again"
_THEN_EITHER = ("then run the same `workbench enqueue` or `workbench worker` again: every recorded item is kept (a "
                "leased one is taken again when its lease expires)")
_SCHEMA_TEXTS = ("no such table", "no such column", "has no column named", "already exists", "does not exist")
_FAILURES = (sa.exc.DBAPIError, sa.exc.DisconnectionError, sa.exc.TimeoutError, sqlite3.Error, OSError)
"""What a database that fails under an open ledger raises: the driver's errors (wrapped by SQLAlchemy, or raw from
a connection's setup), a lost connection or a pool timeout, the OS's errors."""


def ledger_error(url: str, e: BaseException, message: str | None = None,
                 hint: str = "check --db / WORKBENCH_DB_URL: a database the ledger can write") -> QueueUnavailableError:
    """The error for a ledger that cannot be opened or written: a read-only place, a damaged SQLite file or a full
    disk says so with its repair (the ledger holds the queue's items and results: moving it aside loses them from the
    queue); a table dropped or altered outside workbench says so; any other cause is ``message`` (default: the URL
    and the driver's words) with ``hint``."""
    known = explain_url(url, e, "the queue ledger", _REPAIR)
    if known is not None:
        return QueueUnavailableError(known[0], hint=known[1])
    cause = getattr(e, "orig", None) or e
    if _schema_changed(cause):
        path = sqlite_file(url)
        repair = (move_aside(path, _REPAIR) if path is not None
                  else f"restore the {ITEMS.name} table (a backup), or give --db another database")
        return QueueUnavailableError(
            f"the queue ledger {safe_url(url)} does not hold the {ITEMS.name} table workbench made: it was dropped or "
            f"altered outside workbench ({reason(e)})", hint=repair)
    return QueueUnavailableError(message or f"cannot open the queue ledger {safe_url(url)}: {type(cause).__name__}: "
                                            f"{reason(e)}", hint=hint)


def _schema_changed(cause: BaseException) -> bool:
    """The driver says a table, column or index is missing or in the way: the schema was changed by hand."""
    name = type(cause).__name__
    return name in ("UndefinedTable", "UndefinedColumn") or (  # psycopg's words for Postgres
        name == "OperationalError" and any(t in str(cause) for t in _SCHEMA_TEXTS))


def _guarded(doing: str, then: str = _THEN_WORKER) -> Callable[[F], F]:
    """A ``Ledger`` method whose database failure (one of ``_FAILURES``) becomes ``ledger_error``: the message names
    the ledger and what failed (``doing``); the hint gives the repair, then ``then`` (what to run next, what was
    kept) unless the repair is to move the file aside. Generator methods are guarded while they are iterated."""
    def failure(ledger: Ledger, e: BaseException) -> QueueUnavailableError:
        cause = getattr(e, "orig", None) or e
        error = ledger_error(ledger.url, e, f"the queue ledger {safe_url(ledger.url)} failed while {doing}: "
                                            f"{type(cause).__name__}: {reason(e)}",
                             hint="check --db / WORKBENCH_DB_URL and the database")
        if is_damaged(e) or _schema_changed(cause):  # moved aside: its items are gone from the queue
            return error
        return QueueUnavailableError(error.message, hint=f"{error.hint}; {then}")

    def wrap(fn: F) -> F:
        if inspect.isgeneratorfunction(fn):
            @functools.wraps(fn)
            def gen(self: Ledger, *args: Any, **kw: Any) -> Iterator[Any]:
                try:
                    yield from fn(self, *args, **kw)
                except _FAILURES as e:
                    raise failure(self, e) from None
            return gen  # type: ignore[return-value]

        @functools.wraps(fn)
        def call(self: Ledger, *args: Any, **kw: Any) -> Any:
            try:
                return fn(self, *args, **kw)
            except _FAILURES as e:
                raise failure(self, e) from None
        return call  # type: ignore[return-value]
    return wrap


@dataclass(frozen=True)
class LeasedItem:
    """An item a worker holds: process it, then ``complete()`` it."""

    item_id: str
    kind: str
    input: dict[str, Any]
    attempts: int


class Ledger:
    """Item states of one named queue in a SQL database (tables are created on first use)."""

    def __init__(self, url: str, queue: str = "workbench", *, before_create: Callable[[], None] | None = None):
        """``before_create`` is called when the database has no item table yet, before one is made: it may refuse
        (raise) when items should exist (a broker holding tasks: the ledger was lost, or is not theirs)."""
        self.url = url
        self.queue = queue
        self.file = sqlite_file(url)
        if in_memory(url):  # each connection would get its own empty database: every item lost
            raise QueueUnavailableError(
                f"an in-memory queue ledger ({safe_url(url)}) would lose every item: each connection to it gets a "
                "database of its own", hint="give a file URL, e.g. --db sqlite:////abs/path/ledger.db (or leave --db "
                                            "and WORKBENCH_DB_URL unset for ledger.db next to the queue)")
        try:
            # the store's engine, with the write lock taken at BEGIN (two workers lease safely) and full fsync: the
            # ledger holds the queue's only copy of each item and result
            self.engine = make_engine(url, begin="BEGIN IMMEDIATE", synchronous="FULL")
            if before_create is not None and not sa.inspect(self.engine).has_table(ITEMS.name):
                try:
                    before_create()
                except BaseException:
                    self.engine.dispose()
                    raise
            _META.create_all(self.engine, checkfirst=True)
        except (sa.exc.SQLAlchemyError, OSError, ValueError) as e:
            raise ledger_error(url, e) from None
        self._identity = None if self.file is None else identity(self.file)

    def verify(self) -> None:
        """Raise ``QueueUnavailableError`` when the SQLite file was removed, replaced, truncated or overwritten since
        it was opened (SQLite would not notice before its next write, or ever for a removed file); a no-op for
        another database. Cheap: a worker calls it between items."""
        changed = None if self.file is None else changed_under(
            self.file, self._identity, "the queue ledger", _REPAIR,
            f"start the worker again: it opens the ledger now at that path (if it is the one the items were enqueued "
            f"with); {_HELD}")
        if changed is not None:
            raise QueueUnavailableError(changed[0], hint=changed[1])

    def _where(self, item_id: str | None = None):
        cond = ITEMS.c.queue == self.queue
        return cond if item_id is None else sa.and_(cond, ITEMS.c.item_id == item_id)

    @_guarded("recording items", "then run the same `workbench enqueue` again: items already recorded are kept "
                                 "(enqueue is idempotent by id)")
    def add(self, items: Iterable[tuple[str, dict[str, Any]]], kind: str = "run") -> tuple[list[str], list[str]]:
        """Record new items as pending, in order. Returns ``(added ids, ids already known)``: known ids are kept
        as they are (idempotent enqueue), whatever their state."""
        items = list(items)
        added: list[str] = []
        known: list[str] = []
        now = time.time()
        with self.engine.begin() as conn:
            existing = self._existing(conn, [i for i, _ in items])
            seq = conn.execute(sa.select(sa.func.max(ITEMS.c.seq)).where(self._where())).scalar() or 0
            rows = []
            for item_id, payload in items:
                if item_id in existing:
                    known.append(item_id)
                    continue
                existing.add(item_id)
                seq += 1
                rows.append({"queue": self.queue, "item_id": item_id, "seq": seq, "kind": kind,
                             "input": json.dumps(payload, ensure_ascii=False), "state": "pending",
                             "attempts": 0, "updated": now})
                added.append(item_id)
            if rows:
                conn.execute(ITEMS.insert(), rows)
        return added, known

    def _existing(self, conn: sa.Connection, ids: list[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            found.update(conn.execute(sa.select(ITEMS.c.item_id).where(
                self._where(), ITEMS.c.item_id.in_(chunk))).scalars())
        return found

    @_guarded("noting pushed items", _THEN_EITHER)
    def mark_queued(self, ids: Iterable[str], queued: bool = True) -> None:
        """Note that these ids were pushed to the broker (so ``reap`` does not push them again yet), or, with
        ``queued=False``, that pushing them failed (the next ``enqueue`` or worker pushes them)."""
        ids = list(ids)
        now = time.time() if queued else None
        with self.engine.begin() as conn:
            for start in range(0, len(ids), 500):
                conn.execute(ITEMS.update().where(self._where(), ITEMS.c.item_id.in_(ids[start:start + 500]))
                             .values(queued_at=now))

    @_guarded("leasing an item")
    def lease(self, item_id: str, owner: str, seconds: float) -> LeasedItem | None:
        """Take the item if it is pending or its lease expired; ``None`` when it is done or held by a live lease."""
        now = time.time()
        with self.engine.begin() as conn:
            took = conn.execute(ITEMS.update().where(
                self._where(item_id),
                sa.or_(ITEMS.c.state == "pending",
                       sa.and_(ITEMS.c.state == "leased", ITEMS.c.lease_expires < now)),
            ).values(state="leased", lease_owner=owner, lease_expires=now + seconds,
                     attempts=ITEMS.c.attempts + 1, updated=now)).rowcount
            if took != 1:
                return None
            row = conn.execute(sa.select(ITEMS.c.kind, ITEMS.c.input, ITEMS.c.attempts)
                               .where(self._where(item_id))).one()
        return LeasedItem(item_id, row.kind, json.loads(row.input), row.attempts)

    @_guarded("renewing a lease")
    def renew(self, item_id: str, owner: str, seconds: float) -> bool:
        """Extend a lease this owner still holds."""
        now = time.time()
        with self.engine.begin() as conn:
            return conn.execute(ITEMS.update().where(
                self._where(item_id), ITEMS.c.state == "leased", ITEMS.c.lease_owner == owner,
            ).values(lease_expires=now + seconds, updated=now)).rowcount == 1

    @_guarded("storing a result")
    def complete(self, item_id: str, result: dict[str, Any], config_hash: str | None = None) -> bool:
        """Store the result and mark the item done — only if it is not done yet (exactly one result per item).
        Returns whether this call wrote it. The input, no longer needed, is kept redacted from now on (the capture
        policy: personal data and secrets out, as in the log store); ``purge`` removes done items after the
        retention period."""
        from ..store.rows import scrub_value

        now = time.time()
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(ITEMS.c.input).where(self._where(item_id))).first()
            redacted = None if row is None else json.dumps(scrub_value(json.loads(row.input)), ensure_ascii=False)
            values = {"state": "done", "result": json.dumps(result, ensure_ascii=False), "config_hash": config_hash,
                      "lease_owner": None, "lease_expires": None, "updated": now}
            if redacted is not None:
                values["input"] = redacted
            return conn.execute(ITEMS.update().where(self._where(item_id), ITEMS.c.state != "done")
                                .values(**values)).rowcount == 1

    @_guarded("purging done items", "then run `workbench purge` again")
    def purge(self, older_than_seconds: float) -> int:
        """Delete done items finished more than ``older_than_seconds`` ago (the retention period); returns how
        many. Pending and leased items are never purged. Deleted text is overwritten (``secure_delete``); call
        ``fold_wal`` after it, so it does not linger in SQLite's ``-wal`` either."""
        with self.engine.begin() as conn:
            return conn.execute(ITEMS.delete().where(ITEMS.c.queue == self.queue, ITEMS.c.state == "done",
                                                     ITEMS.c.updated < time.time() - older_than_seconds)).rowcount

    def fold_wal(self) -> bool:
        """Fold SQLite's write-ahead log back into the file now and truncate it (``logstore.fold_wal``): False when
        another connection's read snapshot stopped it."""
        return fold_wal(self.engine)

    @_guarded("releasing a lease")
    def release(self, item_id: str, owner: str) -> None:
        """Give a lease back unfinished (a worker stopping cleanly): the item is pending again."""
        with self.engine.begin() as conn:
            conn.execute(ITEMS.update().where(
                self._where(item_id), ITEMS.c.state == "leased", ITEMS.c.lease_owner == owner,
            ).values(state="pending", lease_owner=None, lease_expires=None, queued_at=None, updated=time.time()))

    @_guarded("re-enqueueing expired leases", _THEN_EITHER)
    def reap(self, *, broker_empty: bool, grace_seconds: float = 2.0) -> list[str]:
        """Items that need a new broker task, claimed for re-pushing (``queued_at`` set now):

        - leases that expired (their worker died): back to pending;
        - pending items never pushed (the broker was down at enqueue);
        - when the broker is empty, pending items pushed more than ``grace_seconds`` ago (a worker died between
          taking the task and leasing the item). A duplicate task is harmless: leasing is idempotent.
        """
        now = time.time()
        reclaimed: list[str] = []
        with self.engine.begin() as conn:
            expired = list(conn.execute(sa.select(ITEMS.c.item_id).where(
                self._where(), ITEMS.c.state == "leased", ITEMS.c.lease_expires < now)).scalars())
            for item_id in expired:
                if conn.execute(ITEMS.update().where(
                        self._where(item_id), ITEMS.c.state == "leased", ITEMS.c.lease_expires < now,
                ).values(state="pending", lease_owner=None, lease_expires=None, queued_at=now,
                         updated=now)).rowcount == 1:
                    reclaimed.append(item_id)
            stale = ITEMS.c.queued_at.is_(None)
            if broker_empty:
                stale = sa.or_(stale, ITEMS.c.queued_at < now - grace_seconds)
            lost = list(conn.execute(sa.select(ITEMS.c.item_id).where(
                self._where(), ITEMS.c.state == "pending", stale).order_by(ITEMS.c.seq)).scalars())
            for item_id in lost:
                if conn.execute(ITEMS.update().where(self._where(item_id), ITEMS.c.state == "pending", stale)
                                .values(queued_at=now)).rowcount == 1:
                    reclaimed.append(item_id)
        return reclaimed

    @_guarded("counting items", _THEN_READ)
    def counts(self) -> dict[str, int]:
        """Items per state (every state present, zero when none)."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(ITEMS.c.state, sa.func.count()).where(self._where())
                                .group_by(ITEMS.c.state)).all()
        out = dict.fromkeys(STATES, 0)
        out.update({state: n for state, n in rows})
        return out

    @_guarded("reading items", _THEN_READ)
    def rows(self) -> Iterator[dict[str, Any]]:
        """Every item in enqueue order: ``item_id, kind, state, attempts, config_hash, input, result``."""
        cols = [ITEMS.c.item_id, ITEMS.c.kind, ITEMS.c.state, ITEMS.c.attempts, ITEMS.c.config_hash,
                ITEMS.c.input, ITEMS.c.result]
        with self.engine.connect() as conn:
            for r in conn.execute(sa.select(*cols).where(self._where()).order_by(ITEMS.c.seq, ITEMS.c.item_id)):
                yield {"item_id": r.item_id, "kind": r.kind, "state": r.state, "attempts": r.attempts,
                       "config_hash": r.config_hash, "input": json.loads(r.input),
                       "result": json.loads(r.result) if r.result else None}

    def close(self) -> None:
        """Release the database connections (SQLite: the write-ahead log folded back and truncated)."""
        dispose(self.engine)
