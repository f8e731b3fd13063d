"""Truth ratio, forget quality, option probability: values worked out by hand."""
import math

import numpy as np
import pytest

from obliviate.evaluation.metrics.answer_prob import normalised_prob, option_normalised
from obliviate.evaluation.metrics.forget_quality import ks_pvalue
from obliviate.evaluation.metrics.truth_ratio import aggregate, truth_ratios
from obliviate.evaluation.scoring import TokenScores


def _scores(logps: list[list[float]]) -> TokenScores:
    arrays = [np.log(np.array(p, dtype=np.float32)) for p in logps]
    return TokenScores(arrays, [a > -1 for a in arrays], arrays, arrays)


def test_truth_ratio_and_both_aggregations() -> None:
    """The perturbed answers are combined by a geometric mean (TOFU's and open-unlearning's
    code: mean of their mean NLLs). Sample 1: paraphrase token probs (0.5, 0.5) -> 0.5;
    perturbed (0.25, 0.25) -> 0.25 and (0.125,) -> 0.125; geometric mean sqrt(0.25 * 0.125) =
    0.1767767; R = 0.1767767 / 0.5 = 0.3535534. Sample 2: paraphrase 0.2; perturbed 0.4 and
    0.4 -> 0.4; R = 2. Forget: min(R, 1/R) = 0.3535534 and 0.5, mean 0.4267767.
    Retain: max(0, 1 - R) = 0.6464466 and 0, mean 0.3232233. The paper's arithmetic mean
    (option) gives R = mean(0.25, 0.125) / 0.5 = 0.375 for sample 1."""
    para = normalised_prob(_scores([[0.5, 0.5], [0.2]]))
    pert = [normalised_prob(_scores([[0.25, 0.25], [0.125]])),
            normalised_prob(_scores([[0.4, 0.4], [0.4]]))]
    ratios = truth_ratios(para, pert)
    np.testing.assert_allclose(ratios, [0.35355339, 2.0], rtol=1e-6)
    np.testing.assert_allclose(aggregate(ratios, "forget"), [0.35355339, 0.5], rtol=1e-6)
    np.testing.assert_allclose(aggregate(ratios, "retain"), [0.64644661, 0.0], atol=1e-6)
    assert aggregate(ratios, "forget").mean() == pytest.approx(0.42677670, rel=1e-6)
    assert aggregate(ratios, "retain").mean() == pytest.approx(0.32322330, rel=1e-6)
    np.testing.assert_allclose(truth_ratios(para, pert, "arithmetic"), [0.375, 2.0], rtol=1e-6)


def test_truth_ratio_from_losses_is_tofus_formula() -> None:
    """exp(para_loss - mean(pert_losses)): para 1.0, perturbed (2.0, 4.0) -> exp(-2)."""
    from obliviate.evaluation.metrics.truth_ratio import truth_ratios_from_losses
    out = truth_ratios_from_losses(np.array([1.0]), [np.array([2.0, 4.0])])
    assert out[0] == pytest.approx(math.exp(-2.0), rel=1e-12)


def test_normalised_prob_is_geometric_mean_of_token_probs() -> None:
    """exp(mean(log 0.5, log 0.125)) = sqrt(0.5 * 0.125) = 0.25."""
    assert normalised_prob(_scores([[0.5, 0.125]]))[0] == pytest.approx(0.25, rel=1e-6)


def test_option_normalised_probability() -> None:
    """Options (0.5, 0.25, 0.25), correct first: 0.5 / 1.0 = 0.5; correct last: 0.25."""
    probs = [np.array([0.5, 0.25, 0.25]), np.array([0.5, 0.25, 0.25])]
    np.testing.assert_allclose(option_normalised(probs, [0, 2]), [0.5, 0.25])


def test_ks_identical_samples_give_p_one() -> None:
    """Identical samples: the empirical CDFs coincide, D = 0, p-value = 1."""
    x = np.array([0.1, 0.4, 0.35, 0.8, 0.9])
    assert ks_pvalue(x, x.copy()) == pytest.approx(1.0)


def test_ks_disjoint_samples_give_small_p() -> None:
    """Fully separated samples of 10: D = 1, exact p = 2 / C(20, 10) ~ 1.08e-5."""
    p = ks_pvalue(np.arange(10.0), np.arange(10.0) + 100)
    assert p == pytest.approx(2 / math.comb(20, 10), rel=1e-6)
