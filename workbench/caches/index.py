"""Approximate nearest neighbours for the semantic cache, in numpy only: sign-bit sketches (SimHash) scanned by
Hamming distance.

Every vector is reduced to 255 sign bits against fixed random Gaussian hyperplanes. Two vectors at angle ``θ``
disagree on a bit with probability ``θ/π``, so the number of differing bits of two sketches is
``Binomial(255, θ/π)``. For a cosine threshold ``t``, ``max_distance(t)`` is that binomial's 0.999 quantile at
``θ = acos(t)``: an entry at the threshold (or above it) lies farther than that with probability below 0.001.

A lookup scans the sketches, not the vectors: 32 bytes per entry instead of ``4 × dim`` (a 48th of the memory of a
float32 scan at 384 dimensions). It goes in two passes: the first 64 bits (128 below a threshold of 0.9, where 64
bits cannot tell 0.8 from 0.5) of every entry, cut at the same quantile for that many bits, then the rest of the
bits of the survivors only. An entry at the threshold therefore comes through with probability >= 0.998. When
more than ``limit`` come through (clustered entries: at 0.8 some queries of the benchmark have 15k of 100k within
the distance), the ``limit`` closest are kept. The caller scores them exactly (cosine), so the index only decides
*which* entries are scored: a miss costs recall (a paraphrase answered by the model instead of the cache), never a
wrong hit.

Measured at 100k entries of 384 dimensions (``benchmarks/runner.py``, 2 vCPUs, caches cold after a brute-force
scan of the same entries): a scan takes ~0.4-0.6 ms at 0.95 and ~0.6-1.2 ms at 0.8, against 11-14 ms for
``vectors @ q``. The 256th bit of the four 64-bit words is padding (always 0), so a distance fits in a ``uint8``.
Sketches are stored column-wise (one contiguous ``uint64`` array per word) and appended as entries arrive: there
is no training and nothing to rebuild.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

BITS = 255
_WORDS = 4


@lru_cache(maxsize=64)
def max_distance(threshold: float, bits: int = BITS, miss: float = 1e-3) -> int:
    """The smallest ``d`` with ``P(Binomial(bits, acos(threshold)/π) > d) <= miss``: an entry at cosine
    ``threshold`` (or above) has more than ``d`` of ``bits`` sketch bits different with probability ``<= miss``."""
    p = math.acos(max(-1.0, min(1.0, threshold))) / math.pi
    if p <= 0.0:
        return 0
    cdf = 0.0
    for d in range(bits):
        cdf += math.exp(math.lgamma(bits + 1) - math.lgamma(d + 1) - math.lgamma(bits - d + 1)
                        + d * math.log(p) + (bits - d) * math.log1p(-p))
        if cdf >= 1.0 - miss:
            return d
    return bits


class SketchIndex:
    """Candidate positions for a query among ``add``-ed L2-normalised vectors (positions 0, 1, 2... in order)."""

    def __init__(self, dim: int, *, seed: int = 0):
        self.dim = dim
        self._planes = np.random.default_rng(seed).standard_normal((dim, BITS)).astype(np.float32)
        self._codes = np.zeros((_WORDS, 1024), np.uint64)  # column-wise: one row per 64-bit word
        self._size = 0

    def __len__(self) -> int:
        return self._size

    @property
    def nbytes(self) -> int:
        """Memory held by the sketches and the hyperplanes, in bytes."""
        return int(self._codes.nbytes + self._planes.nbytes)

    def sketch(self, vectors: np.ndarray) -> np.ndarray:
        """``(4, n)`` ``uint64`` sketches of ``(n, dim)`` vectors (or of one vector)."""
        signs = np.asarray(vectors, dtype=np.float32).reshape(-1, self.dim) @ self._planes > 0
        return np.packbits(signs, axis=1, bitorder="little").view(np.uint64).T

    def add(self, vectors: np.ndarray) -> None:
        """Append the sketches of ``(n, dim)`` vectors: they get the next ``n`` positions."""
        end = self._size + len(vectors)
        if end > self._codes.shape[1]:
            grown = np.zeros((_WORDS, max(end, 2 * self._codes.shape[1])), np.uint64)
            grown[:, :self._size] = self._codes[:, :self._size]
            self._codes = grown
        for start in range(0, len(vectors), 16_384):  # bounded temporaries when a whole scope is loaded
            chunk = self.sketch(vectors[start:start + 16_384])
            self._codes[:, self._size:self._size + chunk.shape[1]] = chunk
            self._size += chunk.shape[1]

    def candidates(self, query: np.ndarray, threshold: float, limit: int = 1024) -> np.ndarray:
        """Positions (ascending) of the entries likely at cosine ``>= threshold`` from ``query``: those within
        ``max_distance(threshold)``, or the ``limit`` closest of them (ties: the first positions)."""
        q = self.sketch(query)[:, 0]
        codes = self._codes[:, :self._size]
        full = 1 if threshold >= 0.9 else 2  # words scanned for every entry; the rest only for the survivors
        dist = np.bitwise_count(codes[0] ^ q[0])
        for word in range(1, full):
            dist += np.bitwise_count(codes[word] ^ q[word])
        near = np.flatnonzero(dist <= max_distance(threshold, 64 * full))
        dist = dist[near]
        for word in range(full, _WORDS):
            dist += np.bitwise_count(codes[word].take(near) ^ q[word])
        keep = dist <= max_distance(threshold)
        near, dist = near[keep], dist[keep]
        if len(near) <= limit:
            return near
        below = np.cumsum(np.bincount(dist, minlength=BITS + 1))  # below[d]: how many within distance d
        cut = int(np.searchsorted(below, limit, side="right"))      # all closer than ``cut`` fit, not all at it
        keep = dist < cut
        keep[np.flatnonzero(dist == cut)[:limit - (int(below[cut - 1]) if cut else 0)]] = True
        return near[keep]
