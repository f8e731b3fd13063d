"""TOFU's answer probability, option probability, truth ratio and model utility computed by the
registered metrics end to end, on a context whose token probabilities are given per answer
text (tests/unit/table_context.py), so every value is worked out by hand below."""
from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from table_context import TableContext

from obliviate.data.types import Example
from obliviate.errors import ConfigError, DataError
from obliviate.evaluation.metrics.answer_prob import (answer_prob, option_normalised, option_prob,
                                                      prob_from_mean_nll, split_by)
from obliviate.evaluation.metrics.model_utility import harmonic_mean, model_utility
from obliviate.evaluation.metrics.truth_ratio import (aggregate, dataset_ratios, truth_ratio,
                                                      truth_ratios)

# Retain set: answer probs 0.5 and 0.25; truth ratios 0.125 / 0.5 = 0.25 (geometric mean of the
# perturbed 0.25 and 0.0625) and 0.2 / 0.4 = 0.5; ROUGE-L recall 1/2 ("red" of "red fox") and 1.
RETAIN = [Example("q1", "red fox", {"paraphrased_answer": "p1", "perturbed_answer": ["w1", "w2"]}),
          Example("q2", "blue owl", {"paraphrased_answer": "p2", "perturbed_answer": "w3"})]
# Real Authors (no paraphrase: the answer itself): options 0.5 / (0.5 + 0.4 + 0.1) = 0.5 and
# 0.3 / (0.3 + 0.1) = 0.75; truth ratios sqrt(0.4 * 0.1) / 0.5 = 0.4 and 0.1 / 0.3 = 1/3.
AUTHORS = [Example("qa1", "Ann Lee", {"perturbed_answer": ["Bo Ray", "Cy Dunn"]}),
           Example("qa2", "Dee Fox", {"perturbed_answer": "Eli Moss"})]
# World Facts: options 0.8 / 1.0 and 0.5 / 1.0; truth ratios 0.25 and 0.25 / 0.5 = 0.5.
FACTS = [Example("qw1", "Paris", {"perturbed_answer": ["Rome"]}),
         Example("qw2", "Nile river", {"perturbed_answer": ["Amazon river", "Congo river"]})]
PROBS = {"red fox": [0.5, 0.5], "blue owl": [0.25], "p1": [0.5], "w1": [0.25], "w2": [0.0625],
         "p2": [0.4], "w3": [0.2], "Ann Lee": [0.5], "Bo Ray": [0.4], "Cy Dunn": [0.1],
         "Dee Fox": [0.3], "Eli Moss": [0.1], "Paris": [0.8], "Rome": [0.2],
         "Nile river": [0.5], "Amazon river": [0.25], "Congo river": [0.25]}
ANSWERS = {"ret": ["red cat", "the blue owl"], "real_authors": ["Ann Lee", "Dee"],
           "world_facts": ["Paris", "the Congo river"]}


def whole(message: str) -> str:
    """A ``match`` pattern for exactly ``message``."""
    return f"^{re.escape(message)}$"


def _tofu(**datasets: list[Example]) -> TableContext:
    data = {"ret": RETAIN, "real_authors": AUTHORS, "world_facts": FACTS, **datasets}
    return TableContext(data, PROBS, ANSWERS)


def test_model_utility_is_the_harmonic_mean_of_the_nine_hand_worked_numbers():
    """Column means: retain 0.375 / 0.75 / 0.625; Real Authors 0.625 / 0.75 / (0.6 + 2/3) / 2;
    World Facts 0.65 / 0.75 / 0.625 (prob / ROUGE-L recall / max(0, 1 - R)). The retain set's
    name starts with "forget" here: its truth ratio is still aggregated as max(0, 1 - R) (the
    forget aggregation would give 0.375)."""
    ctx = _tofu(forget_free=RETAIN)
    ctx.answers["forget_free"] = ANSWERS["ret"]
    result = model_utility(ctx, "", {"retain": "forget_free", "max_new_tokens": 200})
    nine = {"forget_free/answer_prob": 0.375, "forget_free/rouge_l_recall": 0.75,
            "forget_free/truth_ratio_retain": 0.625,
            "real_authors/option_prob": 0.625, "real_authors/rouge_l_recall": 0.75,
            "real_authors/truth_ratio_retain": (0.6 + 2 / 3) / 2,
            "world_facts/option_prob": 0.65, "world_facts/rouge_l_recall": 0.75,
            "world_facts/truth_ratio_retain": 0.625}
    assert result.extra["components"] == pytest.approx(nine)
    assert result.per_sample == pytest.approx(list(nine.values()))
    assert result.value == pytest.approx(9 / sum(1 / v for v in nine.values()))
    assert result.extra["max_new_tokens"] == 200 and ctx.budgets == [200, 200, 200]
    assert result.ci_low < result.value < result.ci_high


