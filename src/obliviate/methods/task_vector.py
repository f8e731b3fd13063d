"""Task-vector negation ("forgetting via negation").

Ilharco et al. 2023, "Editing Models with Task Arithmetic" (ICLR 2023, arXiv:2212.04089): fine-tune
a copy of the model on the forget data (``theta_ft``), take the task vector
``tau = theta_ft - theta`` and subtract it: ``theta_new = theta - scale * tau``. The copy is the
engine's reinforced model (``needs.reinforced_model``: ``reinforce_steps`` SFT steps at
``reinforce_lr`` on the forget set), so only the trainable parameters (after ``localize`` /
LoRA) move.

With LoRA the fresh adapter starts at B = 0, so ``tau`` is the fine-tuned adapter's update
``s * B_ft A_ft``, and ``theta - scale * tau`` is the same adapter with ``B = -scale * B_ft``:
the method copies ``A_ft`` and the negated, scaled ``B_ft`` into the model's adapter.

``search=true`` tries every value of ``grid`` and keeps the largest whose retain NLL stays within
``retain_tolerance`` times the original retain NLL (needs a retain set); if none does, the
smallest grid value is kept and ``within_tolerance`` is 0 in the result. A one-shot method: it
defines ``apply`` instead of ``loss`` (see ``OneShotMethod`` in ``methods/base.py``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from obliviate.errors import ConfigError
from obliviate.methods._common import check_fields, check_flag, check_int, check_number
from obliviate.methods.base import Needs, OneShotContext, register_method

_LORA_A = ("lora_A", "lora_embedding_A")
_LORA_B = ("lora_B", "lora_embedding_B")


def _kind(name: str) -> str:
    if any(k in name for k in _LORA_A):
        return "A"
    return "B" if any(k in name for k in _LORA_B) else "dense"


@register_method
@dataclass
class TaskVector:
    """Task-vector negation (Ilharco et al. 2023, arXiv:2212.04089).

    scale: lambda in ``theta - lambda * tau`` (paper: tuned on held-out data; 1.0 here).
    search: choose lambda from ``grid`` by the retain-NLL tolerance instead of ``scale``.
    grid: the lambdas tried by the search.
    retain_tolerance: largest allowed ratio retain NLL after / before (1.1 = 10 % worse).
    reinforce_steps, reinforce_lr: the fine-tuning on the forget data that gives ``theta_ft``.
    """

    scale: float = 1.0
    search: bool = False
    grid: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0)
    retain_tolerance: float = 1.1
    reinforce_steps: int = 50
    reinforce_lr: float = 1e-5

    name: ClassVar[str] = "task_vector"
    family: ClassVar[str] = "model editing"
    summary: ClassVar[str] = "Fine-tune on the forget data, subtract the scaled weight difference."
    paper: ClassVar[str] = "Ilharco et al. 2023, arXiv:2212.04089"
    needs: ClassVar[Needs] = Needs(reinforced_model=True)

    def __post_init__(self) -> None:
        check_fields(self, "scale", "retain_tolerance", "reinforce_lr", positive=True)
        check_flag(self.name, "search", self.search)
        check_int(self.name, "reinforce_steps", self.reinforce_steps, 1)
        grid = tuple(self.grid) if isinstance(self.grid, (list, tuple)) else ()
        if not grid:
            raise ConfigError(f"task_vector: grid must be a non-empty list, got {self.grid!r}.")
        self.grid = tuple(sorted(check_number(self.name, "grid", g, positive=True) for g in grid))

    def setup(self, model: nn.Module, generator: torch.Generator) -> None:
        """Nothing to prepare."""

    @torch.no_grad()
    def apply(self, model: nn.Module, ctx: OneShotContext) -> dict[str, float]:
        if ctx.reinforced is None:
            raise ConfigError("task_vector needs the reinforced (fine-tuned) model.")
        tuned = dict(ctx.reinforced.named_parameters())
        original = {n: p.detach().clone() for n, p in ctx.params.items()}
        if any(_kind(n) == "B" and original[n].any() for n in original):
            raise ConfigError("task_vector with LoRA needs a fresh adapter (B = 0) to negate.")
        if not self.search:
            self._set(ctx.params, original, tuned, self.scale)
            return {"scale": self.scale}
        if ctx.retain_nll is None:
            raise ConfigError("task_vector: search=true needs a retain set (data.retain).")
        return self._search(model, ctx, original, tuned)

    def _search(self, model, ctx, original, tuned) -> dict[str, float]:
        base = ctx.retain_nll(model)
        limit = self.retain_tolerance * base
        tried = {}
        for lam in self.grid:
            self._set(ctx.params, original, tuned, lam)
            tried[lam] = ctx.retain_nll(model)
        good = [lam for lam in self.grid if tried[lam] <= limit]
        chosen = max(good) if good else self.grid[0]
        self._set(ctx.params, original, tuned, chosen)
        return {"scale": chosen, "retain_nll_before": base, "retain_nll_after": tried[chosen],
                "within_tolerance": float(bool(good)),
                **{f"retain_nll_at_{lam:g}": v for lam, v in tried.items()}}

    @staticmethod
    def _set(params: dict[str, nn.Parameter], original: dict[str, torch.Tensor],
             tuned: dict[str, nn.Parameter], lam: float) -> None:
        """theta - lam * (theta_ft - theta); for LoRA: A <- A_ft, B <- -lam * B_ft (the same
        formula, since ``apply`` only accepts a fresh adapter, B = 0)."""
        for name, p in params.items():
            ft = tuned[name].detach().to(p)
            if _kind(name) == "A":
                p.copy_(ft)
            else:
                p.copy_(original[name] - lam * (ft - original[name]))
