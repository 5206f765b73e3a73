"""Input handling for every statistic: per-sample values keyed by id, paired explicitly, missing dropped.

Values are scores in [0, 1] (float) or pass/fail (bool); higher is better. ``None``, ``NaN`` and ``pandas.NA``
mean *unmeasured*: they are dropped pairwise and counted, never treated as 0.
"""
from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ..errors import StatsError

Kind = Literal["binary", "continuous"]
"""``binary``: pass/fail (bool or 0/1); ``continuous``: any real score (usually in [0, 1])."""


def is_missing(value: Any) -> bool:
    """True for ``None``, float ``NaN`` (numpy included) and ``pandas.NA`` — an unmeasured value."""
    if value is None:
        return True
    if isinstance(value, (float, np.floating)):
        return math.isnan(value)
    return type(value).__name__ in ("NAType", "NaTType")  # pandas.NA / NaT, without importing pandas


def as_mapping(values: Any, what: str = "values") -> dict[Hashable, Any]:
    """``{sample_id: value}`` from a dict or a pandas Series indexed by id (duplicate ids are refused)."""
    if isinstance(values, Mapping):
        return dict(values)
    index = getattr(values, "index", None)
    if index is not None and hasattr(values, "items"):
        if not index.is_unique:
            dupes = sorted(map(str, index[index.duplicated()].unique()))[:5]
            raise StatsError(f"{what}: duplicate sample ids {dupes}", code="invalid_values",
                             hint="each sample id must appear once; aggregate repeats first (groupby id)")
        return dict(values.items())
    raise StatsError(f"{what}: expected a dict {{sample_id: value}} or a pandas Series indexed by sample id, "
                     f"got {type(values).__name__}", code="invalid_values",
                     hint="key values by sample id so pairs are explicit")


def to_float(value: Any, sample_id: Hashable, what: str) -> float:
    """A bool or real number as a float; anything else is a ``StatsError`` naming the sample."""
    if isinstance(value, (bool, np.bool_)):
        return float(value)
    if isinstance(value, (int, float, np.integer, np.floating)) and math.isfinite(float(value)):
        return float(value)
    raise StatsError(f"{what}[{sample_id!r}] = {value!r} is not a score (a number or a bool)",
                     code="invalid_values",
                     hint="pass scores in [0, 1] or pass/fail booleans; None for unmeasured")


@dataclass(frozen=True)
class Paired:
    """Two variants' values aligned by sample id, after dropping unpaired ids and missing values."""

    ids: tuple[Hashable, ...]
    """The sample ids kept, in order."""
    a: np.ndarray
    """A's values (float), aligned with ``ids``."""
    b: np.ndarray
    """B's values (float), aligned with ``ids``."""
    n_unpaired_a: int
    """Ids only A has."""
    n_unpaired_b: int
    """Ids only B has."""
    n_missing_a: int
    """Paired ids dropped because A's value is missing (None/NaN)."""
    n_missing_b: int
    """Paired ids dropped because B's value is missing (both missing counts in both)."""
    n_dropped: int
    """Paired ids dropped for a missing value on either side."""


def pair(a: Any, b: Any, *, name_a: str = "A", name_b: str = "B") -> Paired:
    """Align ``a`` and ``b`` by sample id; drop ids only one side has and pairs with a missing value."""
    ma, mb = as_mapping(a, name_a), as_mapping(b, name_b)
    common = [i for i in ma if i in mb]
    miss_a = {i for i in common if is_missing(ma[i])}
    miss_b = {i for i in common if is_missing(mb[i])}
    kept = [i for i in common if i not in miss_a and i not in miss_b]
    va = np.array([to_float(ma[i], i, name_a) for i in kept], dtype=float)
    vb = np.array([to_float(mb[i], i, name_b) for i in kept], dtype=float)
    return Paired(ids=tuple(kept), a=va, b=vb, n_unpaired_a=len(ma) - len(common),
                  n_unpaired_b=len(mb) - len(common), n_missing_a=len(miss_a), n_missing_b=len(miss_b),
                  n_dropped=len(miss_a | miss_b))


def is_binary(*arrays: np.ndarray) -> bool:
    """True when every value is 0 or 1 (booleans arrive here as 0.0/1.0)."""
    return all(bool(np.isin(x, (0.0, 1.0)).all()) for x in arrays)


def resolve_kind(kind: str, *arrays: np.ndarray) -> Kind:
    """``auto`` → ``binary`` when every value is 0/1, else ``continuous``; an explicit kind is checked."""
    if kind == "auto":
        return "binary" if is_binary(*arrays) else "continuous"
    if kind == "binary":
        if not is_binary(*arrays):
            raise StatsError("kind='binary' but some values are not 0/1 or bool", code="invalid_values",
                             hint="use kind='continuous' for graded scores, or threshold them first")
        return "binary"
    if kind == "continuous":
        return "continuous"
    raise StatsError(f"unknown kind {kind!r}", code="invalid_values",
                     hint="use 'auto', 'binary' or 'continuous'")


def require_pairs(paired: Paired, min_pairs: int, name_a: str, name_b: str) -> None:
    """Refuse (``insufficient_data``) when nothing is paired or fewer than ``min_pairs`` pairs remain."""
    n = len(paired.ids)
    if n == 0:
        raise StatsError(
            f"nothing to compare: no sample id has a measured value in both {name_a} and {name_b} "
            f"({paired.n_unpaired_a} ids only in {name_a}, {paired.n_unpaired_b} only in {name_b}, "
            f"{paired.n_dropped} paired ids with a missing value)",
            hint="check that both runs used the same eval set and the same id type (e.g. '7' vs 7)")
    if n < min_pairs:
        raise StatsError(
            f"only {n} paired samples between {name_a} and {name_b} (minimum {min_pairs}; "
            f"{paired.n_dropped} dropped for missing values, "
            f"{paired.n_unpaired_a + paired.n_unpaired_b} unpaired):"
            " too few for a meaningful p-value",
            hint="score more samples, or lower min_pairs if you accept a very noisy answer")
