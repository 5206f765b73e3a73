"""Check a statistical plan by simulation: the power a paired McNemar comparison really has under Holm's
correction, and the false-positive rate of A/A comparisons. ``benchmarks/decisions.py`` prints these at full scale;
the tests run them small with fixed seeds.

Pass/fail pairs are drawn as counts of the four cells of the 2x2 table (multinomial), so a run of thousands of
simulated experiments takes milliseconds. The tests are those ``compare_many`` applies: McNemar's exact test per
candidate against the baseline, Holm-adjusted across the candidates.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from .multiple import holm_adjust
from .power import TestLevel, default_discordance, per_test_alpha


@dataclass(frozen=True)
class Draws:
    """How many simulated experiments, from which seed."""

    runs: int = 2000
    seed: int = 0


@dataclass(frozen=True)
class SimulatedRate:
    """A rate measured by simulation, with its 95 % Wilson interval."""

    rate: float
    low: float
    high: float
    runs: int


def _rate(hits: int, runs: int) -> SimulatedRate:
    from .rates import wilson_interval

    return SimulatedRate(hits / runs, *wilson_interval(hits, runs), runs)


def _mcnemar_p(b01: np.ndarray, b10: np.ndarray) -> np.ndarray:
    n = b01 + b10
    p = np.where(n > 0, 2 * sps.binom.cdf(np.minimum(b01, b10), np.maximum(n, 1), 0.5), 1.0)
    return np.minimum(p, 1.0)


def _draw(rng: np.random.Generator, n: int, p01: float, p10: float, runs: int) -> tuple[np.ndarray, np.ndarray]:
    cells = rng.multinomial(n, [p01, p10, 1 - p01 - p10], size=runs)
    return cells[:, 0], cells[:, 1]


def simulated_power_binary(n: int, p_a: float, p_b: float, *, discordance: float | None = None,
                           alpha: float | TestLevel = 0.05, draws: Draws = Draws()) -> SimulatedRate:
    """How often one candidate with pass rate ``p_b`` (against ``p_a``) is found significantly better when it is
    one of ``alpha.comparisons`` candidates (the others null: the baseline's pass rate), Holm-corrected unless the
    ``TestLevel`` says ``none``."""
    level = alpha if isinstance(alpha, TestLevel) else TestLevel(float(alpha))
    per_test_alpha(level)  # validates it
    rng = np.random.default_rng(draws.seed)
    psi = default_discordance(p_a, p_b) if discordance is None else discordance
    delta = p_b - p_a
    b01, b10 = _draw(rng, n, (psi + delta) / 2, (psi - delta) / 2, draws.runs)
    p = [_mcnemar_p(b01, b10)]
    null_psi = default_discordance(p_a, p_a)
    for _ in range(level.comparisons - 1):
        p.append(_mcnemar_p(*_draw(rng, n, null_psi / 2, null_psi / 2, draws.runs)))
    stacked = np.stack(p, axis=1)
    adjusted = stacked if level.correction == "none" else holm_adjust(stacked)
    found = (adjusted[:, 0] < level.alpha) & (b01 > b10)
    return _rate(int(found.sum()), draws.runs)


def simulated_aa_false_positives(n: int, p_a: float, *, alpha: float | TestLevel = 0.05,
                                 draws: Draws = Draws()) -> SimulatedRate:
    """How often at least one of ``alpha.comparisons`` A/A candidates (no true difference) is called significant,
    Holm-corrected unless the ``TestLevel`` says ``none``."""
    level = alpha if isinstance(alpha, TestLevel) else TestLevel(float(alpha))
    per_test_alpha(level)
    rng = np.random.default_rng(draws.seed)
    psi = default_discordance(p_a, p_a)
    p = np.stack([_mcnemar_p(*_draw(rng, n, psi / 2, psi / 2, draws.runs)) for _ in range(level.comparisons)],
                 axis=1)
    if level.correction != "none":
        p = holm_adjust(p)
    return _rate(int((p < level.alpha).any(axis=1).sum()), draws.runs)
