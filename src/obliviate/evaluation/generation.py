"""The generation engine: batched greedy decoding with left padding and the KV cache."""
from __future__ import annotations

from typing import Any

import torch

from obliviate.data.types import IGNORE_INDEX, TokenizedExample


def prompt_ids(item: TokenizedExample) -> list[int]:
    """The prompt part of a tokenized QA example: its tokens before the first target label."""
    for i, label in enumerate(item.labels):
        if label != IGNORE_INDEX:
            return list(item.input_ids[:i])
    return list(item.input_ids)


def pad_id(tokenizer: Any) -> int:
    """The tokenizer's pad id, else its EOS id, else 0."""
    for name in ("pad_token_id", "eos_token_id"):
        value = getattr(tokenizer, name, None)
        if isinstance(value, int):
            return value
    return 0


@torch.no_grad()
def generate(
    model: Any, tokenizer: Any, prompts: list[list[int]] | list[str],
    max_new_tokens: int = 64, batch_size: int = 8,
) -> list[str]:
    """Greedy continuations of ``prompts`` (token id lists, or strings encoded without special
    tokens), stopping at EOS or after ``max_new_tokens``. Returns the decoded new text only,
    special tokens skipped, in the order of ``prompts``. Prompts are sorted by length so that
    each left-padded batch wastes little."""
    encoded = [p if isinstance(p, list) else
               tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]), reverse=True)
    out: list[str] = [""] * len(encoded)
    was_training = model.training
    model.eval()
    try:
        for start in range(0, len(order), batch_size):
            chunk = order[start:start + batch_size]
            texts = _generate_batch(model, tokenizer, [encoded[i] for i in chunk], max_new_tokens)
            for i, text in zip(chunk, texts):
                out[i] = text
    finally:
        model.train(was_training)
    return out


def _generate_batch(
    model: Any, tokenizer: Any, batch: list[list[int]], max_new_tokens: int
) -> list[str]:
    pad = pad_id(tokenizer)
    width = max(len(p) for p in batch)
    ids = torch.tensor([[pad] * (width - len(p)) + p for p in batch], dtype=torch.long)
    mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in batch], dtype=torch.long)
    device = next(model.parameters()).device
    eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    if eos is None:
        eos = getattr(tokenizer, "eos_token_id", None)
    generated = model.generate(
        input_ids=ids.to(device), attention_mask=mask.to(device), do_sample=False,
        num_beams=1, max_new_tokens=max_new_tokens, pad_token_id=pad, eos_token_id=eos,
        use_cache=True, temperature=None, top_p=None, top_k=None,
    )
    stops = set(eos if isinstance(eos, list) else [eos]) - {None}
    new = [_cut(row, stops) for row in generated[:, width:].cpu().tolist()]
    return [tokenizer.decode(row, skip_special_tokens=True) for row in new]


def _cut(row: list[int], stops: set[int]) -> list[int]:
    """Drop everything from the first stop token on (what generate pads a finished row with)."""
    for i, token in enumerate(row):
        if token in stops:
            return row[:i]
    return row
