"""MUSE verbatim memorisation (Shi et al. 2024, "MUSE: Machine Unlearning Six-Way Evaluation
for Language Models", sec. 3, C1): prompt the model with the first ``prefix_tokens`` (32) tokens
of a forget text, decode greedily, and score the continuation against the true next tokens
(up to ``max_new_tokens``, 128) with ROUGE-L F1. Texts shorter than twice the prefix use their
first half as the prefix."""
from __future__ import annotations

from typing import Any

from obliviate.evaluation.base import MetricResult, metric
from obliviate.evaluation.metrics.rouge import rouge_result


def split_prefix(ids: list[int], prefix_tokens: int, max_new_tokens: int) -> tuple[list[int], list[int]]:
    """The prefix and the true continuation token ids of one text."""
    cut = min(prefix_tokens, len(ids) // 2)
    return ids[:cut], ids[cut:cut + max_new_tokens]


@metric("verbmem", needs={"generations"}, higher_is_better=None)
def verbmem(ctx: Any, dataset: str, options: dict[str, Any]) -> MetricResult:
    """ROUGE-L F1 of the greedy continuation of each text's prefix vs the true continuation."""
    prefix_tokens = int(options.get("prefix_tokens", 32))
    max_new = int(options.get("max_new_tokens", 128))
    tok = ctx.tokenizer
    bos = [tok.bos_token_id] if getattr(tok, "bos_token_id", None) is not None else []
    prefixes, references, shown = [], [], []
    for example in ctx.examples(dataset):
        text = (example.prompt + example.target) if example.prompt else example.target
        head, tail = split_prefix(tok(text, add_special_tokens=False)["input_ids"],
                                  prefix_tokens, max_new)
        prefixes.append(bos + head)
        references.append(tok.decode(tail, skip_special_tokens=True))
        shown.append(tok.decode(head, skip_special_tokens=True))
    generations = ctx.generate_from(prefixes, max_new)
    return rouge_result(references, generations, shown, which=1)
