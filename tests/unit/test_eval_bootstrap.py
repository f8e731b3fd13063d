"""Bootstrap intervals."""
import numpy as np

from obliviate.evaluation.base import mean_result
from obliviate.evaluation.bootstrap import bootstrap_ci, bootstrap_ci_groups


def test_ci_contains_mean_and_is_seeded() -> None:
    x = np.random.default_rng(1).normal(size=50)
    low, high = bootstrap_ci(x)
    assert low < x.mean() < high
    assert (low, high) == bootstrap_ci(x)


def test_ci_degenerate_for_constant_sample() -> None:
    assert bootstrap_ci([0.7] * 20) == (0.7, 0.7)


def test_ci_empty_and_nan() -> None:
    low, high = bootstrap_ci([])
    assert np.isnan(low) and np.isnan(high)
    assert bootstrap_ci([np.nan, 2.0, 2.0]) == (2.0, 2.0)


def test_groups_and_mean_result() -> None:
    low, high = bootstrap_ci_groups([np.ones(5), np.zeros(4)], lambda g: g[0].mean() - g[1].mean())
    assert (low, high) == (1.0, 1.0)
    r = mean_result([1.0, 2.0, np.nan])
    assert r.value == 1.5 and np.isnan(r.per_sample[2])
