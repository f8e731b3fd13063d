"""Running a one-shot method (``apply`` instead of ``loss``, see ``methods/base.py``).

Builds the :class:`~obliviate.methods.base.OneShotContext` (trainable parameters by name, forget
and retain passes on the model's device, a retain-NLL function, the reinforced and reference
models) and calls ``method.apply`` once.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator

import torch
from torch import nn

from obliviate.data.collate import collate
from obliviate.data.types import Batch, TokenizedExample
from obliviate.methods.base import OneShotContext
from obliviate.methods.losses import masked_nll
from obliviate.training.batches import as_items


def batch_stream(examples: list[TokenizedExample] | None, pad_id: int, batch_size: int,
                 device: torch.device) -> Callable[[], Iterator[Batch]] | None:
    """A function giving a fresh, in-order pass over ``examples`` as device batches."""
    if not examples:
        return None
    items = as_items(examples)

    def stream() -> Iterator[Batch]:
        for start in range(0, len(items), batch_size):
            batch = collate(items[start:start + batch_size], pad_id)
            yield {k: v.to(device) for k, v in batch.items()}

    return stream


def nll_function(stream: Callable[[], Iterator[Batch]] | None
                 ) -> Callable[[nn.Module], float] | None:
    """Mean token NLL over a stream (token-weighted across batches), eval mode, no graph."""
    if stream is None:
        return None

    @torch.no_grad()
    def nll(model: nn.Module) -> float:
        was_training = model.training
        model.eval()
        total, count = 0.0, 0
        for batch in stream():
            logits = model(input_ids=batch["input_ids"],
                           attention_mask=batch["attention_mask"]).logits
            n = int((batch["labels"][:, 1:] != -100).sum())
            total += masked_nll(logits.float(), batch["labels"]).item() * n
            count += n
        model.train(was_training)
        return total / max(count, 1)

    return nll


def run_one_shot(method, model: nn.Module, data, pad_id: int, batch_size: int,
                 reinforced: nn.Module | None, reference: nn.Module | None) -> dict[str, float]:
    device = next(model.parameters()).device
    retain = batch_stream(data.retain, pad_id, batch_size, device)
    ctx = OneShotContext(
        params={n: p for n, p in model.named_parameters() if p.requires_grad},
        forget_batches=batch_stream(data.forget, pad_id, batch_size, device),
        retain_batches=retain, retain_nll=nll_function(retain), reinforced=reinforced,
        reference=reference, n_forget=len(data.forget), n_retain=len(data.retain or []))
    return dict(method.apply(model, ctx))
