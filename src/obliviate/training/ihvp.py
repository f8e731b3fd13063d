"""Inverse-Hessian-vector products for influence-function unlearning.

Vectors are lists of tensors shaped like the parameters they belong to.

LiSSA (Agarwal, Bullins and Hazan 2017, "Second-Order Stochastic Optimization for Machine
Learning in Linear Time", arXiv:1602.03943), in the damped and scaled form of Koh and Liang 2017
(arXiv:1703.04730, their ``get_inverse_hvp_lissa``):

    h_0 = g,    h_j = g + (1 - damping) * h_{j-1} - (H_j h_{j-1}) / scale,    j = 1 .. depth
    result = h_depth / scale

where ``H_j`` is the Hessian on the j-th (stochastic) batch. The fixed point is
``h = (damping I + H / scale)^{-1} g``, so the result converges to ``(H + scale * damping I)^{-1} g``
(= ``H^{-1} g`` for damping 0) when every eigenvalue ``lambda`` of H satisfies
``0 < lambda / scale + damping < 2``: ``scale`` must exceed half the largest eigenvalue, and H must
be positive definite (damping adds ``scale * damping`` to every eigenvalue).

Diagonal: ``H ~ F + damping`` with ``F`` the diagonal empirical Fisher, the mean over batches of
the squared batch gradient; the product is ``g / (F + damping)`` element-wise.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from obliviate.errors import TrainingError

Vector = list[torch.Tensor]
HVP = Callable[[Vector, int], Vector]


def lissa(hvp: HVP, g: Sequence[torch.Tensor], depth: int, scale: float,
          damping: float) -> Vector:
    """``(H + scale * damping)^{-1} g`` by the LiSSA recursion; ``hvp(v, j)`` returns ``H_j v``."""
    h = [x.detach().clone() for x in g]
    for j in range(depth):
        hv = hvp(h, j)
        h = [gi + (1 - damping) * hi - hvi / scale for gi, hi, hvi in zip(g, h, hv)]
        if not all(torch.isfinite(x).all() for x in h):
            raise TrainingError(f"the LiSSA recursion diverged at step {j + 1}; raise "
                                "method_args.lissa_scale or method_args.damping.")
    return [hi / scale for hi in h]


def diagonal(g: Sequence[torch.Tensor], fisher: Sequence[torch.Tensor], damping: float) -> Vector:
    """``g / (F + damping)`` element-wise."""
    return [gi / (fi + damping) for gi, fi in zip(g, fisher)]


def hvp_on(loss_fn: Callable[[], torch.Tensor], params: Sequence[torch.nn.Parameter],
           v: Sequence[torch.Tensor]) -> Vector:
    """``H v`` for the Hessian of ``loss_fn()`` in ``params``, by double backward (Pearlmutter)."""
    grads = torch.autograd.grad(loss_fn(), params, create_graph=True, allow_unused=True)
    pairs = [(gr, vi) for gr, vi in zip(grads, v) if gr is not None]
    dot = sum((gr * vi).sum() for gr, vi in pairs)
    hv = torch.autograd.grad(dot, params, allow_unused=True)
    return [h.detach() if h is not None else torch.zeros_like(p) for h, p in zip(hv, params)]


def gradient(loss: torch.Tensor, params: Sequence[torch.nn.Parameter]) -> Vector:
    grads = torch.autograd.grad(loss, params, allow_unused=True)
    return [g.detach() if g is not None else torch.zeros_like(p) for g, p in zip(grads, params)]
