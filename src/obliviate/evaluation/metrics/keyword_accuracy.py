"""Keyword accuracy of greedy answers: an answer counts as correct when it contains any of the
example's keywords (``meta["keywords"]``, case-insensitive). The demo's headline efficacy and
utility number; the same check as the "contains the answer" accuracy used for open QA
(e.g. Kandpal et al. 2023, arXiv:2211.08411)."""
from __future__ import annotations

from typing import Any

from obliviate.errors import DataError
from obliviate.evaluation.base import MetricResult, mean_result, metric

N_SAMPLES_KEPT = 5


def keywords_of(meta: dict[str, Any], where: str) -> list[str]:
    words = meta.get("keywords")
    if isinstance(words, str):
        words = [words]
    if not words or not all(isinstance(w, str) and w.strip() for w in words):
        raise DataError(f"{where} has no 'keywords' list (the words that make an answer "
                        "correct); add one to every record to use keyword_accuracy")
    return words


def contains_keyword(answer: str, keywords: list[str]) -> bool:
    text = answer.casefold()
    return any(k.casefold() in text for k in keywords)


@metric("keyword_accuracy", needs={"generations"}, higher_is_better=True)
def keyword_accuracy(ctx: Any, dataset: str, options: dict[str, Any]) -> MetricResult:
    """Share of greedy answers that contain one of the example's keywords."""
    examples = ctx.examples(dataset)
    answers = ctx.generations(dataset)
    hits = [float(contains_keyword(a, keywords_of(e.meta, f"{dataset} example {i + 1}")))
            for i, (e, a) in enumerate(zip(examples, answers))]
    samples = [{"prompt": e.prompt, "reference": e.target, "generation": a}
               for e, a in list(zip(examples, answers))[:N_SAMPLES_KEPT]]
    return mean_result(hits, samples=samples)
