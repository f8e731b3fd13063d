"""Answer probability (TOFU: Maini et al. 2024, "TOFU: A Task of Fictitious Unlearning for
LLMs", sec. 2.5 "Probability").

* ``answer_prob``: the length-normalised probability ``P(a|q)^(1/|a|) = exp(mean_t log p(a_t))``.
* ``option_prob``: for Real Authors / World Facts, ``P(a|q)^(1/|a|)`` of the correct answer
  divided by the sum of the same quantity over all options (correct + perturbed answers).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from obliviate.data.types import Example
from obliviate.errors import DataError
from obliviate.evaluation.base import MetricResult, mean_result, metric
from obliviate.evaluation.scoring import TokenScores


def prob_from_mean_nll(mean_nll: np.ndarray) -> np.ndarray:
    """``exp(-mean token NLL)``: TOFU's ``exp(-avg_gt_loss)`` (the parity tests' seam)."""
    return np.exp(-np.asarray(mean_nll, dtype=np.float64))


def normalised_prob(scores: TokenScores) -> np.ndarray:
    """``exp(mean token log-prob)`` per sample."""
    return prob_from_mean_nll(-scores.mean_logp())


def option_normalised(probs: list[np.ndarray], correct: list[int]) -> np.ndarray:
    """``p[correct] / sum(p)`` per sample, from each sample's per-option normalised probs."""
    return np.array([p[c] / p.sum() if p.sum() > 0 else np.nan for p, c in zip(probs, correct)])


def answer_options(example: Example, where: int) -> tuple[list[str], int]:
    """The options of an example and the index of the correct one: ``meta["choices"]`` with
    ``meta["answer"]`` (an index), else ``[target] + meta["perturbed_answer"]`` (TOFU)."""
    meta = example.meta
    if isinstance(meta.get("choices"), list) and isinstance(meta.get("answer"), int):
        return [str(c) for c in meta["choices"]], int(meta["answer"])
    perturbed = meta.get("perturbed_answer")
    if isinstance(perturbed, str):
        perturbed = [perturbed]
    if not perturbed:
        raise DataError(
            f"example {where} has no answer options: give meta 'choices' + 'answer' (index) or "
            f"'perturbed_answer' (a list of wrong answers)."
        )
    return [example.target] + [str(p) for p in perturbed], 0


def split_by(values: np.ndarray, counts: list[int]) -> list[np.ndarray]:
    """Cut a flat array into consecutive pieces of the given sizes."""
    return np.split(np.asarray(values), np.cumsum(counts)[:-1]) if counts else []


@metric("answer_prob", needs={"scores"}, higher_is_better=True)
def answer_prob(ctx: Any, dataset: str, options: dict[str, Any]) -> MetricResult:
    """TOFU length-normalised answer probability, averaged over the data set."""
    return mean_result(normalised_prob(ctx.scores(dataset)))


@metric("option_prob", needs={"scores", "options"}, higher_is_better=True)
def option_prob(ctx: Any, dataset: str, options: dict[str, Any]) -> MetricResult:
    """TOFU option-normalised probability of the correct answer (Real Authors, World Facts)."""
    flat, counts, correct = [], [], []
    for i, example in enumerate(ctx.examples(dataset), start=1):
        opts, right = answer_options(example, i)
        flat += [Example(example.prompt, o, {}) for o in opts]
        counts.append(len(opts))
        correct.append(right)
    probs = split_by(normalised_prob(ctx.score_examples(flat)), counts)
    return mean_result(option_normalised(probs, correct))
