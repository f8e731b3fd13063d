"""Forget quality (TOFU: Maini et al. 2024, sec. 2.5): the p-value of the Kolmogorov-Smirnov
two-sample test (``scipy.stats.ks_2samp``) between the truth ratios of the unlearned model on
the forget set and those of the retain model (trained without the forget set). High p-value =
the two distributions cannot be told apart = good forgetting. The retain model's ratios are
read from its results (``metrics["<dataset>/truth_ratio"]["extra"]["ratios"]``), which must
have been computed with the same prompt format on the same data (else a ConfigError).

No confidence interval is reported (``ci_low`` / ``ci_high`` are null): a p-value is not an
estimate of a population quantity, and bootstrapping it against a fixed reference sample does
not give a confidence interval of anything. The KS statistic ``D`` is kept in ``extra``."""
from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import ks_2samp

from obliviate.errors import ConfigError
from obliviate.evaluation.base import MetricResult, metric


def ks_pvalue(ours: np.ndarray, reference: np.ndarray) -> float:
    """Two-sided KS two-sample p-value."""
    return float(ks_2samp(np.asarray(ours), np.asarray(reference)).pvalue)


@metric("forget_quality", needs={"scores", "variants", "reference_results"},
        higher_is_better=True)
def forget_quality(ctx: Any, dataset: str, options: dict[str, Any]) -> MetricResult:
    """KS p-value of this model's forget truth ratios vs the retain model's (no interval)."""
    ctx.check_reference([dataset])
    ours = np.array(ctx.result("truth_ratio", dataset).extra["ratios"], dtype=np.float64)
    entry = ctx.reference_metric(f"{dataset}/truth_ratio")
    reference = (entry.get("extra") or {}).get("ratios")
    if not reference:
        raise ConfigError(f"the reference results' {dataset}/truth_ratio has no raw ratios "
                          f"(extra.ratios); re-evaluate the retain model with this version.")
    reference = np.array(reference, dtype=np.float64)
    value = ks_pvalue(ours, reference)
    return MetricResult(value, [float(v) for v in ours], float("nan"), float("nan"),
                        {"ks_statistic": float(ks_2samp(ours, reference).statistic),
                         "n_reference": int(reference.size)})
