"""ROUGE-L (Lin 2004, "ROUGE: A Package for Automatic Evaluation of Summaries") of greedy
answers against the reference answers, through Google's ``rouge_score`` package with
``use_stemmer=True`` as in TOFU (Maini et al. 2024), which reports ROUGE-L recall.
Recall = LCS / |reference|, precision = LCS / |prediction|, F1 their harmonic mean."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from rouge_score import rouge_scorer

from obliviate.evaluation.base import MetricResult, mean_result, metric

N_SAMPLES_KEPT = 5


@lru_cache(maxsize=1)
def _scorer() -> rouge_scorer.RougeScorer:
    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)


def rouge_l(reference: str, prediction: str) -> tuple[float, float]:
    """``(recall, f1)`` of ROUGE-L between one reference and one prediction."""
    result = _scorer().score(reference, prediction)["rougeL"]
    return float(result.recall), float(result.fmeasure)


def rouge_result(
    references: list[str], predictions: list[str], prompts: list[str], which: int
) -> MetricResult:
    """Mean ROUGE-L recall (``which=0``) or F1 (``which=1``), with a few samples in extra."""
    values = [rouge_l(r, p)[which] for r, p in zip(references, predictions)]
    samples = [{"prompt": q, "reference": r, "generation": p}
               for q, r, p in list(zip(prompts, references, predictions))[:N_SAMPLES_KEPT]]
    return mean_result(values, samples=samples)


def _qa_rouge(ctx: Any, dataset: str, which: int) -> MetricResult:
    examples = ctx.examples(dataset)
    generations = ctx.generations(dataset)
    return rouge_result([e.target for e in examples], generations,
                        [e.prompt for e in examples], which)


@metric("rouge_l_recall", needs={"generations"}, higher_is_better=True)
def rouge_l_recall(ctx: Any, dataset: str, options: dict[str, Any]) -> MetricResult:
    """ROUGE-L recall of greedy answers vs references (TOFU)."""
    return _qa_rouge(ctx, dataset, 0)


@metric("rouge_l_f1", needs={"generations"}, higher_is_better=True)
def rouge_l_f1(ctx: Any, dataset: str, options: dict[str, Any]) -> MetricResult:
    """ROUGE-L F1 of greedy answers vs references."""
    return _qa_rouge(ctx, dataset, 1)
