"""The three inferences behind a paired comparison: a bootstrap interval, McNemar's exact test, Wilcoxon (exact
with few non-zero differences).

Each takes plain arrays (already paired and cleaned, see ``workbench.stats.pair``) and is usable on its own.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from ..errors import UsageError

WILCOXON_ZERO_METHOD = "pratt"
"""How the normal approximation treats zero differences (samples both variants scored the same): Pratt (1959)
ranks them with the others, then leaves them out of both rank sums. That is *not* always the cautious choice: with
few non-zero differences among many zeros the zeros' ranks inflate the statistic's spread and the approximation
overstates the evidence (4 non-zero differences out of 150, all one way: Pratt's p = 0.046, the exact p = 0.125).
So with ``EXACT_MAX_NONZERO`` or fewer non-zero differences the test is exact instead (``wilcoxon_exact``)."""

EXACT_MAX_NONZERO = 25
"""Up to this many non-zero differences, ``wilcoxon_test`` computes the exact sign-flip distribution."""

_DECIMALS = 12
"""Differences are rounded to this many decimals so float noise (0.3 − 0.2 ≠ 0.1) does not break ties."""

_BOOT_CHUNK = 4_000_000
"""Bootstrap draws are made in chunks of about this many indices, to bound memory for large sets."""


def bootstrap_ci(diffs: np.ndarray, *, n_boot: int = 10_000, ci: float = 0.95,
                 seed: int | None = 0) -> tuple[float, float]:
    """Percentile bootstrap interval for the mean of paired differences (resampling whole pairs).

    Vectorised: each chunk draws an ``(rows, n)`` index matrix; seeded via ``numpy.random.default_rng``."""
    d = np.asarray(diffs, dtype=float)
    if d.size == 0:
        raise UsageError("bootstrap_ci needs at least one difference")
    if not 0 < ci < 1 or n_boot < 1:
        raise UsageError("ci must be in (0, 1) and n_boot ≥ 1")
    rng = np.random.default_rng(seed)
    rows = max(1, _BOOT_CHUNK // d.size)
    means = [d[rng.integers(0, d.size, size=(min(rows, n_boot - done), d.size))].mean(axis=1)
             for done in range(0, n_boot, rows)]
    lo, hi = np.quantile(np.concatenate(means), [(1 - ci) / 2, (1 + ci) / 2])
    return float(lo), float(hi)


@dataclass(frozen=True)
class McNemar:
    """McNemar's exact test on the discordant pairs of two paired pass/fail vectors."""

    b01: int
    """Pairs where A failed and B passed (B wins)."""
    b10: int
    """Pairs where A passed and B failed (A wins)."""
    p_value: float
    """Two-sided exact p (binomial on the discordant pairs, p = ½), or the mid-p when asked."""
    odds_ratio: float
    """b01 / b10: the odds that a discordant pair goes B's way (``inf`` when b10 = 0, ``nan`` when none)."""
    odds_ratio_ci: tuple[float, float]
    """Exact (Clopper–Pearson) interval for the odds ratio; ``(nan, nan)`` without discordant pairs."""


def mcnemar_exact(a: np.ndarray, b: np.ndarray, *, mid_p: bool = False, ci: float = 0.95) -> McNemar:
    """McNemar's exact conditional test: under H0 each discordant pair goes either way with probability ½.

    ``p = min(1, 2·P(X ≤ min(b01, b10)))`` with ``X ~ Binomial(b01 + b10, ½)``; the mid-p subtracts
    ``P(X = min)``, which is less conservative and keeps the type I error close to nominal (Fagerland,
    Lydersen & Laake 2013)."""
    a, b = np.asarray(a) > 0.5, np.asarray(b) > 0.5
    b01, b10 = int(np.sum(~a & b)), int(np.sum(a & ~b))
    n, k = b01 + b10, min(b01, b10)
    if n == 0:
        return McNemar(0, 0, 1.0, float("nan"), (float("nan"), float("nan")))
    p = 2 * sps.binom.cdf(k, n, 0.5) - (sps.binom.pmf(k, n, 0.5) if mid_p else 0.0)
    lo, hi = sps.binomtest(b01, n).proportion_ci(confidence_level=ci, method="exact")
    odds_ci = (_odds_from_share(lo), _odds_from_share(hi))
    return McNemar(b01, b10, float(min(1.0, p)), _odds(b01, b10), odds_ci)


def _odds(wins: float, losses: float) -> float:
    return float("inf") if losses == 0 else wins / losses


def _odds_from_share(share: float) -> float:
    return float("inf") if share >= 1 else float(share / (1 - share))


@dataclass(frozen=True)
class Wilcoxon:
    """Wilcoxon signed-rank test on paired differences."""

    statistic: float
    """scipy's statistic (the smaller rank sum for a two-sided test)."""
    p_value: float
    """Two-sided p; 1.0 when every difference is zero."""
    note: str
    """Why the test was not run, when it was not (all differences zero); else empty."""
    method: str = "pratt"
    """``exact`` (sign-flip distribution, few non-zero differences) or ``pratt`` (scipy's normal approximation)."""


def wilcoxon_test(diffs: np.ndarray) -> Wilcoxon:
    """The signed-rank test on differences rounded to 12 decimals: exact (``wilcoxon_exact``) with up to
    ``EXACT_MAX_NONZERO`` non-zero differences, else ``scipy.stats.wilcoxon(d, zero_method="pratt")``.

    All-zero differences carry no evidence of a difference: p = 1 with a note, instead of scipy's warning."""
    d = np.round(np.asarray(diffs, dtype=float), _DECIMALS)
    if not np.any(d):
        return Wilcoxon(0.0, 1.0, "every paired difference is zero: the variants scored identically "
                                  "on each paired sample, so there is no evidence of a difference")
    if np.count_nonzero(d) <= EXACT_MAX_NONZERO:
        return wilcoxon_exact(d)
    res = sps.wilcoxon(d, zero_method=WILCOXON_ZERO_METHOD)
    return Wilcoxon(float(res.statistic), float(res.pvalue), "")


def wilcoxon_exact(diffs: np.ndarray) -> Wilcoxon:
    """The exact sign-flip test on the signed-rank sum: zero differences are dropped (flipping their sign changes
    nothing), tied absolute differences share their mid-rank, and the null distribution of the positive rank sum
    over all ``2^k`` sign assignments of the ``k`` non-zero differences is counted exactly (by convolution, on
    doubled ranks so mid-ranks stay integers). Exact under ties, conditional on them. Two-sided p: the share of
    assignments at least as far from the centre as the observed sum. ``statistic``: the smaller rank sum."""
    d = np.asarray(diffs, dtype=float)
    d = d[d != 0]
    if d.size == 0:
        return Wilcoxon(0.0, 1.0, "every paired difference is zero")
    doubled = np.rint(2 * sps.rankdata(np.abs(d))).astype(np.int64)
    total = int(doubled.sum())
    counts = np.zeros(total + 1)
    counts[0] = 1.0
    for r in doubled:  # each difference adds its rank to the positive sum, or not
        counts[r:] = counts[r:] + counts[:-r].copy()  # r >= 2: doubled ranks start at 2
    positive = int(doubled[d > 0].sum())
    distance = np.abs(np.arange(total + 1) - total / 2)
    p = counts[distance >= abs(positive - total / 2) - 1e-9].sum() / counts.sum()
    return Wilcoxon(min(positive, total - positive) / 2, float(min(1.0, p)), "", "exact")
