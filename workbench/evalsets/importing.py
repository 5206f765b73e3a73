"""Eval sets from data people already have: a Hugging Face dataset (a ``datasets.Dataset``, or one saved with
``save_to_disk``), CSV, Parquet or JSONL, mapped column by column.

    from workbench.evalsets import ColumnMapping, import_evalset
    mapping = ColumnMapping(question="question", documents="contexts", expected="reference_answers",
                            unanswerable="is_impossible", id="id")
    es = import_evalset("squad_v2_dev_subset.jsonl", mapping, name="squad_dev")
    es.save("evalsets/squad_dev.jsonl")

or ``workbench evalset import SOURCE --question question --documents contexts --expected reference_answers
--unanswerable is_impossible --id id --name squad_dev --out evalsets/squad_dev.jsonl``.

Each row becomes a sample: ``documents`` may hold one text (a context), a list of texts, or a list of ``{id, text}``
objects; ``expected`` one answer or a list of them (empty ones dropped). The category comes from the ``category``
column when mapped (one of normal, edge, adversarial, unanswerable); else a true ``unanswerable`` column, or no
expected answer at all, makes the sample ``unanswerable``, and the rest are ``normal``. A mapping that names a
column the data lacks is a ``DataError`` listing the columns there are; a row that does not fit is a ``DataError``
naming the row and the column. Nothing is half-imported.
"""
from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import DataError
from .evalset import CATEGORIES, EvalSet

TABLE_SUFFIXES = (".csv", ".parquet", ".jsonl", ".json")


@dataclass(frozen=True)
class ColumnMapping:
    """Which column of the source holds each part of a sample (None: the source has none)."""

    question: str = "question"
    documents: str | None = None
    """Documents or a context: one text, a list of texts, or a list of ``{id, text}`` objects."""
    expected: str | None = None
    """Acceptable answers: one text or a list of texts."""
    category: str | None = None
    """normal, edge, adversarial or unanswerable."""
    unanswerable: str | None = None
    """A true/false column: true makes the sample ``unanswerable`` (e.g. SQuAD 2.0's ``is_impossible``)."""
    id: str | None = None
    """Sample ids (default: ``<name>-<row number>``)."""

    def columns(self) -> dict[str, str]:
        """``{part: column}`` of the parts that are mapped."""
        return {part: col for part, col in asdict(self).items() if col is not None}


def read_rows(source: Any) -> tuple[list[str], Iterator[dict[str, Any]], str]:
    """``(columns, rows, label)`` of a ``datasets.Dataset``, a directory written by ``save_to_disk``, or a CSV,
    Parquet, JSONL or JSON (an array of objects) file."""
    if hasattr(source, "column_names") and hasattr(source, "__iter__"):  # a datasets.Dataset
        return list(source.column_names), iter(source), "<datasets.Dataset>"
    path = Path(source)
    if not path.exists():
        raise DataError("no such file or directory", path=path)
    if path.is_dir():
        import datasets

        try:
            loaded = datasets.load_from_disk(str(path))
        except (FileNotFoundError, ValueError) as e:
            raise DataError(f"not a dataset saved with save_to_disk ({e})", path=path) from None
        if isinstance(loaded, datasets.DatasetDict):
            raise DataError(f"a DatasetDict with splits {list(loaded)}: import one split (its folder)", path=path)
        return list(loaded.column_names), iter(loaded), str(path)
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise DataError(f"unknown format {suffix or '(no suffix)'!r}: give a CSV, Parquet or JSONL file or a "
                        "dataset folder", path=path)
    if suffix in (".jsonl", ".json"):
        rows = _jsonl_rows(path)
        columns = list(dict.fromkeys(k for r in rows for k in r))
        return columns, iter(rows), str(path)
    import pandas as pd

    try:
        frame = pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
    except (ValueError, OSError, pd.errors.ParserError) as e:
        raise DataError(f"cannot read it as {suffix[1:].upper()}: {e}", path=path) from None
    return [str(c) for c in frame.columns], iter(frame.to_dict("records")), str(path)


