"""MUSE verbatim memorisation (Shi et al. 2024, "MUSE: Machine Unlearning Six-Way Evaluation
for Language Models", arXiv:2407.06460, C1), as MUSE's ``metrics/verbmem.py`` computes it: the
published ``prompt`` (the example's prompt) is fed as given, encoded with the tokenizer's own
special tokens (``add_special_tokens=True``: a BOS only where the tokenizer adds one), the model
continues it greedily for 128 new tokens (``options["max_new_tokens"]``), and the continuation
is scored by ROUGE-L F1 (``use_stemmer=False``) against the first 128 tokens of ``gt`` (the
target, encoded the same way, decoded without special tokens), reported x100.

Raw text without a prompt (obliviate's own extension): the first ``prefix_tokens`` (32) tokens
are the prompt (the first half of texts shorter than twice that) and the true next tokens the
reference."""
from __future__ import annotations

from typing import Any

from obliviate.evaluation.base import MetricResult, metric
from obliviate.evaluation.metrics.rouge import rouge_result

MAX_NEW_TOKENS = 128


def split_prefix(ids: list[int], prefix_tokens: int, max_new_tokens: int) -> tuple[list[int], list[int]]:
    """The prefix and the true continuation token ids of one text."""
    cut = min(prefix_tokens, len(ids) // 2)
    return ids[:cut], ids[cut:cut + max_new_tokens]


def _encode(tok: Any, text: str) -> list[int]:
    """``text``'s ids with the tokenizer's own special tokens (its default, as in MUSE)."""
    return list(tok(text)["input_ids"])


def verbmem_pair(tok: Any, prompt: str, target: str, max_new: int,
                 prefix_tokens: int) -> tuple[list[int], str]:
    """The prompt token ids and the reference text of one example."""
    if prompt:
        reference = tok.decode(_encode(tok, target)[:max_new], skip_special_tokens=True,
                               clean_up_tokenization_spaces=True)
        return _encode(tok, prompt), reference
    whole = _encode(tok, target)
    lead = [t for t in whole[:1] if t in tok.all_special_ids]
    head, tail = split_prefix(whole[len(lead):], prefix_tokens, max_new)
    return lead + head, tok.decode(tail, skip_special_tokens=True)


@metric("verbmem", needs={"generations"}, higher_is_better=None)
def verbmem(ctx: Any, dataset: str, options: dict[str, Any]) -> MetricResult:
    """MUSE ROUGE-L F1 x100 of the greedy continuation of each prompt vs the true text."""
    prefix_tokens = int(options.get("prefix_tokens", 32))
    max_new = int(options.get("max_new_tokens", MAX_NEW_TOKENS))
    prefixes, references, shown = [], [], []
    for example in ctx.examples(dataset):
        ids, reference = verbmem_pair(ctx.tokenizer, example.prompt, example.target, max_new,
                                      prefix_tokens)
        prefixes.append(ids)
        references.append(reference)
        shown.append(example.prompt or ctx.tokenizer.decode(ids, skip_special_tokens=True))
    generations = ctx.generate_from(prefixes, max_new)
    return rouge_result(references, generations, shown, which=1, stemmer=False, scale=100.0,
                        max_new_tokens=max_new, unit="percent")
