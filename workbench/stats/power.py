"""Plan before you run: how many samples a paired comparison needs, and what difference n samples can detect.

Binary (pass/fail, McNemar): Connor's (1987) normal approximation,

    n = (z_{1−α/2}·√ψ + z_{1−β}·√(ψ − δ²))² / δ²,     power = Φ((|δ|·√n − z_{1−α/2}·√ψ) / √(ψ − δ²))

with δ = p_b − p_a (= p01 − p10) and ψ = p01 + p10 the share of discordant pairs. **Default ψ**: when
``discordance`` is not given it is ψ = p_a(1 − p_b) + p_b(1 − p_a), the discordance if the two variants failed
independently. Variants run on the same samples are positively correlated (hard questions are hard for both),
so the real ψ is usually smaller and this default over-estimates n: it is the conservative plan. For a sharper
plan pass the discordance measured on a pilot run, ``Comparison.discordance`` = (b01 + b10) / n.

**Several comparisons**: ``alpha=TestLevel(0.05, comparisons=k)`` (``correction="holm"``, the default and what
``compare_many`` applies, or ``"bonferroni"``) plans each test at α/k. That is exact for Bonferroni, and for Holm it is the level the one
real effect among k − 1 null variants must reach (Holm's first step): a 6-variant plan made at α = 0.05 delivered
55 % power instead of 80 % under Holm; planned at α/6 it delivers what it says (``benchmarks/decisions.py``). When
several variants truly differ, Holm's later steps test at larger levels, so the plan is conservative there.
``correction="none"`` plans at α (only for a single pre-declared comparison).

Continuous (graded scores, Wilcoxon): planned as a paired t-test with the SD of the per-sample differences
(``Comparison.sd_diff`` from a pilot), computed exactly with the noncentral t distribution. Wilcoxon's
efficiency relative to t is ≥ 0.864 for any distribution and 0.955 for normal data, so allow ~5–15 % more.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from scipy import optimize
from scipy import stats as sps

from ..errors import UsageError

CORRECTIONS = ("holm", "bonferroni", "none")


@dataclass(frozen=True)
class TestLevel:
    """The significance level of one test among several: ``TestLevel(0.05, comparisons=6)`` plans each of 6
    Holm-corrected comparisons (every planner function takes it as ``alpha``; a plain float is one comparison)."""

    alpha: float = 0.05
    """The family-wise error rate."""
    comparisons: int = 1
    """How many comparisons the correction spreads it over (``compare_many``: the candidates)."""
    correction: str = "holm"
    """``holm`` (what ``compare_many`` applies), ``bonferroni`` or ``none``."""

    __test__ = False  # not a pytest class


def per_test_alpha(alpha: float | TestLevel) -> float:
    """The level one test is planned at (see the module docstring): α/k for Holm and Bonferroni, α for ``none``."""
    if not isinstance(alpha, TestLevel):
        return float(alpha)
    if alpha.correction not in CORRECTIONS:
        raise UsageError(f"correction must be one of {', '.join(CORRECTIONS)}, not {alpha.correction!r}")
    if not isinstance(alpha.comparisons, int) or alpha.comparisons < 1:
        raise UsageError(f"comparisons must be a positive integer, not {alpha.comparisons!r}")
    return alpha.alpha if alpha.correction == "none" else alpha.alpha / alpha.comparisons


def default_discordance(p_a: float, p_b: float) -> float:
    """ψ if the variants passed/failed independently: p_a(1 − p_b) + p_b(1 − p_a) (an upper-end guess)."""
    return p_a * (1 - p_b) + p_b * (1 - p_a)


def _check_binary(p_a: float, p_b: float, discordance: float | None, alpha: float) -> tuple[float, float]:
    """(δ, ψ), refusing impossible inputs (a 2×2 table with these margins and discordance cannot exist)."""
    if not (0 < p_a < 1 and 0 < p_b < 1 and 0 < alpha < 1):
        raise UsageError(f"need 0 < p_a, p_b, alpha < 1 (got {p_a}, {p_b}, {alpha})")
    delta = p_b - p_a
    psi = default_discordance(p_a, p_b) if discordance is None else float(discordance)
    p01, p10 = (psi + delta) / 2, (psi - delta) / 2
    if not (p10 >= -1e-12 and p01 <= min(p_b, 1 - p_a) + 1e-12 and p10 <= min(p_a, 1 - p_b) + 1e-12):
        raise UsageError(f"discordance {psi:.3g} is impossible for pass rates {p_a:.3g} → {p_b:.3g}",
                         hint="it must be at least |p_b − p_a| and leave room for the concordant pairs")
    return delta, psi


def power_paired_binary(n: int, p_a: float, p_b: float, *, discordance: float | None = None,
                        alpha: float | TestLevel = 0.05) -> float:
    """Power of a two-sided McNemar test with ``n`` pairs (Connor 1987), ``alpha`` a float or a ``TestLevel``."""
    alpha = per_test_alpha(alpha)
    delta, psi = _check_binary(p_a, p_b, discordance, alpha)
    if delta == 0:
        return alpha
    z = sps.norm.ppf(1 - alpha / 2)
    return float(sps.norm.cdf((abs(delta) * math.sqrt(n) - z * math.sqrt(psi)) / math.sqrt(psi - delta ** 2)))


def sample_size_paired_binary(p_a: float, p_b: float, discordance: float | None = None,
                              alpha: float | TestLevel = 0.05, power: float = 0.8) -> int:
    """Pairs needed for a two-sided McNemar test to detect pass rates ``p_a`` → ``p_b`` (Connor 1987); ``alpha``
    a float or a ``TestLevel`` (several comparisons).

    E.g. ``sample_size_paired_binary(0.7, 0.8)`` = 296 at the default (independence) discordance 0.38."""
    alpha = per_test_alpha(alpha)
    delta, psi = _check_binary(p_a, p_b, discordance, alpha)
    if delta == 0 or not 0 < power < 1:
        raise UsageError("need p_a != p_b and 0 < power < 1")
    za, zb = sps.norm.ppf(1 - alpha / 2), sps.norm.ppf(power)
    n = (za * math.sqrt(psi) + zb * math.sqrt(psi - delta ** 2)) ** 2 / delta ** 2
    return math.ceil(n - 1e-9)


def power_paired_continuous(n: int, difference: float, sd_diff: float, *,
                            alpha: float | TestLevel = 0.05) -> float:
    """Power of a two-sided paired t-test with ``n`` pairs (noncentral t, exact); ``alpha`` a float or a
    ``TestLevel``."""
    alpha = per_test_alpha(alpha)
    if n < 2 or sd_diff <= 0 or not 0 < alpha < 1:
        raise UsageError("need n ≥ 2, sd_diff > 0 and 0 < alpha < 1")
    df, nc = n - 1, abs(difference) * math.sqrt(n) / sd_diff
    t = sps.t.ppf(1 - alpha / 2, df)
    p = float(sps.nct.sf(t, df, nc) + sps.nct.cdf(-t, df, nc))
    return p if math.isfinite(p) else float(nc > t)  # scipy's nct is NaN far in the tail, where power is ~1


def sample_size_paired_continuous(difference: float, sd_diff: float, alpha: float | TestLevel = 0.05,
                                  power: float = 0.8) -> int:
    """Smallest number of pairs whose paired t-test reaches ``power`` for a mean difference ``difference``;
    ``alpha`` a float or a ``TestLevel``.

    E.g. an effect of half an SD (``difference=0.5, sd_diff=1``) needs 34 pairs, as G*Power reports."""
    alpha = per_test_alpha(alpha)
    if difference == 0 or not 0 < power < 1:
        raise UsageError("need difference != 0 and 0 < power < 1")
    z = sps.norm.ppf(1 - alpha / 2) + sps.norm.ppf(power)
    n = max(2, math.floor((z * sd_diff / difference) ** 2))  # the normal approximation is a lower bound
    while power_paired_continuous(n, difference, sd_diff, alpha=alpha) < power:
        n += 1
    return n


def min_detectable_difference(n: int, *, p_a: float | None = None, sd_diff: float | None = None,
                              discordance: float | None = None, alpha: float | TestLevel = 0.05,
                              power: float = 0.8) -> float:
    """The smallest improvement ``n`` pairs detect with ``power``: binary from baseline pass rate ``p_a``
    (B better, p_b = p_a + δ), or continuous from ``sd_diff``; ``alpha`` a float or a ``TestLevel``. NaN when
    no improvement is detectable (a fixed ``discordance`` too small for ``n``)."""
    alpha = per_test_alpha(alpha)
    if (p_a is None) == (sd_diff is None):
        raise UsageError("give exactly one of p_a (binary) or sd_diff (continuous)")
    if sd_diff is not None:
        def gap_t(d: float) -> float:
            return power_paired_continuous(n, d, sd_diff, alpha=alpha) - power

        hi = (sps.norm.ppf(1 - alpha / 2) + sps.norm.ppf(power)) * sd_diff / math.sqrt(n)  # normal approx.
        while gap_t(hi) < 0:  # the t test needs a little more: widen the bracket
            hi *= 1.5
        return float(optimize.brentq(gap_t, 1e-12 * sd_diff, hi, xtol=1e-12))
    psi = discordance
    top = 1 - p_a if psi is None else min(psi, 2 * (1 - p_a) - psi, 1 - p_a)
    top -= 1e-9

    def gap(d: float) -> float:
        return power_paired_binary(n, p_a, p_a + d, discordance=psi, alpha=alpha) - power

    if top <= 0 or gap(top) < 0:
        return float("nan")
    return float(optimize.brentq(gap, 1e-9, top, xtol=1e-10))


def power_curve(*, ns: Iterable[int] = range(50, 301, 10), differences: Iterable[float] = (0.03, 0.05, 0.1),
                p_a: float | None = None, sd_diff: float | None = None, discordance: float | None = None,
                alpha: float | TestLevel = 0.05) -> list[dict[str, Any]]:
    """Rows ``{n, difference, power, kind}`` for a power plot (``pandas.DataFrame(rows).pivot(...)``).

    Binary when ``p_a`` is given (p_b = p_a + difference), continuous when ``sd_diff`` is; ``alpha`` a float or
    a ``TestLevel``."""
    alpha = per_test_alpha(alpha)
    if (p_a is None) == (sd_diff is None):
        raise UsageError("give exactly one of p_a (binary) or sd_diff (continuous)")
    rows = []
    for d in differences:
        for n in ns:
            pw = (power_paired_continuous(n, d, sd_diff, alpha=alpha) if p_a is None
                  else power_paired_binary(n, p_a, p_a + d, discordance=discordance, alpha=alpha))
            rows.append({"n": n, "difference": d, "power": pw,
                         "kind": "binary" if p_a is not None else "continuous"})
    return rows
