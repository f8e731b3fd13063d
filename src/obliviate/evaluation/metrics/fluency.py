"""Fluency of greedy answers: is the model still writing language, or repeating tokens?

Two per-answer numbers: the share of distinct tokens among the answer's tokens (repetition
collapse, as the distinct-n diversity of Li et al. 2016, arXiv:1510.03055, with n = 1), the
value reported; and, in ``extra``, the perplexity of the answers under a reference model
(the original model when the evaluator is given one, else the evaluated model), which rises
sharply on gibberish. ``extra["fluent"]`` applies the bounds in ``options``
(``min_distinct``, default 0.5; ``max_perplexity``, default 50).
"""
from __future__ import annotations

import math
from typing import Any

from obliviate.data.types import Example
from obliviate.evaluation.base import MetricResult, mean_result, metric


def distinct_share(token_ids: list[int]) -> float:
    """Distinct tokens / tokens (1.0 for an empty answer, which repeats nothing)."""
    return len(set(token_ids)) / len(token_ids) if token_ids else 1.0


@metric("fluency", needs={"generations"}, higher_is_better=True)
def fluency(ctx: Any, dataset: str, options: dict[str, Any]) -> MetricResult:
    """Mean distinct-token share of greedy answers, with their perplexity in ``extra``."""
    questions = [e.prompt for e in ctx.examples(dataset)]
    answers = ctx.generations(dataset)
    shares = [distinct_share(ctx.tokenizer(a, add_special_tokens=False)["input_ids"])
              for a in answers]
    judged = [Example(q, a) for q, a in zip(questions, answers) if a.strip()]
    ppl = float("inf")
    if judged:
        scores = ctx.score_items(ctx.tokenize(judged, "qa"), model=ctx.reference_model)
        ppl = math.exp(-scores.sum_logp().sum() / max(1, int(scores.n_tokens().sum())))
    min_distinct = float(options.get("min_distinct", 0.5))
    max_ppl = float(options.get("max_perplexity", 50.0))
    result = mean_result(shares)
    result.extra.update(perplexity=ppl, min_distinct=min_distinct, max_perplexity=max_ppl,
                        empty_answers=len(answers) - len(judged),
                        fluent=bool(result.value >= min_distinct and ppl <= max_ppl))
    return result
