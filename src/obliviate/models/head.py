"""Logits only where they are needed.

A causal LM's output layer maps every position to the whole vocabulary (49,152 entries for
SmolLM2), yet a loss or a score reads only the positions that predict a target token, and a
generation step only the last one. :func:`logits_at` runs the model with a hook on its output
layer that hands it the kept hidden states alone, so the ``[B, T, V]`` logits (and their
gradients) are never built: the rows it returns are the same numbers, up to float rounding.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn


def output_layer(model: nn.Module) -> nn.Module | None:
    """The module that turns hidden states into logits (``lm_head``), also under a PEFT or DDP
    wrapper; ``None`` when the model does not say."""
    inner = getattr(model, "module", model)
    getter = getattr(inner, "get_output_embeddings", None)
    try:
        head = getter() if callable(getter) else None
    except (AttributeError, NotImplementedError):
        head = None
    return head if isinstance(head, nn.Module) else None


def logits_at(model: nn.Module, keep: torch.Tensor, **inputs: Any) -> torch.Tensor:
    """``model(**inputs).logits[keep]``: the ``[N, V]`` logits of the ``N`` positions where the
    boolean ``keep`` (``[B, T]``, the shape of ``input_ids``) is true, in row-major order.

    The output layer only sees those positions; models without a known output layer (or whose
    output layer sees another shape) fall back to full logits, then the selection.
    """
    return forward_at(model, keep, **inputs)[0]


def forward_at(model: nn.Module, keep: torch.Tensor, **inputs: Any) -> tuple[torch.Tensor, Any]:
    """:func:`logits_at` and the model's whole output (for its KV cache)."""
    head = output_layer(model)
    fired: list[bool] = []

    def select(_module: nn.Module, args: tuple) -> tuple | None:
        hidden = args[0]
        if fired or hidden.shape[:-1] != keep.shape:
            return None
        fired.append(True)
        return (hidden[keep].unsqueeze(0), *args[1:])

    handle = head.register_forward_pre_hook(select) if head is not None else None
    try:
        output = model(**inputs)
    finally:
        if handle is not None:
            handle.remove()
    logits = output.logits
    return (logits.reshape(-1, logits.shape[-1]) if fired else logits[keep]), output


def last_position(input_ids: torch.Tensor) -> torch.Tensor:
    """``[B, T]`` boolean, true at the last column only (the next-token position of a
    left-padded batch)."""
    keep = torch.zeros_like(input_ids, dtype=torch.bool)
    keep[:, -1] = True
    return keep


def next_token_positions(labels: torch.Tensor, ignore_index: int = -100) -> torch.Tensor:
    """``[B, T]`` boolean, true at position ``t`` when ``labels[:, t + 1]`` is a target: the
    positions whose logits a causal LM loss or score reads."""
    keep = torch.zeros_like(labels, dtype=torch.bool)
    keep[:, :-1] = labels[:, 1:] != ignore_index
    return keep
