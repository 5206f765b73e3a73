"""Approximate nearest neighbours for the semantic cache, in numpy only: random-hyperplane LSH with
query-directed multi-probe.

Each of ``tables`` hash tables signs the vector against ``bits`` random hyperplanes; two vectors at angle ``θ``
agree on one bit with probability ``1 - θ/π`` (0.90 at cosine 0.95, 0.80 at cosine 0.8). A lookup probes, in every
table, the query's own bucket, the buckets one flipped bit away, and those two flips away among the query's least
confident bits (its smallest projections): neighbours above a high threshold differ from the query in one or two
bits per table, and nearly always in the uncertain ones. The candidates are then scored exactly (cosine) by the
caller, so the index only decides *which* entries are scored: a miss costs recall (a paraphrase that is answered
by the model instead of the cache), never a wrong hit.

Storage is flat and sorted: one ``int64`` key ``table << bits | code`` per (entry, table) in a sorted array, with
the entry ids alongside, so one ``searchsorted`` answers every probe of every table. New entries go to an unsorted
tail that the caller scans exactly; the tail is merged (one O(n) insert) when it reaches ``tail_max``.
"""
from __future__ import annotations

import itertools

import numpy as np


class LSHIndex:
    """Candidate ids for a query vector among ``add``-ed L2-normalised vectors (ids are 0, 1, 2... in order)."""

    def __init__(self, dim: int, *, tables: int = 8, bits: int = 16, single_flips: int | None = None,
                 pair_bits: int = 5, tail_max: int = 1024, seed: int = 0):
        if not 1 <= bits <= 24:
            raise ValueError("bits must be in 1..24")
        self.dim, self.tables, self.bits, self.tail_max = dim, tables, bits, tail_max
        self.single_flips = bits if single_flips is None else min(single_flips, bits)
        self.pair_bits = min(pair_bits, bits)
        rng = np.random.default_rng(seed)
        self._planes = rng.standard_normal((dim, tables * bits)).astype(np.float32)
        self._pow = (np.int64(1) << np.arange(bits, dtype=np.int64))
        self._table_base = np.arange(tables, dtype=np.int64) << bits
        pairs = list(itertools.combinations(range(self.pair_bits), 2))
        self._pairs = (np.array([a for a, _ in pairs], dtype=np.int64), np.array([b for _, b in pairs], dtype=np.int64))
        self._keys = np.empty(0, dtype=np.int64)   # sorted
        self._ids = np.empty(0, dtype=np.int64)    # aligned with _keys
        self._indexed = 0                          # ids < _indexed are in _keys; the rest is the tail
        self._size = 0

    def __len__(self) -> int:
        return self._size

    @property
    def tail_start(self) -> int:
        """Ids from here on are not hashed yet: the caller scores them exactly."""
        return self._indexed

    def _margins(self, vectors: np.ndarray) -> np.ndarray:
        return (np.asarray(vectors, dtype=np.float32) @ self._planes).reshape(-1, self.tables, self.bits)

    def _keys_of(self, vectors: np.ndarray) -> np.ndarray:
        """``(n, tables)`` keys ``table << bits | code``."""
        codes = ((self._margins(vectors) > 0).astype(np.int64) * self._pow).sum(axis=2)
        return codes + self._table_base

    def add(self, count: int, all_vectors: np.ndarray) -> None:
        """Account for ``count`` new vectors (the last ``count`` rows of ``all_vectors[:len+count]``)."""
        self._size += count
        if self._size - self._indexed >= self.tail_max:
            self.merge(all_vectors)

    def merge(self, all_vectors: np.ndarray) -> None:
        """Hash the tail into the sorted arrays."""
        start, stop = self._indexed, self._size
        if stop <= start:
            return
        keys = self._keys_of(all_vectors[start:stop]).ravel()
        ids = np.repeat(np.arange(start, stop, dtype=np.int64), self.tables)
        order = np.argsort(keys, kind="stable")
        keys, ids = keys[order], ids[order]
        at = np.searchsorted(self._keys, keys, side="right")
        self._keys = np.insert(self._keys, at, keys)
        self._ids = np.insert(self._ids, at, ids)
        self._indexed = stop

    def _probe_keys(self, query: np.ndarray) -> np.ndarray:
        """Every table's own code, its one-bit flips and its two-bit flips among the least confident bits."""
        margins = self._margins(query.reshape(1, -1))[0]                      # (tables, bits)
        code = ((margins > 0).astype(np.int64) * self._pow).sum(axis=1)      # (tables,)
        weak = self._pow[np.argsort(np.abs(margins), axis=1)]                 # bit values, least confident first
        i, j = self._pairs
        flips = np.concatenate([np.zeros((self.tables, 1), np.int64), weak[:, :self.single_flips],
                                weak[:, i] | weak[:, j]], axis=1)             # (tables, probes)
        return ((code[:, None] ^ flips) + self._table_base[:, None]).ravel()

    def candidates(self, query: np.ndarray) -> np.ndarray:
        """Unique ids sharing a probed bucket with ``query`` (the tail is not included)."""
        if not self._indexed:
            return np.empty(0, dtype=np.int64)
        probes = np.unique(self._probe_keys(query))
        lo = np.searchsorted(self._keys, probes, side="left")
        hi = np.searchsorted(self._keys, probes, side="right")
        lengths = hi - lo
        total = int(lengths.sum())
        if not total:
            return np.empty(0, dtype=np.int64)
        # positions lo[i] .. hi[i]-1 for every probe, without a Python loop
        starts = np.repeat(lo - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
        return np.unique(self._ids[starts + np.arange(total)])
