"""Localisation, usable with any method: which weights may change.

Two tools, both configured by ``localize:`` (:class:`obliviate.config.LocalizeConfig`):

* a parameter-name regular expression (``localize.modules``), applied as a ``param_filter``:
  parameters that do not match are frozen and never reach the optimizer;
* a SalUn gradient-saliency mask (Fan et al. 2024, "SalUn: Empowering Machine Unlearning via
  Gradient-based Weight Saliency", arXiv:2310.12508): the gradient of the forget NLL over the
  whole forget set is computed once before training; with one GLOBAL threshold across all
  selected parameters (as in SalUn's code), the fraction ``saliency`` of entries with the largest
  ``|grad|`` may change. Entries with a zero gradient are never salient, so ties at a zero
  threshold keep fewer than the fraction. Every step the engine zeroes the other entries'
  gradients before clipping and, after the optimizer step, writes their saved values back, so
  they stay bit-identical even under decoupled weight decay or Sophia/Adam state.
"""
from __future__ import annotations

import re
from collections.abc import Callable

import torch
from torch import nn

from obliviate.data.collate import collate
from obliviate.data.types import TokenizedExample
from obliviate.methods.losses import masked_nll
from obliviate.training.batches import as_items


def name_filter(pattern: str | None) -> Callable[[str], bool] | None:
    """``param_filter`` keeping parameters whose name contains a match of ``pattern``."""
    if pattern is None:
        return None
    compiled = re.compile(pattern)
    return lambda name: compiled.search(name) is not None


class SaliencyMask:
    """Per-parameter boolean masks (True = may change) and the saved values of the rest."""

    def __init__(self, params: list[nn.Parameter], masks: list[torch.Tensor]):
        self.items = [(p, m, p.detach()[~m].clone()) for p, m in zip(params, masks)]

    @property
    def kept(self) -> int:
        return sum(int(m.sum()) for _, m, _ in self.items)

    def zero_masked_grads(self) -> None:
        """Zero the gradient of every non-salient entry (call before clipping)."""
        for p, m, _ in self.items:
            if p.grad is not None:
                p.grad.masked_fill_(~m, 0)

    @torch.no_grad()
    def restore(self) -> None:
        """Write the saved values of the non-salient entries back (call after each step)."""
        for p, m, frozen in self.items:
            p[~m] = frozen


def saliency_mask(model: nn.Module, params: list[nn.Parameter], forget: list[TokenizedExample],
                  pad_id: int, batch_size: int, fraction: float) -> SaliencyMask:
    """Compute SalUn's mask from the forget-NLL gradient over the whole forget set."""
    grads = forget_gradient(model, params, forget, pad_id, batch_size)
    return SaliencyMask(params, top_fraction(grads, fraction))


def top_fraction(grads: list[torch.Tensor], fraction: float) -> list[torch.Tensor]:
    """Masks of the entries with ``|g| >= t`` and ``g != 0``, with one global threshold ``t``:
    the ``round(fraction * N)``-th largest ``|g|`` over all ``N`` entries of all tensors."""
    scores = torch.cat([g.detach().abs().flatten().float().cpu() for g in grads])
    k = max(1, round(fraction * scores.numel()))
    threshold = torch.kthvalue(scores, scores.numel() - k + 1).values
    return [(g.abs() >= threshold.to(g.device)) & (g != 0) for g in grads]


def forget_gradient(model: nn.Module, params: list[nn.Parameter],
                    forget: list[TokenizedExample], pad_id: int, batch_size: int
                    ) -> list[torch.Tensor]:
    """Gradient of the forget NLL (each batch weighted by its share of the examples), eval mode."""
    was_training = model.training
    model.eval()
    model.zero_grad(set_to_none=True)
    device = params[0].device
    items = as_items(forget)
    for start in range(0, len(items), batch_size):
        chunk = items[start:start + batch_size]
        batch = {k: v.to(device) for k, v in collate(chunk, pad_id).items()}
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        (masked_nll(logits, batch["labels"]) * len(chunk) / len(items)).backward()
    grads = [p.grad.detach().clone() if p.grad is not None else torch.zeros_like(p)
             for p in params]
    model.zero_grad(set_to_none=True)
    model.train(was_training)
    return grads
