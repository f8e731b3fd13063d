"""The generation engine: batched greedy decoding with left padding and the KV cache.

Prompts are sorted by length so that a left-padded batch wastes little; the prompt pass computes
logits at its last position only; a row leaves the batch (and its KV cache rows are dropped) as
soon as it emits a stop token, so a batch costs what its unfinished rows cost, not 32 rows until
the longest answer ends. Greedy decoding picks ``argmax`` at every step, as ``do_sample=False``
in Hugging Face ``generate`` does.
"""
from __future__ import annotations

import inspect
from typing import Any

import torch

from obliviate.data.types import IGNORE_INDEX, TokenizedExample
from obliviate.models.head import forward_at, last_position


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


def stop_ids(model: Any, tokenizer: Any) -> set[int]:
    """The ids that end an answer: the model's generation config EOS (one or a list), else the
    tokenizer's EOS."""
    eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    if eos is None:
        eos = getattr(tokenizer, "eos_token_id", None)
    return {int(e) for e in (eos if isinstance(eos, (list, tuple)) else [eos]) if e is not None}


@torch.no_grad()
def generate(
    model: Any, tokenizer: Any, prompts: list[list[int]] | list[str],
    max_new_tokens: int = 64, batch_size: int = 8,
) -> list[str]:
    """Greedy continuations of ``prompts`` (token id lists, or strings encoded without special
    tokens), stopping at EOS or after ``max_new_tokens``. Returns the decoded new text only,
    special tokens skipped, in the order of ``prompts``."""
    encoded = [p if isinstance(p, list) else
               tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]), reverse=True)
    out: list[str] = [""] * len(encoded)
    pad, stops = pad_id(tokenizer), stop_ids(model, tokenizer)
    was_training = model.training
    model.eval()
    try:
        for start in range(0, len(order), batch_size):
            chunk = order[start:start + batch_size]
            rows = greedy_tokens(model, [encoded[i] for i in chunk], max_new_tokens, pad, stops)
            for i, row in zip(chunk, rows):
                out[i] = tokenizer.decode(row, skip_special_tokens=True)
    finally:
        model.train(was_training)
    return out


@torch.no_grad()
def greedy_tokens(
    model: Any, batch: list[list[int]], max_new_tokens: int, pad: int, stops: set[int]
) -> list[list[int]]:
    """The greedy new tokens of each prompt in ``batch``, each cut before its first stop token."""
    device = next(model.parameters()).device
    width = max(len(p) for p in batch)
    ids = torch.tensor([[pad] * (width - len(p)) + p for p in batch], device=device)
    mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in batch], device=device)
    stop = torch.tensor(sorted(stops) or [-1], device=device)
    out: list[list[int]] = [[] for _ in batch]
    alive = torch.arange(len(batch), device=device)
    cache_name, cache = _cache_argument(model), None
    for step in range(max_new_tokens):
        positions = (mask.cumsum(-1) - 1).clamp(min=0)[:, -ids.shape[1]:]
        inputs = {"input_ids": ids, "attention_mask": mask, "position_ids": positions,
                  "use_cache": True}
        if cache is not None:
            inputs[cache_name] = cache
        logits, cache = _step(model, inputs, cache_name)
        token = logits.argmax(-1)
        finished = torch.isin(token, stop)
        for row, tok, done in zip(alive.tolist(), token.tolist(), finished.tolist()):
            if not done:
                out[row].append(tok)
        going = ~finished
        if step + 1 == max_new_tokens or not bool(going.any()):
            break
        if not bool(going.all()):
            cache = _keep_rows(cache, going.nonzero()[:, 0])
            alive, token, mask = alive[going], token[going], mask[going]
        ids = token[:, None]
        mask = torch.cat([mask, mask.new_ones(mask.shape[0], 1)], dim=1)
    return out


def _step(model: Any, inputs: dict[str, Any], cache_name: str) -> tuple[torch.Tensor, Any]:
    """One forward pass: the next-token logits ``[B, V]`` and the updated cache."""
    keep = last_position(inputs["input_ids"])
    logits, output = forward_at(model, keep, **inputs)
    cache = getattr(output, cache_name, None)
    if cache is None:
        cache = getattr(output, "past_key_values", None)
    return logits.float(), cache


def _keep_rows(cache: Any, index: torch.Tensor) -> Any:
    """The KV cache restricted to batch rows ``index``."""
    if hasattr(cache, "batch_select_indices"):
        cache.batch_select_indices(index)
        return cache
    return tuple(tuple(t[index] for t in layer) for layer in cache)  # legacy tuple cache


def _cache_argument(model: Any) -> str:
    """The forward argument that takes the KV cache: ``cache`` (transformers >= 5.2x) or
    ``past_key_values`` (earlier)."""
    params = inspect.signature(model.forward).parameters
    return "cache" if "cache" in params else "past_key_values"
