"""ROUGE-L (Lin 2004, "ROUGE: A Package for Automatic Evaluation of Summaries") of greedy
answers against the reference answers, through Google's ``rouge_score`` package, called as
``score(reference, generation)``. Recall = LCS / |reference|, precision = LCS / |prediction|,
F1 their harmonic mean.

TOFU (Maini et al. 2024) and open-unlearning report ROUGE-L recall with ``use_stemmer=True`` on
answers generated greedily with up to 200 new tokens, stopped at EOS, the generation cut at
the first stop string (if any) and stripped; MUSE (Shi et al. 2024) reports ROUGE-L F1 with
``use_stemmer=False`` (see ``knowmem`` / ``verbmem``). Options: ``max_new_tokens`` (default: the
evaluation's), ``stop`` (list of strings), ``stemmer`` (default True)."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from rouge_score import rouge_scorer

from obliviate.evaluation.base import MetricResult, mean_result, metric

N_SAMPLES_KEPT = 5


@lru_cache(maxsize=2)
def _scorer(stemmer: bool = True) -> rouge_scorer.RougeScorer:
    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=stemmer)


def rouge_l(reference: str, prediction: str, stemmer: bool = True) -> tuple[float, float]:
    """``(recall, f1)`` of ROUGE-L between one reference and one prediction."""
    result = _scorer(stemmer).score(reference, prediction)["rougeL"]
    return float(result.recall), float(result.fmeasure)


def cut_at_stops(text: str, stops: list[str] | tuple[str, ...]) -> str:
    """``text`` up to the first occurrence of any stop string (each cut in turn, as MUSE's
    ``get_prefix_before_words_occur`` and open-unlearning do)."""
    for stop in stops:
        if stop:
            text = text.split(stop)[0]
    return text


def rouge_result(
    references: list[str], predictions: list[str], prompts: list[str], which: int,
    stemmer: bool = True, scale: float = 1.0, **extra: Any,
) -> MetricResult:
    """Mean ROUGE-L recall (``which=0``) or F1 (``which=1``) times ``scale``, with a few
    samples in extra."""
    values = [scale * rouge_l(r, p, stemmer)[which] for r, p in zip(references, predictions)]
    samples = [{"prompt": q, "reference": r, "generation": p}
               for q, r, p in list(zip(prompts, references, predictions))[:N_SAMPLES_KEPT]]
    return mean_result(values, samples=samples, stemmer=stemmer, **extra)


def _qa_rouge(ctx: Any, dataset: str, which: int, options: dict[str, Any]) -> MetricResult:
    examples = ctx.examples(dataset)
    budget = int(options.get("max_new_tokens") or ctx.max_new_tokens)
    stops = list(options.get("stop") or [])
    generations = [cut_at_stops(g, stops).strip() for g in ctx.generations(dataset, budget)]
    return rouge_result([e.target for e in examples], generations,
                        [e.prompt for e in examples], which,
                        stemmer=bool(options.get("stemmer", True)),
                        max_new_tokens=budget, stop=stops)


@metric("rouge_l_recall", needs={"generations"}, higher_is_better=True)
def rouge_l_recall(ctx: Any, dataset: str, options: dict[str, Any]) -> MetricResult:
    """ROUGE-L recall of greedy answers vs references (TOFU)."""
    return _qa_rouge(ctx, dataset, 0, options)


@metric("rouge_l_f1", needs={"generations"}, higher_is_better=True)
def rouge_l_f1(ctx: Any, dataset: str, options: dict[str, Any]) -> MetricResult:
    """ROUGE-L F1 of greedy answers vs references."""
    return _qa_rouge(ctx, dataset, 1, options)
