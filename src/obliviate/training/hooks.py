"""What the engine's loop calls around each optimizer step, kept out of the loop itself.

* ``before_clip``: zero the gradients a saliency mask freezes (``training/localize.py``);
* ``after_step``: restore the masked entries exactly, then, for an optimizer that keeps a
  Hessian estimate (Sophia: ``needs_hessian_update(step)`` / ``update_hessian(closure)``),
  refresh it with the GNB estimator on the step's forget batch (``training/sophia.py``).
"""
from __future__ import annotations

import torch
from torch import nn

from obliviate.data.types import Batch
from obliviate.training.localize import SaliencyMask
from obliviate.training.sophia import gnb_closure


class StepHooks:
    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer,
                 mask: SaliencyMask | None = None):
        self.model, self.optimizer, self.mask = model, optimizer, mask

    def before_clip(self) -> None:
        if self.mask is not None:
            self.mask.zero_masked_grads()

    def after_step(self, step: int, forget: Batch) -> None:
        if self.mask is not None:
            self.mask.restore()
        wants = getattr(self.optimizer, "needs_hessian_update", None)
        if wants is not None and wants(step):
            self.optimizer.update_hessian(gnb_closure(self.model, forget))
