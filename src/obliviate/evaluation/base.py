"""The metric contract: what a metric needs, which way is better, and what it returns.

A metric is a plain function ``compute(ctx, dataset, options) -> MetricResult`` registered in
:data:`METRICS` with :func:`metric`, which records its needs up front (as lm-evaluation-harness
declares metric metadata) so the evaluator can check them before any forward pass.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from obliviate.evaluation.bootstrap import bootstrap_ci
from obliviate.registry import Registry

if TYPE_CHECKING:
    from obliviate.evaluation.context import EvalContext

#: The needs a metric may declare.
#: scores: teacher-forced token statistics of the data set (one cached pass);
#: generations: greedy answers to the data set's prompts; variants: paraphrased / perturbed
#: answers in ``meta`` (TOFU); options: answer options in ``meta`` (multiple choice);
#: holdout: a non-member set (``options["holdout"]``, default "holdout"); reference_results:
#: the results of a reference (retain) model; reference_model: a second model in memory;
#: gradients: the model's gradients per sample; run_info: a training run's run.json.
KNOWN_NEEDS = frozenset({
    "scores", "generations", "variants", "options", "holdout", "reference_results",
    "reference_model", "gradients", "run_info",
})


@dataclass
class MetricResult:
    """An aggregate ``value``, the per-sample values it summarises, a bootstrap 95% interval,
    and anything else worth keeping (``extra``, JSON-serialisable)."""

    value: float
    per_sample: list[float]
    ci_low: float
    ci_high: float
    extra: dict[str, Any] = field(default_factory=dict)
    higher_is_better: bool | None = None


@dataclass(frozen=True)
class Metric:
    """A registered metric. ``higher_is_better`` is None when closeness (to 0, or to a
    reference model) is what matters. ``uses_dataset`` is False for metrics that read no data
    set (efficiency)."""

    name: str
    compute: Callable[["EvalContext", str, dict[str, Any]], MetricResult]
    needs: frozenset[str]
    higher_is_better: bool | None
    uses_dataset: bool = True


METRICS: Registry[Metric] = Registry("metric")


def metric(
    name: str, needs: set[str] | frozenset[str], higher_is_better: bool | None,
    uses_dataset: bool = True,
) -> Callable[[Callable], Callable]:
    """Decorator: register ``compute`` as metric ``name``."""
    unknown = set(needs) - KNOWN_NEEDS
    if unknown:
        raise ValueError(f"metric {name!r} declares unknown needs {sorted(unknown)}")

    def add(compute: Callable) -> Callable:
        METRICS.register(name)(Metric(name, compute, frozenset(needs), higher_is_better,
                                      uses_dataset))
        return compute

    return add


def mean_result(per_sample: np.ndarray | list[float], **extra: Any) -> MetricResult:
    """Result whose value is the mean of the finite per-sample values, with bootstrap CI."""
    values = np.asarray(per_sample, dtype=np.float64)
    finite = values[np.isfinite(values)]
    value = float(finite.mean()) if finite.size else float("nan")
    low, high = bootstrap_ci(finite)
    return MetricResult(value, [float(v) for v in values], low, high, dict(extra))
