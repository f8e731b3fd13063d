"""Exact memorisation and extraction strength on flags given as 0/1 integers, and on a sample
without target tokens (nan, quietly: such samples are left out of the mean)."""
from __future__ import annotations

import math
import warnings

import numpy as np

from obliviate.evaluation.metrics.exact_memorization import exact_memorization
from obliviate.evaluation.metrics.extraction_strength import extraction_strength


def test_flags_as_integers() -> None:
    # flags 1 0 1 1: EM = 3/4; the last wrong token is index 1, so the suffix from k = 2 is
    # reproduced: ES = 1 - 2/4 = 0.5
    assert exact_memorization(np.array([1, 0, 1, 1])) == 0.75
    assert extraction_strength([1, 0, 1, 1]) == 0.5


def test_a_sample_without_targets_is_nan_without_a_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert math.isnan(exact_memorization(np.array([], dtype=bool)))
        assert math.isnan(extraction_strength(np.array([], dtype=bool)))
