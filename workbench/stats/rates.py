"""Rates (pass, failure and error rates): score intervals and exact tests, which hold their level where a
percentile bootstrap does not (rare events, small samples: 4 failures in 100 against 0 in 100 has Fisher's exact
p = 0.12, while the bootstrap interval of the difference excludes 0).

- ``wilson_interval(k, n)``: the Wilson score interval of one rate (Wilson 1927);
- ``newcombe_interval(k_a, n_a, k_b, n_b)``: the interval of ``rate_b - rate_a`` for two independent samples from
  the two Wilson intervals (Newcombe 1998, method 10, the "hybrid score" interval);
- ``fisher_exact_p(k_a, n_a, k_b, n_b)``: Fisher's exact two-sided p for two independent rates;
- ``rate_difference(a, b)``: all three from two lists of 0/1 outcomes.

Standard library only, but for Fisher's test (scipy, imported when used): the CI gate uses the Wilson interval.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist

from ..errors import UsageError


def _z(ci: float) -> float:
    if not 0 < ci < 1:
        raise UsageError(f"ci must be in (0, 1), got {ci!r}")
    return NormalDist().inv_cdf((1 + ci) / 2)


def wilson_interval(k: int, n: int, ci: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of the rate ``k / n`` (``(0, 1)`` when ``n == 0``: nothing is known)."""
    if n < 0 or not 0 <= k <= max(n, 0):
        raise UsageError(f"need 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return 0.0, 1.0
    z = _z(ci)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe_interval(k_a: int, n_a: int, k_b: int, n_b: int, ci: float = 0.95) -> tuple[float, float]:
    """Newcombe's hybrid score interval of ``k_b / n_b - k_a / n_a`` (independent samples)."""
    if n_a == 0 or n_b == 0:
        raise UsageError("newcombe_interval needs at least one outcome on each side")
    p_a, p_b = k_a / n_a, k_b / n_b
    lo_a, hi_a = wilson_interval(k_a, n_a, ci)
    lo_b, hi_b = wilson_interval(k_b, n_b, ci)
    d = p_b - p_a
    return (d - math.sqrt((p_b - lo_b) ** 2 + (hi_a - p_a) ** 2),
            d + math.sqrt((hi_b - p_b) ** 2 + (p_a - lo_a) ** 2))


def fisher_exact_p(k_a: int, n_a: int, k_b: int, n_b: int) -> float:
    """Fisher's exact two-sided p for the 2x2 table of two independent rates."""
    from scipy import stats as sps

    return float(sps.fisher_exact([[k_a, n_a - k_a], [k_b, n_b - k_b]]).pvalue)


def rate_difference(a: Sequence[float], b: Sequence[float], *, ci: float = 0.95) -> dict[str, float | int | str]:
    """``rate(b) - rate(a)`` of two lists of 0/1 outcomes, with Newcombe's interval and Fisher's exact p:
    ``{"difference", "ci_low", "ci_high", "p_value", "n_a", "n_b", "k_a", "k_b", "ci", "method"}``."""
    values = [*a, *b]
    if any(v not in (0, 1) for v in values):
        raise UsageError("rate_difference takes 0/1 outcomes (pass/fail, failed/not)")
    k_a, k_b, n_a, n_b = int(sum(a)), int(sum(b)), len(a), len(b)
    lo, hi = newcombe_interval(k_a, n_a, k_b, n_b, ci)
    return {"difference": k_b / n_b - k_a / n_a, "ci_low": lo, "ci_high": hi,
            "p_value": fisher_exact_p(k_a, n_a, k_b, n_b), "n_a": n_a, "n_b": n_b, "k_a": k_a, "k_b": k_b,
            "ci": ci, "method": "newcombe_fisher"}
