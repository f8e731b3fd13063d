"""Influence-function unlearning: one Newton step that removes the forget points.

Koh and Liang 2017, "Understanding Black-box Predictions via Influence Functions" (ICML 2017,
arXiv:1703.04730): up-weighting a training point z by epsilon moves the optimum by
``-epsilon H^{-1} grad L(z)``. Removing the forget set from n training points is epsilon = -1/n
for each of them, so

    theta_new = theta + (1/n) H^{-1} sum_{z in forget} grad L(z) = theta + weight * H^{-1} g,

with ``g`` the mean forget-example gradient of the NLL, ``weight = |forget| / n`` (default: n =
|forget| + |retain|, the forget and retain sets standing for the training set) and ``H`` the
Hessian of the retain NLL, which approximates the loss the model is left to minimise. The step
raises the forget loss to first order (it is a Newton step *away* from the forget points).

The inverse-Hessian-vector product is LiSSA (Hessian-vector products by double backward on
retain batches, cycled) or the diagonal empirical Fisher of the retain set,
``F = mean over retain examples of grad NLL(z) * grad NLL(z)`` (element-wise), from one gradient
per *example* (the square of a batch-mean gradient would underestimate it by up to the batch
size and make the step too large); see ``training/ihvp.py`` for the exact recursions. Cost grows with the number of trainable
parameters: combine with ``localize.modules`` (or LoRA) on real models. A one-shot method: it
defines ``apply`` instead of ``loss`` (see ``OneShotMethod`` in ``methods/base.py``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn
from torch.nn.attention import SDPBackend, sdpa_kernel

from obliviate.errors import ConfigError
from obliviate.methods._common import batch_nll, check_fields, check_int, check_number
from obliviate.methods.base import Needs, OneShotContext, register_method
from obliviate.training import ihvp


@register_method
@dataclass
class Influence:
    """Influence-function removal (Koh and Liang 2017, arXiv:1703.04730).

    solver: "lissa" (stochastic Neumann series) or "diagonal" (empirical Fisher).
    weight: the 1/n factor times |forget|; None = |forget| / (|forget| + |retain|).
    lissa_depth: LiSSA recursion steps (one retain batch each).
    lissa_scale: LiSSA scale; must exceed half of H's largest eigenvalue (Koh and Liang: 10-25).
    damping: LiSSA damping (adds lissa_scale * damping to H), or the diagonal's additive term.
    """

    solver: str = "lissa"
    weight: float | None = None
    lissa_depth: int = 100
    lissa_scale: float = 10.0
    damping: float = 0.01

    name: ClassVar[str] = "influence"
    family: ClassVar[str] = "influence functions"
    summary: ClassVar[str] = "One Newton step theta + (1/n) H^-1 grad L_forget (LiSSA or diagonal)."
    paper: ClassVar[str] = "Koh and Liang 2017, arXiv:1703.04730"
    needs: ClassVar[Needs] = Needs(retain=True)

    def __post_init__(self) -> None:
        if self.solver not in ("lissa", "diagonal"):
            raise ConfigError(f"influence: solver must be 'lissa' or 'diagonal', got {self.solver!r}.")
        if self.weight is not None:
            self.weight = check_number(self.name, "weight", self.weight, positive=True)
        check_int(self.name, "lissa_depth", self.lissa_depth, 1)
        check_fields(self, "lissa_scale", positive=True)
        check_fields(self, "damping", non_negative=True)

    def setup(self, model: nn.Module, generator: torch.Generator) -> None:
        """Nothing to prepare."""

    def apply(self, model: nn.Module, ctx: OneShotContext) -> dict[str, float]:
        if ctx.retain_batches is None:
            raise ConfigError("influence needs a retain set (its Hessian): set data.retain.")
        params = list(ctx.params.values())
        was_training = model.training
        model.eval()
        with torch.enable_grad(), sdpa_kernel(SDPBackend.MATH):  # double backward needs MATH
            g = _mean_gradient(model, params, ctx.forget_batches())
            step = self._inverse_hvp(model, params, g, list(ctx.retain_batches()))
        weight = self.weight or ctx.n_forget / (ctx.n_forget + ctx.n_retain)
        with torch.no_grad():
            for p, d in zip(params, step):
                p.add_(d.to(p), alpha=weight)
        model.train(was_training)
        norm = torch.sqrt(sum((d.float() ** 2).sum() for d in step)).item()
        return {"weight": weight, "update_norm": weight * norm}

    def _inverse_hvp(self, model, params, g, retain) -> list[torch.Tensor]:
        if self.solver == "diagonal":
            return ihvp.diagonal(g, empirical_fisher(model, params, retain), self.damping)

        def hvp(v, j):
            batch = retain[j % len(retain)]
            return ihvp.hvp_on(lambda: batch_nll(model, batch), params, v)

        return ihvp.lissa(hvp, g, self.lissa_depth, self.lissa_scale, self.damping)


def _mean_gradient(model, params, batches) -> list[torch.Tensor]:
    """Mean over batches of the gradient of the batch's NLL, weighted by batch size."""
    total, rows = [torch.zeros_like(p) for p in params], 0
    for batch in batches:
        n = batch["input_ids"].shape[0]
        loss = batch_nll(model, batch)
        for t, gr in zip(total, ihvp.gradient(loss, params)):
            t.add_(gr, alpha=n)
        rows += n
    return [t / max(rows, 1) for t in total]


def _rows(batch) -> list[dict[str, torch.Tensor]]:
    """The examples of a padded batch as one-row batches."""
    n = batch["input_ids"].shape[0]
    return [{k: batch[k][i:i + 1] for k in ("input_ids", "attention_mask", "labels")}
            for i in range(n)]


def empirical_fisher(model, params, batches) -> list[torch.Tensor]:
    """Diagonal empirical Fisher: the mean over examples of the squared per-example gradient of
    the example's mean token NLL (one backward pass per example)."""
    fisher, count = [torch.zeros_like(p) for p in params], 0
    for batch in batches:
        for row in _rows(batch):
            loss = batch_nll(model, row)
            for f, gr in zip(fisher, ihvp.gradient(loss, params)):
                f.add_(gr * gr)
            count += 1
    return [f / max(count, 1) for f in fisher]
