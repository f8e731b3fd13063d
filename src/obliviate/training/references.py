"""What a method compares against: reference log-probs computed once, or a frozen copy."""
from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable
from typing import ContextManager

import torch
from torch import nn

from obliviate.data.collate import collate
from obliviate.methods.losses import sequence_logprob
from obliviate.training.lora import AdapterDisabledReference, adapter_is_identity


@torch.no_grad()
def attach_reference_logprobs(model: nn.Module, items: list[dict], pad_id: int,
                              batch_size: int = 8,
                              autocast: Callable[[], ContextManager] = contextlib.nullcontext
                              ) -> None:
    """Add ``ref_logp`` (summed log-prob of the target tokens under ``model``) to each item.

    Runs before training, so NPO and DPO need no second model in memory. ``autocast`` is the
    training's mixed-precision context (``Accelerator.autocast``): computed under it, the
    reference equals the model's own value at step 0 in bf16 / fp16 too.
    """
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    for start in range(0, len(items), batch_size):
        chunk = items[start:start + batch_size]
        batch = {k: v.to(device) for k, v in collate(chunk, pad_id).items()}
        with autocast():
            logits = model(input_ids=batch["input_ids"],
                           attention_mask=batch["attention_mask"]).logits
        logp, _ = sequence_logprob(logits.float(), batch["labels"])
        for item, value in zip(chunk, logp.tolist()):
            item["ref_logp"] = value
    model.train(was_training)


def frozen_copy(model: nn.Module) -> nn.Module:
    """A frozen, eval-mode copy of the original model (KL and RMU compare against it)."""
    return freeze(copy.deepcopy(model))


def freeze(model: nn.Module) -> nn.Module:
    """Eval mode, no gradients; returns ``model``."""
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def reference_model(model: nn.Module) -> nn.Module:
    """The original model for KL / RMU / WHP: with a fresh LoRA adapter, the same model with the
    adapter disabled (no copy, see ``training/lora.py``); otherwise a frozen copy."""
    if adapter_is_identity(model):
        return AdapterDisabledReference(model)
    return frozen_copy(model)
