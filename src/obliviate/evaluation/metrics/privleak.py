"""PrivLeak (Shi et al. 2024, "MUSE: Machine Unlearning Six-Way Evaluation for Language
Models", C4):

    PrivLeak = (AUC(f_unlearn; forget, holdout) - AUC(f_retain; forget, holdout)) / AUC(f_retain)

with the Min-K% attack by default (``options["mia"]``). Close to 0 is good: positive = the
forget set still looks member-like (under-unlearning), negative = over-unlearning. The retain
model's AUC is read from its results (``metrics["<dataset>/<mia>"]["value"]``). MUSE prints it
in percent; this is the fraction (percent in extra)."""
from __future__ import annotations

from typing import Any

from obliviate.errors import ConfigError
from obliviate.evaluation.base import MetricResult, metric


def privleak_value(auc_unlearned: float, auc_retain: float) -> float:
    """``(AUC_unlearned - AUC_retain) / AUC_retain``."""
    return (auc_unlearned - auc_retain) / auc_retain


@metric("privleak", needs={"scores", "holdout", "reference_results"}, higher_is_better=None)
def privleak(ctx: Any, dataset: str, options: dict[str, Any]) -> MetricResult:
    """Relative AUC gap to the retain model; the interval maps this model's AUC interval."""
    mia = options.get("mia", "mia_min_k")
    ours = ctx.result(mia, dataset, {k: v for k, v in options.items() if k != "mia"})
    reference = float(ctx.reference_metric(f"{dataset}/{mia}")["value"])
    if not reference > 0:
        raise ConfigError(f"the reference AUC of {dataset}/{mia} is {reference}; it must be > 0.")
    value = privleak_value(ours.value, reference)
    return MetricResult(value, [value], privleak_value(ours.ci_low, reference),
                        privleak_value(ours.ci_high, reference),
                        {"auc": ours.value, "auc_retain": reference, "percent": 100.0 * value,
                         "mia": mia})
