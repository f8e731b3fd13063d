"""Model utility (TOFU: Maini et al. 2024, sec. 2.5): the harmonic mean of nine numbers,
{probability, ROUGE-L recall, truth ratio with the retain aggregation max(0, 1 - R)} on each of
{retain set, Real Authors, World Facts}. Probability is the length-normalised answer
probability on the retain set and the option-normalised one on Real Authors and World Facts.
Data set names come from ``options`` ("retain", "real_authors", "world_facts" by default);
``options["max_new_tokens"]`` is the ROUGE generation budget (the TOFU suite gives 200).
:func:`harmonic_mean` is the aggregation alone (the parity tests feed it published logs)."""
from __future__ import annotations

from typing import Any

import numpy as np

from obliviate.evaluation.base import MetricResult, metric
from obliviate.evaluation.bootstrap import bootstrap_ci_groups

SETS = ("retain", "real_authors", "world_facts")


def harmonic_mean(values: list[float] | np.ndarray) -> float:
    """``n / sum(1/x)``; 0 when any value is 0 (a model that fails one facet has no utility)."""
    x = np.asarray(values, dtype=np.float64)
    if np.any(x <= 0):
        return 0.0
    return float(x.size / np.sum(1.0 / x))


def _columns(ctx: Any, role: str, dataset: str,
             rouge: dict[str, Any]) -> tuple[np.ndarray, list[str]]:
    prob = "answer_prob" if role == "retain" else "option_prob"
    parts = [ctx.result(prob, dataset), ctx.result("rouge_l_recall", dataset, rouge),
             ctx.result("truth_ratio", dataset, {"aggregation": "retain"})]
    names = [f"{dataset}/{n}" for n in (prob, "rouge_l_recall", "truth_ratio_retain")]
    return np.array([p.per_sample for p in parts]).T, names


def _utility(groups: list[np.ndarray]) -> float:
    return harmonic_mean(np.concatenate([np.nanmean(g, axis=0) for g in groups]))


@metric("model_utility", needs={"scores", "generations", "variants", "options"},
        higher_is_better=True, uses_dataset=False)
def model_utility(ctx: Any, dataset: str, options: dict[str, Any]) -> MetricResult:
    """Harmonic mean of the nine TOFU utility numbers; the interval resamples each set."""
    groups, names = [], []
    rouge = {k: options[k] for k in ("max_new_tokens",) if options.get(k)}
    for role in SETS:
        columns, labels = _columns(ctx, role, options.get(role, role), rouge)
        groups.append(columns)
        names += labels
    parts = np.concatenate([np.nanmean(g, axis=0) for g in groups])
    low, high = bootstrap_ci_groups(groups, _utility)
    return MetricResult(harmonic_mean(parts), [float(p) for p in parts], low, high,
                        {"components": dict(zip(names, map(float, parts))), **rouge})
