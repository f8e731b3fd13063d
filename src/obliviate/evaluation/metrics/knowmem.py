"""MUSE knowledge memorisation (Shi et al. 2024, "MUSE: Machine Unlearning Six-Way Evaluation
for Language Models", arXiv:2407.06460, C2), as MUSE's ``metrics/knowmem.py`` computes it:

* the prompt is the few-shot pairs (``meta["icl"]``, MUSE's ``*_qa_icl``) as
  ``"Question: {q}\\nAnswer: {a}\\n\\n"`` blocks followed by ``"Question: {q}\\nAnswer: "``,
  encoded with the tokenizer's special tokens (``add_special_tokens=True``), whatever the
  prompt format: this is MUSE's own protocol;
* greedy decoding of at most 32 new tokens (``options["max_new_tokens"]``), special tokens
  skipped, the output cut at the first of ``"\\n\\n"``, ``"\\nQuestion"``, ``"Question:"``;
* ROUGE-L F1 (``rouge_score``, ``use_stemmer=False``) against the answer, reported x100 (MUSE's
  tables are in percent). Lower on forget, higher on retain."""
from __future__ import annotations

from typing import Any

from obliviate.evaluation.base import MetricResult, metric
from obliviate.evaluation.metrics.rouge import cut_at_stops, rouge_result

STOPS = ("\n\n", "\nQuestion", "Question:")
MAX_NEW_TOKENS = 32


def knowmem_prompt(question: str, shots: list[dict[str, str]]) -> str:
    """MUSE's few-shot prompt for one question."""
    head = "".join(f"Question: {s['question']}\nAnswer: {s['answer']}\n\n" for s in shots)
    return head + f"Question: {question}\nAnswer: "


@metric("knowmem", needs={"generations"}, higher_is_better=None)
def knowmem(ctx: Any, dataset: str, options: dict[str, Any]) -> MetricResult:
    """MUSE ROUGE-L F1 x100 of few-shot greedy answers (lower on forget, higher on retain)."""
    budget = int(options.get("max_new_tokens", MAX_NEW_TOKENS))
    examples = ctx.examples(dataset)
    prompts = [knowmem_prompt(e.prompt, list(e.meta.get("icl") or [])) for e in examples]
    ids = [list(ctx.tokenizer(p, add_special_tokens=True)["input_ids"]) for p in prompts]
    outputs = [cut_at_stops(g, STOPS) for g in ctx.generate_from(ids, budget)]
    return rouge_result([e.target for e in examples], outputs, prompts, which=1,
                        stemmer=False, scale=100.0, max_new_tokens=budget, unit="percent")
