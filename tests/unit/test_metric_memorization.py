"""Exact memorisation, extraction strength, model utility, perplexity, efficiency by hand."""
import numpy as np
import pytest
from scipy.stats import hmean

from obliviate.evaluation.metrics.efficiency import training_flops
from obliviate.evaluation.metrics.exact_memorization import exact_memorization
from obliviate.evaluation.metrics.extraction_strength import extraction_strength
from obliviate.evaluation.metrics.model_utility import harmonic_mean
from obliviate.evaluation.metrics.perplexity import corpus_perplexity


def test_exact_memorization() -> None:
    """Flags (F, T, F, T, T): 3 of 5 correct -> 0.6."""
    assert exact_memorization(np.array([0, 1, 0, 1, 1], bool)) == pytest.approx(0.6)


def test_extraction_strength_hand_example() -> None:
    """Flags (F, T, F, T, T): the last wrong token is at index 2, so the shortest prefix after
    which greedy decoding reproduces the rest is k = 3 of |x| = 5: ES = 1 - 3/5 = 0.4.
    All correct: k = 0, ES = 1. Last token wrong: k = 5, ES = 0."""
    assert extraction_strength(np.array([0, 1, 0, 1, 1], bool)) == pytest.approx(0.4)
    assert extraction_strength(np.ones(4, bool)) == 1.0
    # last token wrong: open-unlearning stops at k = n - 1 and reports 1/n (here 1/3)
    assert extraction_strength(np.array([1, 1, 0], bool)) == pytest.approx(1 / 3)
    assert extraction_strength(np.array([0, 0, 0, 0], bool)) == pytest.approx(1 / 4)
    assert np.isnan(extraction_strength(np.array([], bool)))


def test_harmonic_mean() -> None:
    """(1, 0.5, 0.25): 3 / (1 + 2 + 4) = 3/7; any zero -> 0."""
    assert harmonic_mean([1.0, 0.5, 0.25]) == pytest.approx(3 / 7)
    assert harmonic_mean([1.0, 0.5, 0.25]) == pytest.approx(hmean([1.0, 0.5, 0.25]))
    assert harmonic_mean([0.9, 0.0, 0.8]) == 0.0
    nine = [0.5] * 9
    assert harmonic_mean(nine) == pytest.approx(0.5)


def test_corpus_perplexity_is_token_weighted() -> None:
    """NLL sums (2, 4) over (1, 3) tokens: exp(6 / 4) = exp(1.5), not the mean of exp(2), exp(4/3)."""
    assert corpus_perplexity(np.array([2.0, 4.0]), np.array([1, 3])) == pytest.approx(np.exp(1.5))


def test_training_flops_kaplan() -> None:
    """N = 100, N_trainable = 10, D = 1000: 6ND = 6e5; (4N + 2N_t) D = 4.2e5."""
    flops = training_flops(100, 10, 1000)
    assert flops["flops_6nd"] == 6e5
    assert flops["flops_frozen_aware"] == 4.2e5
