"""The production A/B's state, kept in the log store (table ``ab_state``, created when missing) so that repeated
``workbench monitor`` runs form one sequential experiment: when it started, its plan (horizon, mixture parameters,
the error rate each criterion may spend), how many looks it has had, and the decisions made.

One row per experiment, keyed by the config's hash (a new config is a new experiment).
"""
from __future__ import annotations

import json
import time
from typing import Any

from ..errors import LogStoreError


def _table(meta: Any) -> Any:
    import sqlalchemy as sa

    return sa.Table("ab_state", meta, sa.Column("key", sa.String(200), primary_key=True),
                    sa.Column("updated", sa.Float, nullable=False), sa.Column("state", sa.Text, nullable=False))


def experiment_key(config: Any) -> str:
    """The experiment a config's split defines: its ``config_hash`` (or ``unconfigured``)."""
    return str(getattr(config, "config_hash", None) or "unconfigured")


def load_state(url: str, key: str) -> dict[str, Any] | None:
    """The stored state of experiment ``key``, or None before its first look."""
    import sqlalchemy as sa

    from ..store.logstore import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if "ab_state" not in sa.inspect(conn).get_table_names():
                return None
            table = _table(sa.MetaData())
            row = conn.execute(sa.select(table.c.state).where(table.c.key == key)).first()
    except sa.exc.SQLAlchemyError as e:
        raise LogStoreError(f"cannot read the A/B state from the log store: {e}") from e
    finally:
        engine.dispose()
    if row is None:
        return None
    try:
        return json.loads(row[0])
    except ValueError as e:
        raise LogStoreError(f"the stored A/B state of {key!r} is damaged ({e})",
                         hint="delete its row from the ab_state table to start the experiment over") from e


def save_state(url: str, key: str, state: dict[str, Any], now: float | None = None) -> None:
    """Store (or replace) the state of experiment ``key``."""
    import sqlalchemy as sa

    from ..store.logstore import make_engine

    engine = make_engine(url)
    try:
        table = _table(sa.MetaData())
        with engine.begin() as conn:
            table.create(conn, checkfirst=True)
            conn.execute(table.delete().where(table.c.key == key))
            conn.execute(table.insert().values(key=key, updated=now if now is not None else time.time(),
                                               state=json.dumps(state, default=float)))
    except sa.exc.SQLAlchemyError as e:
        raise LogStoreError(f"cannot store the A/B state in the log store: {e}") from e
    finally:
        engine.dispose()
