"""A/A runs: how much do scores move when nothing changes but the judge (or the sampling) is re-run?"""
from __future__ import annotations

from collections.abc import Hashable, Sequence
from itertools import combinations
from typing import Any

import numpy as np

from ..errors import StatsError, UsageError
from ._data import as_mapping, is_binary, is_missing, to_float


def _aligned(runs: Sequence[Any]) -> tuple[np.ndarray, list[Hashable], int]:
    """(runs × samples) matrix over ids measured in every run, the ids, and how many ids were dropped."""
    maps = [as_mapping(r, f"run {i}") for i, r in enumerate(runs)]
    every = dict.fromkeys(i for m in maps for i in m)
    kept = [i for i in every if all(i in m and not is_missing(m[i]) for m in maps)]
    rows = [[to_float(m[i], i, f"run {k}") for i in kept] for k, m in enumerate(maps)]
    matrix = np.array(rows, dtype=float)
    return matrix.reshape(len(maps), len(kept)), kept, len(every) - len(kept)


def _aa_boot(matrix: np.ndarray, n_boot: int, seed: int | None) -> np.ndarray:
    """|mean difference| between two runs, resampling samples with replacement, pooled over all run pairs."""
    rng = np.random.default_rng(seed)
    n = matrix.shape[1]
    out = []
    for i, j in combinations(range(matrix.shape[0]), 2):
        d = matrix[j] - matrix[i]
        out.append(np.abs(d[rng.integers(0, n, size=(n_boot, n))].mean(axis=1)))
    return np.concatenate(out)


def aa_noise(runs: Sequence[Any], *, quantile: float = 0.95, n_boot: int = 2_000, seed: int | None = 0,
             min_samples: int = 10) -> dict[str, Any]:
    """Noise of repeated scorings of the SAME variant (e.g. an LLM judge run 3 times over the same outputs).

    ``runs`` are ``{sample_id: value}`` dicts (or Series); samples missing from any run are dropped, counted.
    Returns ``n_runs``, ``n_samples``, ``n_dropped``, ``kind``, ``run_means``, ``run_mean_spread`` (max − min
    of the run means), ``per_sample_sd`` (mean over samples of the SD across runs, ddof=1),
    ``mean_abs_diff`` (mean |x_i − x_j| over samples and run pairs), ``agreement`` (binary: share of
    sample×run-pair verdicts that agree; None for continuous), ``unanimous`` (binary: share of samples on
    which every run agrees), ``noise_floor`` (the ``quantile`` of |A/A mean difference| from a paired
    bootstrap over samples, pooled over run pairs: differences between variants smaller than this are within
    what re-running alone produces) and a one-line ``summary``."""
    if len(runs) < 2:
        raise StatsError("A/A noise needs at least two runs of the same variant", hint="run the scorer again")
    if not 0 < quantile < 1:
        raise UsageError("quantile must be in (0, 1)")
    matrix, ids, dropped = _aligned(runs)
    if len(ids) < min_samples:
        raise StatsError(f"only {len(ids)} samples measured in all {len(runs)} runs (minimum {min_samples}; "
                         f"{dropped} dropped)", hint="score more samples, or check the runs share sample ids")
    binary = is_binary(matrix)
    pairs = list(combinations(range(len(runs)), 2))
    abs_diff = np.mean([np.abs(matrix[i] - matrix[j]) for i, j in pairs], axis=0)
    floor = float(np.quantile(_aa_boot(matrix, n_boot, seed), quantile))
    result = {
        "n_runs": len(runs), "n_samples": len(ids), "n_dropped": dropped,
        "kind": "binary" if binary else "continuous",
        "run_means": [float(x) for x in matrix.mean(axis=1)],
        "run_mean_spread": float(np.ptp(matrix.mean(axis=1))),
        "per_sample_sd": float(matrix.std(axis=0, ddof=1).mean()),
        "mean_abs_diff": float(abs_diff.mean()),
        "agreement": float(1 - abs_diff.mean()) if binary else None,
        "unanimous": float(np.mean(np.ptp(matrix, axis=0) == 0)) if binary else None,
        "noise_floor": floor, "quantile": quantile,
    }
    result["summary"] = _summary(result, points=bool(np.all((matrix >= 0) & (matrix <= 1))))
    return result


def _summary(r: dict[str, Any], *, points: bool) -> str:
    agree = (f", runs agree on {r['agreement']:.1%} of verdicts ({r['unanimous']:.1%} of samples unanimous)"
             if r["agreement"] is not None else "")
    return (f"{r['n_runs']} runs over {r['n_samples']} samples: per-sample SD {r['per_sample_sd']:.3f}, "
            f"mean |difference| {r['mean_abs_diff']:.3f}{agree}; "
            f"run means spread {r['run_mean_spread']:.3f}. "
            f"Differences below {r['noise_floor']:.3f}"
            + (f" ({r['noise_floor'] * 100:.1f} points)" if points else "") + " are within "
            f"re-run noise ({r['quantile']:.0%} of A/A differences).")
