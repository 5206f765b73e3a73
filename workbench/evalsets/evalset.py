"""Eval sets: ``evalsets/<name>.jsonl`` (one sample per line) + ``evalsets/<name>.card.yaml`` (the card).

    from workbench.evalsets.evalset import load_evalset
    es = load_evalset("evalsets/northwind_qa.jsonl")
    es.by_category(), es.hash, es.to_pandas(), es.split(0.2, seed=0)

A file never half-loads: every problem (malformed JSON, unknown or missing fields, wrong types, duplicate ids)
is a ``DataError`` naming the file, the line and the field.
"""
from __future__ import annotations

import json
import os
import random
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .._util.jsonlines import parse_line
from ..errors import ConfigError, DataError
from ..hashing import content_hash
from ..prompts import Criterion

Category = Literal["normal", "edge", "adversarial", "unanswerable"]
CATEGORIES: tuple[str, ...] = ("normal", "edge", "adversarial", "unanswerable")


class Document(BaseModel):
    """One document a sample's question is answered from."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str
    text: str


class SampleInputs(BaseModel):
    """What the pipeline receives: a question and the documents to answer from (other fields pass through)."""

    model_config = ConfigDict(frozen=True, extra="allow")
    question: str
    documents: list[Document] = Field(default_factory=list)


class Sample(BaseModel):
    """One eval sample: inputs, acceptable answers, category, tags and the criteria it is scored by."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str = Field(min_length=1)
    inputs: SampleInputs
    expected: list[str] = Field(default_factory=list, description="acceptable answers (any of them)")
    category: Category = "normal"
    tags: list[str] = Field(default_factory=list)
    criteria: list[Criterion] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _answerable_samples_have_answers(self):
        if self.category in ("normal", "edge") and not self.expected:
            raise ValueError(f"a {self.category!r} sample needs at least one expected answer")
        return self

    def to_json(self) -> dict[str, Any]:
        """The sample as it is stored: one JSONL line's object."""
        return self.model_dump(mode="json", exclude_defaults=False)


class EvalCard(BaseModel):
    """The card of an eval set: what it is, its version, its composition and its content hash."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    version: int = Field(1, ge=1)
    description: str = ""
    categories: dict[str, int] = Field(default_factory=dict)
    total: int = 0
    content_hash: str = ""
    changelog: list[str] = Field(default_factory=list)


class EvalSet:
    """Samples plus their card. Immutable by convention: operations return new sets."""

    def __init__(self, samples: Iterable[Sample], name: str = "evalset", version: int = 1, description: str = "",
                 changelog: list[str] | None = None):
        self.samples = list(samples)
        self.name, self.version, self.description = name, version, description
        self.changelog = list(changelog or [])
        _check_unique(self.samples)

    def __len__(self) -> int:
        return len(self.samples)

    def __iter__(self):
        return iter(self.samples)

    def __getitem__(self, i: int | str) -> Sample:
        if isinstance(i, str):
            return next(s for s in self.samples if s.id == i)
        return self.samples[i]

    @property
    def hash(self) -> str:
        """Content hash over the samples, in order (``workbench.hashing`` rule)."""
        return content_hash([s.to_json() for s in self.samples])

    def by_category(self) -> dict[str, int]:
        """Sample count per category, every category listed (0 included)."""
        counts = Counter(s.category for s in self.samples)
        return {c: counts.get(c, 0) for c in CATEGORIES}

    @property
    def card(self) -> EvalCard:
        """The set's card: name, version, composition, content hash and changelog."""
        return EvalCard(name=self.name, version=self.version, description=self.description,
                        categories=self.by_category(), total=len(self), content_hash=self.hash,
                        changelog=self.changelog)

    def filter(self, fn) -> EvalSet:
        """A set of the samples for which ``fn(sample)`` is true, with the same name, version and changelog."""
        return EvalSet([s for s in self.samples if fn(s)], self.name, self.version, self.description,
                       self.changelog)

    def split(self, test_fraction: float = 0.2, seed: int = 0) -> tuple[EvalSet, EvalSet]:
        """A (train, test) split stratified by category: each category keeps its share in both parts."""
        rng, train, test = random.Random(seed), [], []
        for category in CATEGORIES:
            group = [s for s in self.samples if s.category == category]
            rng.shuffle(group)
            k = round(len(group) * test_fraction)
            test += group[:k]
            train += group[k:]
        order = {s.id: i for i, s in enumerate(self.samples)}

        def key(s: Sample) -> int:
            return order[s.id]

        return (EvalSet(sorted(train, key=key), f"{self.name}-train", self.version, self.description),
                EvalSet(sorted(test, key=key), f"{self.name}-test", self.version, self.description))

    def save(self, path: str | Path) -> Path:
        """Write ``<name>.jsonl`` and ``<name>.card.yaml`` side by side; returns the JSONL path."""
        import yaml

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(path, "".join(json.dumps(s.to_json(), ensure_ascii=False) + "\n" for s in self.samples))
        _write_atomic(card_path(path), yaml.safe_dump(self.card.model_dump(), sort_keys=False, allow_unicode=True))
        return path

    def to_pandas(self):
        """One row per sample: id, question, n_documents, expected, category, tags (a view, not the store)."""
        import pandas as pd

        return pd.DataFrame([{"id": s.id, "question": s.inputs.question, "n_documents": len(s.inputs.documents),
                              "expected": s.expected, "category": s.category, "tags": s.tags}
                             for s in self.samples])

    def to_hf(self):
        """A Hugging Face ``datasets.Dataset`` (nested fields as JSON strings, so any sample fits one schema)."""
        import datasets

        rows = [{"id": s.id, "sample": json.dumps(s.to_json(), ensure_ascii=False), "category": s.category}
                for s in self.samples]
        return datasets.Dataset.from_list(rows)

    @classmethod
    def from_hf(cls, dataset, name: str = "evalset", mapping: Any = None, **kw: Any) -> EvalSet:
        """A set from a Hugging Face ``datasets.Dataset``: one written by ``to_hf`` (its ``sample`` column), or any
        other through a ``ColumnMapping`` (``workbench.evalsets.importing``). ``kw``: version, description,
        changelog."""
        columns = list(getattr(dataset, "column_names", []) or [])
        if mapping is None and "sample" in columns:
            return cls(_parse_lines((r["sample"] for r in dataset), f"<dataset {name}>"), name, **kw)
        if mapping is None:
            raise DataError(f"this dataset was not written by EvalSet.to_hf (no 'sample' column): map its columns "
                            f"with mapping=ColumnMapping(question=..., documents=..., expected=...); the columns "
                            f"are: {', '.join(columns)}", path=f"<dataset {name}>")
        from .importing import import_evalset

        imported = import_evalset(dataset, mapping, name=name, description=kw.get("description", ""))
        return cls(imported.samples, name, **kw)

    def new_version(self, samples: Iterable[Sample], note: str) -> EvalSet:
        """A new version with ``samples`` appended and a changelog line ``v<N>: <note>``; ids must stay unique."""
        version = self.version + 1
        return EvalSet([*self.samples, *samples], self.name, version, self.description,
                       [*self.changelog, f"v{version}: {note}"])

    @classmethod
    def from_records(cls, records: Iterable[dict[str, Any]], name: str = "evalset", **kw: Any) -> EvalSet:
        """A set from sample dicts, validated as the lines of a JSONL file would be (``kw``: version, description,
        changelog)."""
        return cls(_parse_lines((json.dumps(r) for r in records), f"<records {name}>"), name, **kw)

    def _repr_html_(self) -> str:
        cats = " · ".join(f"{k} {v}" for k, v in self.by_category().items())
        return f"<b>{self.name}</b> v{self.version}: {len(self)} samples ({cats}) <code>{self.hash[:19]}</code>"

    def __repr__(self) -> str:
        return f"EvalSet({self.name!r}, v{self.version}, {len(self)} samples)"


