"""Exact memorisation (Tirumala et al. 2022, "Memorization Without Overfitting: Analyzing the
Training Dynamics of Large Language Models", sec. 3): the fraction of target tokens whose
teacher-forced argmax prediction equals the true token, ``mean_t 1[argmax p(.|x_<t) = x_t]``."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from obliviate.evaluation.base import MetricResult, mean_result, metric


def exact_memorization(correct: np.ndarray) -> float:
    """Mean of the argmax-correct flags of one sample (nan when it has no target token)."""
    return float(np.mean(correct)) if len(correct) else math.nan


@metric("exact_memorization", needs={"scores"}, higher_is_better=None)
def exact_memorization_metric(ctx: Any, dataset: str, options: dict[str, Any]) -> MetricResult:
    """Mean exact memorisation over the data set (lower on forget, higher on retain)."""
    return mean_result([exact_memorization(c) for c in ctx.scores(dataset).correct])
