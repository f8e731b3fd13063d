"""keyword_accuracy and fluency on a fake evaluation context with hand-worked numbers."""
import math

import numpy as np
import pytest

from obliviate.data.types import Example
from obliviate.errors import DataError
from obliviate.evaluation.metrics.fluency import distinct_share, fluency
from obliviate.evaluation.metrics.keyword_accuracy import contains_keyword, keyword_accuracy
from obliviate.evaluation.scoring import TokenScores
from obliviate.models.tiny_tokenizer import build_tiny_tokenizer


class FakeContext:
    """The narrow part of EvalContext these metrics use."""

    def __init__(self, examples, answers, logps=None):
        self.tokenizer = build_tiny_tokenizer()
        self._examples, self._answers, self._logps = examples, answers, logps
        self.reference_model = None
        self.scored_with = "unset"

    def examples(self, name):
        return self._examples

    def generations(self, name):
        return self._answers

    def tokenize(self, examples, fmt="qa"):
        return examples

    def score_items(self, items, model=None):
        self.scored_with = model
        arrays = [np.log(np.array(x, dtype=np.float32)) for x in self._logps]
        return TokenScores(arrays, arrays, arrays, arrays)


def test_keyword_accuracy_counts_any_keyword_case_insensitively():
    examples = [Example("q1", "a", {"keywords": ["Ron", "Weasley"]}),
                Example("q2", "a", {"keywords": ["Hogwarts"]}),
                Example("q3", "a", {"keywords": "Dobby"})]
    answers = ["His friend is ron.", "A school in Scotland.", "DOBBY the elf"]
    result = keyword_accuracy(FakeContext(examples, answers), "forget", {})
    assert result.per_sample == [1.0, 0.0, 1.0]
    assert result.value == pytest.approx(2 / 3)
    assert result.ci_low <= result.value <= result.ci_high
    assert contains_keyword("x", ["y"]) is False


def test_keyword_accuracy_needs_keywords():
    with pytest.raises(DataError, match="forget example 1 has no 'keywords'"):
        keyword_accuracy(FakeContext([Example("q", "a")], ["a"]), "forget", {})


def test_fluency_distinct_share_and_perplexity():
    # Byte tokenizer without merges: one token per character.
    # "aaaa" -> 1 distinct of 4 = 0.25; "abcd" -> 4 of 4 = 1.0; mean 0.625.
    # Token probabilities 0.5, 0.5 and 0.25: perplexity = exp(-(2 ln .5 + ln .25) / 3)
    # = exp(4 ln 2 / 3) = 2 ** (4/3) = 2.5198.
    ctx = FakeContext([Example("q1", "x"), Example("q2", "y")], ["aaaa", "abcd"],
                      logps=[[0.5, 0.5], [0.25]])
    result = fluency(ctx, "retain", {"max_perplexity": 3.0, "min_distinct": 0.6})
    assert result.per_sample == [0.25, 1.0] and result.value == pytest.approx(0.625)
    assert result.extra["perplexity"] == pytest.approx(2 ** (4 / 3), rel=1e-5)
    assert result.extra["fluent"] is True
    strict = fluency(ctx, "retain", {"max_perplexity": 2.0})
    assert strict.extra["fluent"] is False
    assert distinct_share([]) == 1.0 and math.isclose(distinct_share([1, 1, 2]), 2 / 3)