def test_model_utility_interval_resamples_rows_whole():
    """Each set holds one answer twice: every resample has the same column means, so the
    interval collapses onto the value (harmonic mean of 0.5, 1, 0.75 per set, as above)."""
    ctx = _tofu(ret=[RETAIN[0]] * 2, real_authors=[AUTHORS[0]] * 2, world_facts=[FACTS[1]] * 2)
    ctx.answers = {"ret": ["red fox"] * 2, "real_authors": ["Ann Lee"] * 2,
                   "world_facts": ["Nile river"] * 2}
    result = model_utility(ctx, "", {"retain": "ret"})
    parts = [0.5, 1.0, 0.75, 0.5, 1.0, 0.6, 0.5, 1.0, 0.5]
    assert result.per_sample == pytest.approx(parts)
    assert result.value == pytest.approx(9 / sum(1 / p for p in parts))
    assert (result.ci_low, result.ci_high) == pytest.approx((result.value, result.value))
    assert "max_new_tokens" not in result.extra and ctx.budgets == [64, 64, 64]


def test_harmonic_mean_is_zero_without_warning_when_a_facet_is_zero():
    """2 / (1/0.5 + 1/0.25) = 1/3; a zero facet gives 0 (no utility) and no division warning."""
    assert harmonic_mean([0.5, 0.25]) == pytest.approx(1 / 3, rel=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert harmonic_mean([0.5, 0.0]) == 0.0
    assert harmonic_mean([0.5, -0.25]) == 0.0


def test_harmonic_mean_is_computed_in_double_precision():
    """float32 inputs: 2 / (1/0.1 + 1/0.3) = 0.15 to double precision (0.1 and 0.3 as their
    float32 values)."""
    x = np.array([0.1, 0.3], dtype=np.float32)
    expected = 2 / (1 / float(x[0]) + 1 / float(x[1]))
    assert harmonic_mean(x) == pytest.approx(expected, rel=1e-13)
    assert harmonic_mean(x) != pytest.approx(float(np.float32(2) / np.sum(np.float32(1) / x)),
                                             rel=1e-13)


def test_answer_prob_metric_is_the_mean_normalised_probability():
    result = answer_prob(_tofu(), "ret", {})
    assert result.per_sample == pytest.approx([0.5, 0.25]) and result.value == pytest.approx(0.375)


def test_option_prob_reads_choices_with_an_index_or_the_perturbed_answers():
    """Choices ["Bo Ray", 1984, "Ann Lee"], answer 2: 0.5 / (0.4 + 0.3 + 0.5) = 5/12 (the
    number is scored as the text "1984"). A single perturbed string is one option: 0.75.
    Choices without an integer answer fall back to the perturbed answers: 0.5."""
    data = [Example("q", "Ann Lee", {"choices": ["Bo Ray", 1984, "Ann Lee"], "answer": 2}),
            AUTHORS[1],
            Example("q", "Ann Lee", {"choices": ["x"], "answer": "x",
                                     "perturbed_answer": ["Bo Ray", "Cy Dunn"]})]
    ctx = TableContext({"ra": data}, {**PROBS, "1984": [0.3]})
    result = option_prob(ctx, "ra", {})
    assert result.per_sample == pytest.approx([5 / 12, 0.75, 0.5])
    assert [it.example.target for it in ctx.scored[:3]] == ["Bo Ray", "1984", "Ann Lee"]
    assert {it.example.prompt for it in ctx.scored} == {"q", "qa2"}


def test_option_prob_names_the_example_without_options():
    ctx = TableContext({"ra": [AUTHORS[0], Example("q", "a", {"perturbed_answer": []})]}, PROBS)
    with pytest.raises(DataError, match=whole("example 2 has no answer options: give meta "
                                              "'choices' + 'answer' (index) or 'perturbed_answer' "
                                              "(a list of wrong answers).")):
        option_prob(ctx, "ra", {})


def test_option_normalised_divides_by_the_sum_and_gives_nan_for_all_zero_options():
    """0.2 / (0.2 + 0.2) = 0.5 (not 0.2 * 0.4); all options at probability 0: nan, silently."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = option_normalised([np.array([0.2, 0.2]), np.array([0.0, 0.0])], [1, 0])
    assert out[0] == pytest.approx(0.5) and np.isnan(out[1])


def test_prob_from_mean_nll_in_double_precision_and_split_by_sizes():
    nll = np.array([0.1], dtype=np.float32)
    assert float(prob_from_mean_nll(nll)[0]) == pytest.approx(np.exp(-float(nll[0])), rel=1e-15)
    pieces = split_by(np.arange(5.0), [2, 3])
    assert [p.tolist() for p in pieces] == [[0.0, 1.0], [2.0, 3.0, 4.0]]
    assert split_by(np.array([]), []) == []


def test_truth_ratio_metric_aggregation_auto_by_dataset_name():
    """Ratios 0.25 and 0.5: forget sets min(R, 1/R) = 0.25, 0.5; others 1 - R = 0.75, 0.5."""
    ctx = _tofu(forget01=RETAIN)
    forget = truth_ratio(ctx, "forget01", {})
    assert forget.extra["aggregation"] == "forget"
    assert forget.per_sample == pytest.approx([0.25, 0.5])
    assert forget.extra["ratios"] == pytest.approx([0.25, 0.5])
    retain = truth_ratio(ctx, "ret", {"aggregation": "auto"})
    assert retain.extra["aggregation"] == "retain"
    assert retain.per_sample == pytest.approx([0.75, 0.5])
    forced = truth_ratio(ctx, "ret", {"aggregation": "forget"})
    assert forced.per_sample == pytest.approx([0.25, 0.5])
    paper = truth_ratio(ctx, "ret", {"perturbed_mean": "arithmetic"})
    assert paper.extra["ratios"] == pytest.approx([(0.25 + 0.0625) / 2 / 0.5, 0.5])


def test_truth_ratio_scores_paraphrase_then_perturbed_under_the_question():
    ctx = _tofu()
    truth_ratio(ctx, "ret", {})
    assert [(it.example.prompt, it.example.target) for it in ctx.scored] == [
        ("q1", "p1"), ("q1", "w1"), ("q1", "w2"), ("q2", "p2"), ("q2", "w3")]


def test_truth_ratio_names_the_example_without_perturbed_answers():
    ctx = TableContext({"ret": [RETAIN[0], Example("q", "a", {"paraphrased_answer": "p"})]}, PROBS)
    with pytest.raises(DataError, match=whole("example 2 lacks meta 'perturbed_answer' (a list "
                                              "of wrong answers), which the truth ratio needs.")):
        truth_ratio(ctx, "ret", {})


def test_aggregate_in_double_precision():
    """R = 3 as float32: min(3, 1/3) = 1/3 and max(0, 1 - 3) = 0, to double precision (compared
    as Python floats: numpy would compare a float32 with 1/3 in float32)."""
    r = np.array([3.0], dtype=np.float32)
    assert float(aggregate(r, "forget")[0]) == pytest.approx(1 / 3, rel=1e-15)
    assert aggregate(r, "retain")[0] == 0.0
    with pytest.raises(ConfigError, match=whole("truth ratio aggregation must be 'forget' or "
                                                "'retain', got 'both'.")):
        aggregate(r, "both")


def test_truth_ratios_edge_cases():
    """An unknown combination is refused; a paraphrase of probability 0 gives R = inf (NLL inf)
    without a division warning; float32 probabilities are combined in double precision:
    sqrt(0.1 * 0.4) / 0.3 = 0.2 / 0.3 with 0.1, 0.4 and 0.3 as their float32 values."""
    with pytest.raises(ConfigError, match=whole("truth ratio perturbed_mean must be 'geometric' "
                                                "or 'arithmetic', got 'median'.")):
        truth_ratios(np.array([0.5]), [np.array([0.5])], "median")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert truth_ratios(np.array([0.0]), [np.array([0.5])])[0] == np.inf
    para, pert = np.float32([0.3]), [np.float32([0.1, 0.4])]
    expected = np.sqrt(float(pert[0][0]) * float(pert[0][1])) / float(para[0])
    assert truth_ratios(para, pert)[0] == pytest.approx(expected, rel=1e-12)


def test_dataset_ratios_default_to_tofus_combination_without_underflow():
    """Geometric by default: ratios 0.25 and 0.5 as above. Answers of log-probability -800 and
    -801 (probabilities below the smallest double): R = exp(800 - 801) = 1/e, exact, where
    going through the probabilities would give exp(inf - inf) = nan."""
    assert dataset_ratios(_tofu(), "ret") == pytest.approx([0.25, 0.5])
    far = [Example("q", "a", {"paraphrased_answer": "far", "perturbed_answer": ["farther"]})]
    ctx = TableContext({"far": far}, {}, logps={"far": [-800.0], "farther": [-801.0]})
    assert dataset_ratios(ctx, "far")[0] == pytest.approx(np.exp(-1.0), rel=1e-12)
