"""ROUGE-L recall / F1 against a hand-counted longest common subsequence."""
import pytest

from obliviate.evaluation.metrics.rouge import rouge_l


def test_rouge_l_subsequence() -> None:
    """Reference "the cat sat on the mat" (6 tokens), prediction "the cat on mat" (4):
    LCS = the cat on mat = 4. Recall 4/6, precision 4/4, F1 = 2 * 1 * 2/3 / (5/3) = 0.8."""
    recall, f1 = rouge_l("the cat sat on the mat", "the cat on mat")
    assert recall == pytest.approx(4 / 6)
    assert f1 == pytest.approx(0.8)


def test_rouge_l_uses_stemmer() -> None:
    """Reference "The cats sat on the mat" -> the cat sat on the mat (Porter: cats -> cat);
    prediction "a cat sat quietly" -> a cat sat quietli. LCS = cat sat = 2.
    Recall 2/6, precision 2/4, F1 = 2 (1/3)(1/2) / (5/6) = 0.4."""
    recall, f1 = rouge_l("The cats sat on the mat", "a cat sat quietly")
    assert recall == pytest.approx(1 / 3)
    assert f1 == pytest.approx(0.4)


def test_rouge_l_empty_prediction() -> None:
    assert rouge_l("the cat", "") == (0.0, 0.0)
