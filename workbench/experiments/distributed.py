"""Spread an experiment grid over queue workers (``workbench experiment SPEC --queue URL``).

Each pending cell becomes a ledger item of kind ``cell`` (idempotent by a key of config hash, sample and repeat);
``workbench worker`` runs it with the same engine code (``Experiment._cell``) and stores the record as the item's
result; ``collect`` appends finished records to the run folder's ``records.jsonl``, so results, resumption and
``model calls: N`` work exactly as for a local run. Workers need the spec and eval set at the same paths.
"""
from __future__ import annotations

import asyncio
import functools
import json
import time
from pathlib import Path
from typing import Any

from .engine import Experiment
from .spec import ExperimentSpec


def cell_id(config_hash: str, sample_id: str, repeat: int) -> str:
    """The ledger key of one cell: a prefix of the config hash, the sample id and the repeat."""
    return f"cell:{config_hash.removeprefix('sha256:')[:16]}:{sample_id}:{repeat}"


def submit_cells(exp: Experiment, spec_path: str | Path, queue: Any) -> int:
    """Enqueue the pending cells of ``exp``; returns how many were new to the ledger."""
    exp._write_manifest()
    spec = str(Path(spec_path).resolve())
    items = [(cell_id(exp.variants[v].hash, s.id, r),
              {"spec": spec, "out": str(exp.out), "variant": v, "sample_id": s.id, "repeat": r})
             for v, s, r in exp.pending()]
    return queue.submit(items, kind="cell").added


@functools.lru_cache(maxsize=4)
def _experiment(spec: str, out: str) -> Experiment:
    return Experiment.from_spec(ExperimentSpec.load(spec), out)


def run_cell_item(inputs: dict[str, Any]) -> dict[str, Any]:
    """Run one cell on a worker; the ``RunRecord`` as a dict is the item's result."""
    exp = _experiment(inputs["spec"], inputs["out"])
    sample = exp.evalset[inputs["sample_id"]]
    record = asyncio.run(exp._cell(inputs["variant"], sample, int(inputs["repeat"]), {}))
    return record.to_dict()


def collect(exp: Experiment, queue: Any) -> int:
    """Append the finished cells' records that ``records.jsonl`` does not hold yet; returns how many."""
    done, wanted = exp.done_keys(), {cell_id(exp.variants[v].hash, s.id, r) for v, s, r in exp.cells()}
    new = []
    for row in queue.ledger.rows():
        if row["kind"] == "cell" and row["state"] == "done" and row["item_id"] in wanted and row["result"]:
            record = row["result"] if isinstance(row["result"], dict) else json.loads(row["result"])
            if (record["config_hash"], record["sample_id"], record["repeat"]) not in done:
                new.append(record)
    exp.out.mkdir(parents=True, exist_ok=True)
    with exp.records_path.open("a", encoding="utf-8") as sink:
        for record in new:
            sink.write(json.dumps(record, ensure_ascii=False) + "\n")
    return len(new)


def run_distributed(exp: Experiment, spec_path: str | Path, queue: Any, *, timeout: float = 3600.0,
                    poll: float = 1.0) -> tuple[int, list[dict[str, Any]]]:
    """Submit, wait until workers have finished every cell (or ``timeout``), collect; (submitted, new records)."""
    submitted = submit_cells(exp, spec_path, queue)
    before = exp.done_keys()
    deadline = time.monotonic() + timeout
    while exp.pending() and time.monotonic() < deadline:
        collect(exp, queue)
        if exp.pending():
            time.sleep(poll)
    collect(exp, queue)
    records = [json.loads(line) for line in exp.records_path.read_text(encoding="utf-8").splitlines()
               if line.strip()] if exp.records_path.exists() else []
    new = [r for r in records if (r.get("config_hash"), r.get("sample_id"), r.get("repeat")) not in before]
    return submitted, new
