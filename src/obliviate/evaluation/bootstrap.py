"""Percentile bootstrap confidence intervals (Efron & Tibshirani 1993, "An Introduction to the
Bootstrap", ch. 13): resample the per-sample values with replacement, recompute the statistic,
and take the 2.5th and 97.5th percentiles of the resampled statistics as the 95% interval."""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

N_RESAMPLES = 1000
SEED = 0


def bootstrap_ci(
    values: Sequence[float] | np.ndarray,
    statistic: Callable[[np.ndarray], float] | None = None,
    n_resamples: int = N_RESAMPLES,
    seed: int = SEED,
    level: float = 0.95,
) -> tuple[float, float]:
    """95% percentile-bootstrap interval of ``statistic`` (default: the mean) over ``values``.

    Non-finite values are dropped first. Returns ``(nan, nan)`` when nothing is left, and a
    degenerate ``(v, v)`` interval for a constant sample.
    """
    data = np.asarray(values, dtype=np.float64)
    data = data[np.isfinite(data)]
    if data.size == 0:
        return float("nan"), float("nan")
    if data.min() == data.max():  # every resample equals the sample: exact, no rounding
        value = float(data[0]) if statistic is None else float(statistic(data))
        return value, value
    rng = np.random.default_rng(seed)
    index = rng.integers(0, data.size, size=(n_resamples, data.size))
    if statistic is None:
        stats = data[index].mean(axis=1)
    else:
        stats = np.array([statistic(data[row]) for row in index])
    return _percentiles(stats, level)


def bootstrap_ci_groups(
    groups: Sequence[np.ndarray],
    statistic: Callable[[list[np.ndarray]], float],
    n_resamples: int = N_RESAMPLES,
    seed: int = SEED,
    level: float = 0.95,
) -> tuple[float, float]:
    """Stratified bootstrap: each group (an array whose first axis is samples) is resampled
    on its own, rows kept whole, and ``statistic`` sees the list of resampled groups. Used for
    AUC (members vs non-members), perplexity (token-weighted) and model utility (three sets)."""
    arrays = [np.asarray(g, dtype=np.float64) for g in groups]
    if any(a.shape[0] == 0 for a in arrays):
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    stats = np.empty(n_resamples)
    for r in range(n_resamples):
        picked = [a[rng.integers(0, a.shape[0], size=a.shape[0])] for a in arrays]
        stats[r] = statistic(picked)
    return _percentiles(stats, level)


def _percentiles(stats: np.ndarray, level: float) -> tuple[float, float]:
    stats = stats[np.isfinite(stats)]
    if stats.size == 0:
        return float("nan"), float("nan")
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(stats, [tail, 100.0 - tail])
    return float(low), float(high)
