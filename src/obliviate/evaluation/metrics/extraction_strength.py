"""Extraction strength (Carlini et al. 2021, "Extracting Training Data from Large Language
Models", extractability by prefix; in the form used by unlearning evaluations, e.g. Jin et al.
2024 RWKU and open-unlearning):

    ES(x) = 1 - min{k : greedy decoding from x_<k reproduces x_>=k exactly} / |x|

over the |x| target tokens. Greedy decoding reproduces the suffix exactly iff every suffix token
is the argmax under teacher forcing, so k is the smallest index such that all flags from k on
are correct: ES = 1 when every token is predicted. When even the last token is wrong, no suffix
is reproduced; open-unlearning's ``extraction_strength`` then stops its search at
``k = |x| - 1`` and reports ``1/|x|``, and this follows it so the numbers compare.

Tokens scored: the target tokens except a final EOS token, as open-unlearning's
``tokenwise_vocab_logprobs`` drops the last label (the appended EOS) before computing ES."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from obliviate.evaluation.base import MetricResult, mean_result, metric


def extraction_strength(correct: np.ndarray) -> float:
    """ES of one sample from its teacher-forced argmax-correct flags."""
    flags = np.asarray(correct, dtype=bool)
    n = flags.size
    if n == 0:
        return math.nan
    wrong = np.flatnonzero(~flags)
    k = 0 if wrong.size == 0 else min(int(wrong[-1]) + 1, n - 1)
    return 1.0 - k / n


@metric("extraction_strength", needs={"scores"}, higher_is_better=None)
def extraction_strength_metric(ctx: Any, dataset: str, options: dict[str, Any]) -> MetricResult:
    """Mean extraction strength over the data set (lower on forget, higher on retain)."""
    flags = ctx.scores(dataset).correct
    keep = ctx.target_lengths_without_eos(dataset)
    return mean_result([extraction_strength(c[:n]) for c, n in zip(flags, keep)])
