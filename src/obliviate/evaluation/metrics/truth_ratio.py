"""Truth ratio (TOFU: Maini et al. 2024, "TOFU: A Task of Fictitious Unlearning for LLMs",
sec. 2.5):

    R = (1/|A_pert|) * sum_{a' in A_pert} P(a'|q)^(1/|a'|)  /  P(a~|q)^(1/|a~|)

with ``a~`` the paraphrased answer and ``A_pert`` the perturbed (wrong) answers, each
probability normalised per token (``P^(1/|a|) = exp(mean log p)``). Aggregations: on forget
sets ``min(R, 1/R)``, elsewhere ``max(0, 1 - R)``; both higher-is-better. The paraphrase is
``meta["paraphrased_answer"]``, or the answer itself when absent (TOFU's Real Authors / World
Facts); the perturbed answers are ``meta["perturbed_answer"]``.

The perturbed answers are combined as TOFU's released code and open-unlearning combine them:
the mean of their per-token mean NLLs, i.e. a *geometric* mean of the normalised
probabilities, ``R = exp(NLL(a~) - mean_{a'} NLL(a'))``. This is the default, the form every
published TOFU number uses; ``options["perturbed_mean"] = "arithmetic"`` gives the formula as
printed in the paper instead.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from obliviate.data.types import Example
from obliviate.errors import ConfigError, DataError
from obliviate.evaluation.base import MetricResult, mean_result, metric
from obliviate.evaluation.metrics.answer_prob import normalised_prob, split_by


def truth_ratios_from_losses(paraphrased: np.ndarray, perturbed: list[np.ndarray]) -> np.ndarray:
    """``R = exp(NLL(a~) - mean NLL(a'))`` per sample, from the mean token NLL of the paraphrased
    answer ``[n]`` and of each sample's perturbed answers (list of ``[m_i]``): TOFU's code."""
    return np.array([np.exp(float(para) - float(np.mean(pert)))
                     for para, pert in zip(paraphrased, perturbed)])


def truth_ratios(paraphrased: np.ndarray, perturbed: list[np.ndarray],
                 perturbed_mean: str = "geometric") -> np.ndarray:
    """``R`` per sample from per-token-normalised probabilities of the paraphrased answer
    ``[n]`` and of each sample's perturbed answers (list of ``[m_i]``), the perturbed ones
    combined by their geometric mean (TOFU's code, default) or arithmetic mean (the paper)."""
    if perturbed_mean == "arithmetic":
        return np.array([np.mean(pert) / para for para, pert in zip(paraphrased, perturbed)])
    if perturbed_mean != "geometric":
        raise ConfigError(f"truth ratio perturbed_mean must be 'geometric' or 'arithmetic', "
                          f"got {perturbed_mean!r}.")
    with np.errstate(divide="ignore"):
        return truth_ratios_from_losses(-np.log(np.asarray(paraphrased, dtype=np.float64)),
                                        [-np.log(np.asarray(p, dtype=np.float64)) for p in perturbed])


def aggregate(ratios: np.ndarray, how: str) -> np.ndarray:
    """Per-sample ``min(R, 1/R)`` (``how="forget"``) or ``max(0, 1 - R)`` (``"retain"``)."""
    ratios = np.asarray(ratios, dtype=np.float64)
    if how == "forget":
        return np.minimum(ratios, 1.0 / ratios)
    if how == "retain":
        return np.maximum(0.0, 1.0 - ratios)
    raise ConfigError(f"truth ratio aggregation must be 'forget' or 'retain', got {how!r}.")


def variants(example: Example, where: int) -> tuple[str, list[str]]:
    """The paraphrased answer and the perturbed answers of one TOFU-style example."""
    perturbed = example.meta.get("perturbed_answer")
    if isinstance(perturbed, str):
        perturbed = [perturbed]
    if not perturbed:
        raise DataError(f"example {where} lacks meta 'perturbed_answer' (a list of wrong "
                        f"answers), which the truth ratio needs.")
    return str(example.meta.get("paraphrased_answer") or example.target), [str(p) for p in perturbed]


def dataset_ratios(ctx: Any, dataset: str, perturbed_mean: str = "geometric") -> np.ndarray:
    """Truth ratios of every example of ``dataset``; all variants scored in one batched pass."""
    flat, counts = [], []
    for i, example in enumerate(ctx.examples(dataset), start=1):
        para, pert = variants(example, i)
        flat += [Example(example.prompt, a) for a in [para] + pert]
        counts.append(1 + len(pert))
    scores = ctx.score_examples(flat)
    if perturbed_mean == "geometric":  # straight from the mean NLLs, as TOFU's code
        groups = split_by(-scores.mean_logp(), counts)
        return truth_ratios_from_losses(np.array([g[0] for g in groups]), [g[1:] for g in groups])
    groups = split_by(normalised_prob(scores), counts)
    return truth_ratios(np.array([g[0] for g in groups]), [g[1:] for g in groups], perturbed_mean)


@metric("truth_ratio", needs={"scores", "variants"}, higher_is_better=True)
def truth_ratio(ctx: Any, dataset: str, options: dict[str, Any]) -> MetricResult:
    """Aggregated truth ratio; ``options["aggregation"]`` is "forget", "retain" or "auto"
    (forget when the data set's name starts with "forget"). Raw ratios are in extra."""
    how = options.get("aggregation", "auto")
    if how == "auto":
        how = "forget" if dataset.startswith("forget") else "retain"
    ratios = dataset_ratios(ctx, dataset, options.get("perturbed_mean", "geometric"))
    return mean_result(aggregate(ratios, how), aggregation=how,
                       ratios=[float(r) for r in ratios])
