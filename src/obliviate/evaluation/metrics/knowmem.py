"""MUSE knowledge memorisation (Shi et al. 2024, "MUSE: Machine Unlearning Six-Way Evaluation
for Language Models", sec. 3, C2): ROUGE-L F1 between the model's greedy answers to QA pairs
about the forget (or retain) corpus and the true answers. (MUSE prompts with a few in-context
QA pairs; here the prompt is the data set's own QA rendering, as every QA metric sees it.)"""
from __future__ import annotations

from typing import Any

from obliviate.evaluation.base import MetricResult, metric
from obliviate.evaluation.metrics.rouge import rouge_l_f1


@metric("knowmem", needs={"generations"}, higher_is_better=None)
def knowmem(ctx: Any, dataset: str, options: dict[str, Any]) -> MetricResult:
    """ROUGE-L F1 of greedy QA answers (lower on forget, higher on retain)."""
    return rouge_l_f1(ctx, dataset, options)
