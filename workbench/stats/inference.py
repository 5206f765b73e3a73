"""The three inferences behind a paired comparison: a bootstrap interval, McNemar's exact test, Wilcoxon.

Each takes plain arrays (already paired and cleaned, see ``workbench.stats.pair``) and is usable on its own.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from ..errors import UsageError

WILCOXON_ZERO_METHOD = "pratt"
"""How Wilcoxon treats zero differences (samples both variants scored the same). Pratt (1959) ranks them with
the others and then leaves them out of both rank sums, so many ties — common with LLM scores — make the test
*more* cautious; scipy's default (``wilcox``) discards them first, which overstates the evidence."""

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


def wilcoxon_test(diffs: np.ndarray) -> Wilcoxon:
    """``scipy.stats.wilcoxon(d, zero_method="pratt")`` on differences rounded to 12 decimals.

    All-zero differences carry no evidence of a difference: p = 1 with a note, instead of scipy's warning."""
    d = np.round(np.asarray(diffs, dtype=float), _DECIMALS)
    if not np.any(d):
        return Wilcoxon(0.0, 1.0, "every paired difference is zero: the variants scored identically "
                                  "on each paired sample, so there is no evidence of a difference")
    res = sps.wilcoxon(d, zero_method=WILCOXON_ZERO_METHOD)
    return Wilcoxon(float(res.statistic), float(res.pvalue), "")