def _jsonl_rows(path: Path) -> list[dict[str, Any]]:
    """The rows of a JSONL file, or of a ``.json`` file holding one array of objects."""
    from .._util.jsonlines import json_objects, parse_line, read_utf8

    text = read_utf8(path) if path.suffix.lower() == ".json" else ""
    if text.lstrip().startswith("["):
        rows = parse_line(text, path, 1)
        if not all(isinstance(r, dict) for r in rows):
            raise DataError("a .json array must hold objects, one per row", path=path)
        return rows
    return [row for _, row in json_objects(path, "row")]


def import_evalset(source: Any, mapping: ColumnMapping | None = None, *, name: str = "evalset",
                   description: str = "") -> EvalSet:
    """An eval set from ``source`` (see the module docstring) through ``mapping`` (default: a ``question``
    column only)."""
    mapping = mapping or ColumnMapping()
    columns, rows, label = read_rows(source)
    missing = {part: col for part, col in mapping.columns().items() if col not in columns}
    if missing:
        raise DataError(f"the mapping names column(s) the data lacks: "
                        f"{', '.join(f'{part}={col!r}' for part, col in missing.items())}; the columns are: "
                        f"{', '.join(columns)}", path=label)
    records = [_sample(row, i, mapping, name, label) for i, row in enumerate(rows, 1)]
    if not records:
        raise DataError("no rows to import", path=label)
    return EvalSet.from_records(records, name, description=description or f"imported from {label}")


def _sample(row: dict[str, Any], n: int, m: ColumnMapping, name: str, label: str) -> dict[str, Any]:
    def fail(column: str, why: str) -> DataError:
        return DataError(why, path=label, line=n, field=column)

    question = row.get(m.question)
    if not isinstance(question, str) or not question.strip():
        raise fail(m.question, f"the question must be a non-empty text, not {_show(question)}")
    expected = _texts(row.get(m.expected), lambda why: fail(m.expected or "", why)) if m.expected else []
    category = _category(row, m, bool(expected), fail)
    sample_id = str(row[m.id]) if m.id and not _missing(row.get(m.id)) else f"{name}-{n}"
    return {"id": sample_id, "inputs": {"question": question, "documents": _documents(row, m, fail)},
            "expected": expected, "category": category, "metadata": {"source": label, "row": n}}


def _category(row: dict[str, Any], m: ColumnMapping, answered: bool, fail: Any) -> str:
    if m.category:
        value = row.get(m.category)
        if value not in CATEGORIES:
            raise fail(m.category, f"category {_show(value)} is not one of {', '.join(CATEGORIES)}")
        return str(value)
    if m.unanswerable and _truthy(row.get(m.unanswerable)):
        return "unanswerable"
    return "normal" if answered else "unanswerable"


def _documents(row: dict[str, Any], m: ColumnMapping, fail: Any) -> list[dict[str, str]]:
    if not m.documents or _missing(row.get(m.documents)):
        return []
    value = _decoded(row[m.documents])
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, Iterable) or isinstance(items, dict):
        raise fail(m.documents, f"documents must be a text, a list of texts or of {{id, text}} objects, not "
                                f"{_show(value)}")
    docs = []
    for j, item in enumerate(items, 1):
        if isinstance(item, str):
            docs.append({"id": f"doc-{j}", "text": item})
        elif isinstance(item, dict) and isinstance(item.get("text"), str):
            docs.append({"id": str(item.get("id") or f"doc-{j}"), "text": item["text"]})
        else:
            raise fail(m.documents, f"document {j} must be a text or an {{id, text}} object, not {_show(item)}")
    return docs


def _texts(value: Any, fail: Any) -> list[str]:
    if _missing(value):
        return []
    value = _decoded(value)
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, Iterable) or isinstance(items, dict) or not all(isinstance(x, str) for x in items):
        raise fail(f"expected answers must be a text or a list of texts, not {_show(value)}")
    return list(dict.fromkeys(x.strip() for x in items if x.strip()))


def _decoded(value: Any) -> Any:
    """A list kept as JSON text in a CSV cell becomes the list; numpy arrays (Parquet) become lists."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, str) and value.startswith("["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "y")
    return bool(value) and not _missing(value)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
