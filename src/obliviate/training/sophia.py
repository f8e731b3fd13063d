"""Sophia: a second-order clipped stochastic optimizer.

Liu et al. 2023, "Sophia: A Scalable Stochastic Second-order Optimizer for Language Model
Pre-training" (arXiv:2305.14342), the optimizer of SOUL (Jia et al. 2024, "SOUL: Unlocking the
Power of Second-Order Optimization for LLM Unlearning", arXiv:2404.18239). Per parameter entry:

    m <- beta1 * m + (1 - beta1) * g                       every step
    h <- beta2 * h + (1 - beta2) * h_hat                   every ``update_interval`` steps
    theta <- theta * (1 - lr * weight_decay)                decoupled weight decay
    theta <- theta - lr * clip(m / max(rho * h, eps), -1, 1)

``h_hat`` comes from the Gauss-Newton-Bartlett (GNB) estimator (Algorithm 2 of the paper):
labels ``y_hat`` are sampled from the model's own softmax on the current batch, ``L_hat`` is the
mean cross-entropy on them over the ``B`` predicted positions, and ``h_hat = B * grad(L_hat)^2``
(non-negative by construction). Defaults: betas (0.965, 0.99), rho 0.04, update_interval 10 (the
paper's k). As in the reference implementation, ``h`` starts at 0, so the first updates are
clipped sign-momentum steps of size ``lr``. The engine refreshes ``h`` through
:meth:`Sophia.needs_hessian_update` and :meth:`Sophia.update_hessian` (see ``training/hooks.py``).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import nn

from obliviate.data.types import Batch
from obliviate.errors import ConfigError

HessianClosure = Callable[[], tuple[torch.Tensor, int]]


class Sophia(torch.optim.Optimizer):
    """Sophia with the GNB Hessian estimate (Liu et al. 2023, arXiv:2305.14342)."""

    def __init__(self, params: Iterable[nn.Parameter], lr: float = 1e-4,
                 betas: tuple[float, float] = (0.965, 0.99), rho: float = 0.04,
                 weight_decay: float = 0.1, eps: float = 1e-15, update_interval: int = 10):
        betas = tuple(betas)
        if lr <= 0 or rho <= 0 or eps <= 0 or weight_decay < 0:
            raise ConfigError("sophia: lr, rho and eps must be > 0 and weight_decay >= 0")
        if len(betas) != 2 or not all(0 <= b < 1 for b in betas):
            raise ConfigError(f"sophia: betas must be two numbers in [0, 1), got {betas!r}")
        if isinstance(update_interval, bool) or not isinstance(update_interval, int) \
                or update_interval < 1:
            raise ConfigError(f"sophia: update_interval must be an integer >= 1, got "
                              f"{update_interval!r}")
        self.update_interval = update_interval
        super().__init__(params, dict(lr=lr, betas=betas, rho=rho, weight_decay=weight_decay,
                                      eps=eps))

    def _state(self, p: torch.Tensor) -> dict:
        state = self.state[p]
        if not state:
            state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            state["hessian"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        return state

    def needs_hessian_update(self, step: int) -> bool:
        """After optimizer step ``step`` (1-based), refresh h? After steps 1, 1+k, 1+2k, ..."""
        return (step - 1) % self.update_interval == 0

    def update_hessian(self, closure: HessianClosure) -> None:
        """``closure() -> (loss on labels sampled from the model, B)``; h <- EMA of B * grad^2.

        Gradients are cleared before and after, so the training gradients are never mixed in.
        """
        self.zero_grad(set_to_none=True)
        with torch.enable_grad():
            loss, batch_size = closure()
            loss.backward()
        with torch.no_grad():
            for group in self.param_groups:
                beta2 = group["betas"][1]
                for p in group["params"]:
                    if p.grad is not None:
                        h = self._state(p)["hessian"]
                        h.mul_(beta2).addcmul_(p.grad, p.grad, value=(1 - beta2) * batch_size)
        self.zero_grad(set_to_none=True)

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor] | None = None) -> torch.Tensor | None:
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, (beta1, _), rho = group["lr"], group["betas"], group["rho"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self._state(p)
                m, h = state["exp_avg"], state["hessian"]
                p.mul_(1 - lr * group["weight_decay"])
                m.mul_(beta1).add_(p.grad, alpha=1 - beta1)
                ratio = (m / (rho * h).clamp(min=group["eps"])).clamp(-1.0, 1.0)
                p.add_(ratio, alpha=-lr)
        return loss


def gnb_closure(model: nn.Module, batch: Batch) -> HessianClosure:
    """The GNB estimator's closure on ``batch``: sample labels from the model's softmax at every
    attended position, return (mean cross-entropy on them, number of positions B)."""

    def closure() -> tuple[torch.Tensor, int]:
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        mask = batch["attention_mask"].bool()
        picked = logits[mask].float()                       # [B, V]
        with torch.no_grad():
            sampled = torch.multinomial(torch.softmax(picked, dim=-1), 1).squeeze(-1)
        loss = torch.nn.functional.cross_entropy(picked, sampled)
        return loss, int(mask.sum())

    return closure
