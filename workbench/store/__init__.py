"""The log store, beneath both the runner and monitoring: one row per request, the escalation queue, and the
versioned schema (SQLite by default, Postgres by SQLAlchemy URL).

- ``logstore``: engine, schema, migrations, ``LogStore`` (read, write, purge);
- ``rows``: what a request row holds (metadata always, raw text for a redacted sample);
- ``requestlog``: the runner's failure-tolerant, write-behind access to the store;
- ``escalation``: items a human should look at, and the eval candidates their answers become;
- ``sqlitefile``: what a SQLite file's failure means (read-only place, damaged file) and in-memory URLs.

    from workbench.store import LogStore, list_escalations, resolve
"""
from .._util.lazy import lazy_exports

_EXPORTS = {
    "LogStore": ".logstore", "default_db_url": ".logstore", "safe_url": ".logstore", "make_engine": ".logstore",
    "RequestLog": ".requestlog", "WriteBehind": ".requestlog", "request_row": ".rows", "scrub": ".rows",
    "escalate": ".escalation", "list_escalations": ".escalation", "resolve": ".escalation",
    "get_escalation": ".escalation", "to_candidate_sample": ".escalation", "export_candidates": ".escalation",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
