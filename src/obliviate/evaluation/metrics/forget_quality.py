"""Forget quality (TOFU: Maini et al. 2024, sec. 2.5): the p-value of the Kolmogorov-Smirnov
two-sample test (``scipy.stats.ks_2samp``) between the truth ratios of the unlearned model on
the forget set and those of the retain model (trained without the forget set). High p-value =
the two distributions cannot be told apart = good forgetting. The retain model's ratios are
read from its results (``metrics["<dataset>/truth_ratio"]["extra"]["ratios"]``)."""
from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import ks_2samp

from obliviate.errors import ConfigError
from obliviate.evaluation.base import MetricResult, metric
from obliviate.evaluation.bootstrap import bootstrap_ci


def ks_pvalue(ours: np.ndarray, reference: np.ndarray) -> float:
    """Two-sided KS two-sample p-value."""
    return float(ks_2samp(np.asarray(ours), np.asarray(reference)).pvalue)


@metric("forget_quality", needs={"scores", "variants", "reference_results"},
        higher_is_better=True)
def forget_quality(ctx: Any, dataset: str, options: dict[str, Any]) -> MetricResult:
    """KS p-value of this model's forget truth ratios vs the retain model's; the interval
    bootstraps this model's ratios against the fixed reference sample."""
    ours = np.array(ctx.result("truth_ratio", dataset).extra["ratios"], dtype=np.float64)
    entry = ctx.reference_metric(f"{dataset}/truth_ratio")
    reference = (entry.get("extra") or {}).get("ratios")
    if not reference:
        raise ConfigError(f"the reference results' {dataset}/truth_ratio has no raw ratios "
                          f"(extra.ratios); re-evaluate the retain model with this version.")
    reference = np.array(reference, dtype=np.float64)
    value = ks_pvalue(ours, reference)
    low, high = bootstrap_ci(ours, statistic=lambda s: ks_pvalue(s, reference))
    return MetricResult(value, [float(v) for v in ours], low, high,
                        {"ks_statistic": float(ks_2samp(ours, reference).statistic),
                         "n_reference": int(reference.size)})