def _write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file and a rename, so a crash never leaves a half-written file."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def card_path(jsonl: Path) -> Path:
    """Where the card of the eval set ``<name>.jsonl`` lives: ``<name>.card.yaml``."""
    return jsonl.with_name(jsonl.name.removesuffix(".jsonl") + ".card.yaml")


def _check_unique(samples: list[Sample], path: Any = None) -> None:
    seen: dict[str, int] = {}
    for i, s in enumerate(samples, 1):
        if s.id in seen:
            raise DataError(f"duplicate id {s.id!r} (first on line {seen[s.id]})", path=path, line=i, field="id")
        seen[s.id] = i


def _parse_lines(lines: Iterable[str], path: Any) -> list[Sample]:
    samples = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        raw = parse_line(line, path, n)
        if not isinstance(raw, dict):
            raise DataError("a sample must be a JSON object", path=path, line=n)
        try:
            samples.append(Sample(**raw))
        except ValidationError as e:
            err = e.errors()[0]
            raise DataError(err["msg"], path=path, line=n, field=".".join(map(str, err["loc"])) or None) from None
    _check_unique(samples, path)
    return samples


def _load_card(path: Path) -> EvalCard:
    from .._util.yamlfiles import read_yaml

    try:
        raw = read_yaml(path, "eval card")
    except ConfigError as e:
        raise DataError(f"invalid card: {e.message.splitlines()[0]}", path=path) from None
    if not isinstance(raw, dict):
        raise DataError("a card must be a YAML mapping", path=path)
    try:
        return EvalCard(**raw)
    except ValidationError as e:
        err = e.errors()[0]
        raise DataError(f"invalid card: {err['msg']}", path=path,
                        field=".".join(map(str, err["loc"])) or None) from None


def load_evalset(path: str | Path) -> EvalSet:
    """Load ``<name>.jsonl`` (and its card when present); raises ``DataError`` naming file, line and field."""
    from .._util.jsonlines import read_utf8

    path = Path(path)
    samples = _parse_lines(read_utf8(path).splitlines(), path)
    name, version, description, changelog = path.name.removesuffix(".jsonl"), 1, "", []
    card_file = card_path(path)
    if card_file.exists():
        card = _load_card(card_file)
        name, version, description, changelog = card.name, card.version, card.description, card.changelog
    return EvalSet(samples, name, version, description, changelog)
