"""Corpus perplexity at its edges: one token, no token."""
from __future__ import annotations

import math
import warnings

import numpy as np

from obliviate.evaluation.metrics.perplexity import corpus_perplexity


def test_corpus_perplexity_of_a_single_token() -> None:
    # NLL 2 over 1 token: exp(2)
    assert math.isclose(corpus_perplexity(np.array([2.0]), np.array([1])), math.exp(2.0))


def test_corpus_perplexity_without_tokens_is_nan_without_a_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # no 0/0 division behind the nan
        value = corpus_perplexity(np.array([]), np.array([], dtype=np.int64))
        assert math.isnan(value)
        assert math.isnan(corpus_perplexity(np.array([0.0, 0.0]), np.array([0, 0])))
