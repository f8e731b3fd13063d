"""Min-K% score of each sample (Shi et al. 2023, "Detecting Pretraining Data from Large
Language Models", sec. 3): the mean of the lowest ``k`` fraction (default 0.4, at least one
token) of its target-token log-probabilities. Averaged over a data set it tracks how much the
least likely tokens of each text are still known; as an attack AUC see ``mia_min_k``."""
from __future__ import annotations

from typing import Any

from obliviate.evaluation.base import MetricResult, mean_result, metric
from obliviate.evaluation.metrics.mia import min_k


@metric("min_k", needs={"scores"}, higher_is_better=None)
def min_k_metric(ctx: Any, dataset: str, options: dict[str, Any]) -> MetricResult:
    """Mean Min-K% log-prob score over the data set (lower on forget after unlearning)."""
    k = float(options.get("k", 0.4))
    return mean_result([min_k(lp, k) for lp in ctx.scores(dataset).logp], k=k)
