"""Always-valid inference for a production A/B that is looked at again and again: asymptotic confidence sequences.

A fixed-sample interval is valid at *one* look; a report run daily makes a new decision at each look, and the
chance that one of them is wrong grows with every look (a percentile bootstrap made a false "promote" or "roll
back" in 27.4 % of A/A experiments over 10 daily looks). A *confidence sequence* is a sequence of intervals that
covers the true difference at **every** time simultaneously with probability ≥ 1 − α, so it may be looked at as
often as wanted and a decision taken whenever it excludes a value (Howard, Ramdas, McAuliffe & Sekhon 2021,
"Time-uniform, nonparametric, nonasymptotic confidence sequences", Annals of Statistics 49(2)).

We use the **asymptotic confidence sequence** with a Gaussian mixture boundary (Waudby-Smith, Arbour, Sinha,
Kennedy & Ramdas 2024, "Time-uniform central limit theory and asymptotic confidence sequences", Annals of
Statistics 52(6), Theorem 2.2): for i.i.d. observations with sample mean θ̂ₜ and sample variance σ̂ₜ²,

    θ̂ₜ ± √( 2(t·σ̂ₜ²·ρ² + 1) / (t²·ρ²) · log( √(t·σ̂ₜ²·ρ² + 1) / α ) )

covers θ at all t ≥ 1 with probability → 1 − α. ``ρ`` only shapes where the sequence is tightest: it is chosen,
before any data, to make it narrowest at the planned horizon (``tuned_rho``).

The two arms become one i.i.d. stream by inverse-probability weighting (Waudby-Smith et al. 2024, section 3): a
request assigned to the candidate with probability π contributes ``y/π``, one assigned to the control ``−y/(1 − π)``,
whose mean is the candidate's mean minus the control's, whatever the split.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize
from scipy import stats as sps

from ..errors import UsageError


@dataclass(frozen=True)
class SequenceInterval:
    """The confidence sequence of a difference at the current time."""

    estimate: float
    low: float
    high: float
    n: int
    """Observations in the stream so far (requests of the two arms)."""
    sd: float
    """Sample SD of the stream."""


def _half_width(t: int, sd: float, rho: float, alpha: float) -> float:
    u = t * sd * sd * rho * rho
    return math.sqrt(2 * (u + 1) / (t * t * rho * rho) * math.log(math.sqrt(u + 1) / alpha))


def tuned_rho(horizon: int, sd: float, alpha: float) -> float:
    """The mixture parameter ρ that makes the sequence narrowest at ``horizon`` for a stream of SD ``sd``."""
    if horizon < 1 or sd <= 0 or not 0 < alpha < 1:
        raise UsageError("need horizon >= 1, sd > 0 and 0 < alpha < 1")
    res = optimize.minimize_scalar(lambda log_rho: _half_width(horizon, sd, math.exp(log_rho), alpha),
                                   bounds=(-20.0, 10.0), method="bounded")
    return float(math.exp(res.x))


def confidence_sequence(values: Sequence[float] | np.ndarray, *, alpha: float, rho: float) -> SequenceInterval:
    """The asymptotic confidence sequence of the mean of ``values`` (the stream so far, in arrival order)."""
    x = np.asarray(values, dtype=float)
    if x.size < 2:
        return SequenceInterval(float(x.mean()) if x.size else 0.0, -math.inf, math.inf, int(x.size), 0.0)
    sd = float(x.std(ddof=1))
    half = _half_width(int(x.size), sd, rho, alpha)
    mean = float(x.mean())
    return SequenceInterval(mean, mean - half, mean + half, int(x.size), sd)


def weighted_stream(outcomes: Sequence[float], is_candidate: Sequence[bool], share: float) -> np.ndarray:
    """The inverse-probability-weighted stream of a two-arm split: ``y/π`` for the candidate, ``−y/(1 − π)`` for
    the control, where ``share`` = π is the candidate's share of the two arms' traffic."""
    if not 0 < share < 1:
        raise UsageError(f"the candidate's traffic share must be in (0, 1), got {share}")
    y = np.asarray(outcomes, dtype=float)
    b = np.asarray(is_candidate, dtype=bool)
    return np.where(b, y / share, -y / (1 - share))


def stream_sd(rate_control: float, rate_candidate: float, share: float) -> float:
    """The SD of the weighted stream of two 0/1 outcomes with these rates (for planning)."""
    second = rate_candidate / share + rate_control / (1 - share)
    return math.sqrt(max(second - (rate_candidate - rate_control) ** 2, 1e-12))


def planned_horizon(effect: float, sd: float, alpha: float, *, power: float = 0.8, max_n: int = 10_000_000) -> int:
    """Requests (both arms) after which a true difference of ``effect`` is outside the sequence with probability
    ``power``, with ρ tuned for that very horizon: the smallest t with Φ(|effect|·√t/sd − w(t)·√t/sd) ≥ power."""
    if effect == 0 or not 0 < power < 1:
        raise UsageError("need a non-zero effect and 0 < power < 1")
    z = float(sps.norm.ppf(power))

    def short(t: int) -> bool:
        w = _half_width(t, sd, tuned_rho(t, sd, alpha), alpha)
        return (abs(effect) - w) * math.sqrt(t) / sd < z

    lo, hi = 2, 4
    while short(hi):
        lo, hi = hi, hi * 2
        if hi > max_n:
            return max_n
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if short(mid) else (lo, mid)
    return hi
