"""AUC (Mann-Whitney), Min-K%, Min-K%++, zlib and PrivLeak on hand-worked values."""
import numpy as np
import pytest

from obliviate.evaluation.metrics.mia import auc_roc, min_k, min_k_plus_plus, zlib_entropy
from obliviate.evaluation.metrics.privleak import privleak_value


def test_auc_perfect_separation_is_one() -> None:
    assert auc_roc([5.0, 6.0, 7.0], [1.0, 2.0]) == 1.0
    assert auc_roc([1.0, 2.0], [5.0, 6.0, 7.0]) == 0.0


def test_auc_identical_scores_is_half() -> None:
    """All ties: each of the 3 x 3 pairs counts 1/2 -> 0.5."""
    assert auc_roc([0.3, 0.3, 0.3], [0.3, 0.3, 0.3]) == 0.5


def test_auc_two_by_two_hand_count() -> None:
    """Members (0.8, 0.4), non-members (0.6, 0.4). Pairs: 0.8>0.6 -> 1, 0.8>0.4 -> 1,
    0.4<0.6 -> 0, 0.4=0.4 -> 1/2. AUC = 2.5 / 4 = 0.625."""
    assert auc_roc([0.8, 0.4], [0.6, 0.4]) == pytest.approx(0.625)


def test_min_k_five_tokens() -> None:
    """logp (-1, -5, -2, -0.5, -3). k = 0.4: int(0.4*5) = 2 lowest, -5 and -3, mean -4.
    k = 0.2: one token, -5. k = 0.1: int(0.5) = 0, at least one token -> -5. k = 1: mean -2.3."""
    x = np.array([-1.0, -5.0, -2.0, -0.5, -3.0])
    assert min_k(x, 0.4) == pytest.approx(-4.0)
    assert min_k(x, 0.2) == pytest.approx(-5.0)
    assert min_k(x, 0.1) == pytest.approx(-5.0)
    assert min_k(x, 1.0) == pytest.approx(-2.3)


def test_min_k_plus_plus_standardises() -> None:
    """logp (-1, -3), mu (-2, -2), sigma (1, 2): z = (1, -0.5); k = 0.5 keeps one: -0.5."""
    assert min_k_plus_plus([-1.0, -3.0], [-2.0, -2.0], [1.0, 2.0], k=0.5) == pytest.approx(-0.5)


def test_zlib_entropy_is_compressed_length() -> None:
    import zlib
    text = "the cat sat on the mat " * 4
    assert zlib_entropy(text) == len(zlib.compress(text.encode()))
    assert zlib_entropy(text) < len(text)


def test_privleak() -> None:
    """MUSE's definition, in percent, on the MUSE (holdout-positive) AUC = 1 - ours.
    Published News retrain AUC 0.4772 and our AUC 1.0 (forget clearly member-like):
    (0 - 0.4772) / 0.4772 * 100 = -100. Default reference 0.5 and our AUC 0.620625:
    (0.379375 - 0.5) / 0.5 * 100 = -24.125. Our AUC 0.5 vs 0.5 -> 0; our AUC 0.4 -> +20
    (over-unlearning is positive)."""
    assert privleak_value(1.0, 0.4772) == pytest.approx(-100.0, rel=1e-12)
    assert privleak_value(0.620625) == pytest.approx(-24.125, rel=1e-12)
    assert privleak_value(0.620625, 0.5) == pytest.approx(-24.125, rel=1e-12)
    assert privleak_value(0.5, 0.5) == 0.0
    assert privleak_value(0.4, 0.5) == pytest.approx(20.0)


def test_bootstrap_auc_interval() -> None:
    """The matrix form of the bootstrap gives an interval around the AUC, degenerate when the
    groups are perfectly separated (every resample has AUC 1)."""
    from obliviate.evaluation.metrics.mia import bootstrap_auc
    rng = np.random.default_rng(0)
    m, h = rng.normal(1, 1, 40), rng.normal(0, 1, 30)
    low, high = bootstrap_auc(m, h)
    assert low < auc_roc(m, h) < high
    assert bootstrap_auc(np.array([5.0, 6.0]), np.array([1.0, 2.0])) == (1.0, 1.0)
