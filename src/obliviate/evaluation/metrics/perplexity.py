"""Perplexity on a text set (Jelinek et al. 1977; the token-weighted definition used by
language-modelling evaluations): ``exp(sum of token NLL / number of target tokens)`` over the
whole set. Per-sample values are each sample's own perplexity; the interval resamples samples
and recomputes the token-weighted aggregate."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from obliviate.evaluation.base import MetricResult, metric
from obliviate.evaluation.bootstrap import bootstrap_ci_groups


def corpus_perplexity(nll_sums: np.ndarray, n_tokens: np.ndarray) -> float:
    """``exp(sum(nll) / sum(n))``."""
    total = float(np.sum(n_tokens))
    return float(np.exp(np.sum(nll_sums) / total)) if total > 0 else math.nan


@metric("perplexity", needs={"scores"}, higher_is_better=False)
def perplexity(ctx: Any, dataset: str, options: dict[str, Any]) -> MetricResult:
    """Token-weighted perplexity of the data set's target tokens."""
    scores = ctx.scores(dataset)
    nll, n = -scores.sum_logp(), scores.n_tokens().astype(np.float64)
    per_sample = np.where(n > 0, np.exp(nll / np.maximum(n, 1)), np.nan)
    low, high = bootstrap_ci_groups([np.stack([nll, n], axis=1)],
                                    lambda g: corpus_perplexity(g[0][:, 0], g[0][:, 1]))
    return MetricResult(corpus_perplexity(nll, n), [float(v) for v in per_sample], low, high,
                        {"tokens": int(n.sum())})
