"""Escalation: items a human should look at, in the log store's ``escalations`` table.

The runner escalates per ``EscalationRules`` (a rejected input with a listed code, an output still invalid after
its re-asks, a failure that degradation could not cover). A reviewer lists them and resolves each one; a
resolution with a human answer becomes a **candidate eval sample** (``to_candidate_sample``), exported as JSONL
for the eval set (``workbench escalations export``).

    from workbench.store.escalation import list_escalations, resolve, export_candidates
    for row in list_escalations(store, "open"): ...
    resolve(store, 3, "answered from the refund policy", human_answer="30 days")
    export_candidates(store, "candidates.jsonl")
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from ..errors import UsageError
from .logstore import ESCALATIONS, LogStore
from .rows import scrub, scrub_value, stored_id

STATUSES = ("open", "resolved")


def _rows(store: LogStore, *where: Any) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(ESCALATIONS).where(*where).order_by(ESCALATIONS.c.id))]


def get_escalation(store: LogStore, escalation_id: int) -> dict[str, Any] | None:
    """One escalation row, or None."""
    rows = _rows(store, ESCALATIONS.c.id == int(escalation_id))
    return rows[0] if rows else None


def escalate(store: LogStore, *, item_id: Any, reason: str, inputs: Any, output: str | None = None,
             redact_pii: bool = True) -> int:
    """Add an open escalation (input and output scrubbed of personal data and secrets); returns its id."""
    values = {"ts": store.clock(), "item_id": stored_id(item_id, redact_pii),
              "reason": reason,
              "status": "open", "input": json.dumps(scrub_value(inputs, redact_pii), ensure_ascii=False, default=str),
              "output": None if output is None else scrub(output, redact_pii)}
    with store.engine.begin() as conn:
        return int(conn.execute(ESCALATIONS.insert().values(**values)).inserted_primary_key[0])


def list_escalations(store: LogStore, status: str | None = "open") -> list[dict[str, Any]]:
    """Escalations with ``status`` (``open``, ``resolved``; None = all), oldest first."""
    if status is not None and status not in STATUSES:
        raise UsageError(f"unknown escalation status {status!r}", hint=f"use one of {', '.join(STATUSES)}")
    return _rows(store, *([ESCALATIONS.c.status == status] if status is not None else []))


def resolve(store: LogStore, escalation_id: int, resolution: str, human_answer: str | None = None) -> dict[str, Any]:
    """Mark an escalation resolved, with what was done and, optionally, the answer a human gave; returns the row."""
    row = get_escalation(store, escalation_id)
    if row is None:
        raise UsageError(f"no escalation with id {escalation_id}", hint="see `workbench escalations list`")
    with store.engine.begin() as conn:
        conn.execute(ESCALATIONS.update().where(ESCALATIONS.c.id == row["id"]).values(
            status="resolved", resolution=resolution, human_answer=human_answer, resolved_at=store.clock()))
    return get_escalation(store, row["id"]) or row


def _documents(docs: Any) -> list[dict[str, str]]:
    """Documents in the eval-set form ``{"id", "text"}``."""
    out = []
    for i, doc in enumerate(docs if isinstance(docs, list) else []):
        if isinstance(doc, dict):
            out.append({"id": str(doc.get("id") or f"doc-{i + 1}"), "text": str(doc.get("text", ""))})
        else:
            out.append({"id": f"doc-{i + 1}", "text": str(doc)})
    return out


def to_candidate_sample(row: dict[str, Any]) -> dict[str, Any]:
    """A resolved escalation with a human answer as an eval sample (``workbench.evalsets.Sample`` fields)."""
    if not row.get("human_answer"):
        raise UsageError(f"escalation {row.get('id')} has no human answer to learn from")
    try:
        inputs = json.loads(row.get("input") or "{}")
    except ValueError:
        inputs = {}
    inputs = {k: v for k, v in inputs.items() if k != "id"} if isinstance(inputs, dict) else {}
    inputs["question"] = str(inputs.get("question", ""))
    inputs["documents"] = _documents(inputs.get("documents"))
    return {"id": f"escalation-{row['id']}", "inputs": inputs, "expected": [row["human_answer"]],
            "category": "normal", "tags": ["from-escalation"], "criteria": [{"scorer": "contains_any"}],
            "metadata": {"escalation_id": row["id"], "item_id": row.get("item_id"), "reason": row.get("reason"),
                         "resolution": row.get("resolution"), "resolved_at": row.get("resolved_at"),
                         "model_output": row.get("output")}}


def candidates(store: LogStore) -> list[dict[str, Any]]:
    """Candidate eval samples from every resolved escalation with a human answer."""
    return [to_candidate_sample(r) for r in list_escalations(store, "resolved") if r.get("human_answer")]


def export_candidates(store: LogStore, path: str | Path) -> int:
    """Write the candidate samples as JSONL to ``path``; returns how many."""
    rows = candidates(store)
    try:
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.writelines(json.dumps(sample, ensure_ascii=False) + "\n" for sample in rows)
    except OSError as e:
        raise UsageError(f"cannot write {path}: {e.strerror}") from e
    return len(rows)
