"""RMU or NPO with targeted latent adversarial training (LAT).

Sheshadri et al. 2024, "Latent Adversarial Training Improves Robustness to Persistent Harmful
Behaviors in LLMs" (arXiv:2407.15549), section 4.3 (unlearning). Before every step an adversary
looks for a perturbation ``delta`` of the residual stream at decoder layer ``adv_layer`` that
brings the forgotten knowledge back, i.e. that *minimises* the forget NLL (the paper's "toward"
loss on the forget completions), within a per-token L2 ball of radius ``epsilon``:

``delta* = argmin_{||delta_t||_2 <= epsilon} NLL(forget | h_adv + delta)``,

found by ``adv_steps`` projected steps ``delta <- Proj(delta - adv_lr * sign(grad))`` (the sign
step is Adam's update for a steady gradient; the authors use Adam on delta). The base
unlearning objective is then computed with ``delta*`` added on the forget batch (never on the
retain batch): RMU (Li et al. 2024, arXiv:2403.03218) or NPO (Zhang et al. 2024,
arXiv:2404.05868), by composing an :class:`~obliviate.methods.rmu.RMU` or
:class:`~obliviate.methods.npo.NPO` instance, so their maths lives in one place.

The adversary's gradient is taken with ``torch.autograd.grad`` with respect to ``delta`` only:
no parameter gradient is accumulated and no optimizer step is taken inside the loss.

Defaults: the authors' WMDP RMU-LAT setting, ``epsilon = 2`` (absolute L2 per token),
``adv_steps = 16``, ``adv_lr = 0.05``, adversary one layer below the steered RMU layer (their
config: perturbation at layer 7, RMU at layer 8); RMU's and NPO's own defaults otherwise. For
``base = "npo"`` the adversary defaults to the middle decoder layer.

Needs: a ClassVar, so it covers both bases: retain set, reference model (RMU) and reference
log-probs (NPO). Logged parts: ``forget_nll`` is the clean forget NLL (the adversary's first,
unperturbed pass), ``attacked_forget_nll`` the NLL under the final perturbation.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import ClassVar

import torch
from torch import nn

from obliviate.data.types import Batch
from obliviate.errors import ConfigError
from obliviate.methods._common import (batch_nll, check_fields, check_int, decoder_layers,
                                       renamed_part)
from obliviate.methods.base import LossOutput, Needs, StepInputs, register_method
from obliviate.methods.npo import NPO
from obliviate.methods.rmu import RMU


@contextmanager
def perturbed(model: nn.Module, layer: nn.Module, input_ids: torch.Tensor,
              delta: torch.Tensor) -> Iterator[None]:
    """Add ``delta`` [B, T, D] to ``layer``'s output during the forward passes of ``model``
    whose ``input_ids`` is this very tensor (the forget batch), and in no other pass."""
    state = {"on": False}

    def arm(module, args, kwargs):
        ids = kwargs.get("input_ids", args[0] if args else None)
        state["on"] = ids is input_ids

    def add(module, args, output):
        if not state["on"]:
            return None
        if isinstance(output, tuple):
            return (output[0] + delta.to(output[0].dtype),) + tuple(output[1:])
        return output + delta.to(output.dtype)

    handles = [model.register_forward_pre_hook(arm, with_kwargs=True),
               layer.register_forward_hook(add)]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def project_l2(delta: torch.Tensor, epsilon: float) -> torch.Tensor:
    """Scale every token's vector ``delta[b, t]`` back onto the L2 ball of radius epsilon."""
    norms = delta.norm(dim=-1, keepdim=True).clamp(min=1e-12)
    return delta * (epsilon / norms).clamp(max=1.0)


@register_method
@dataclass
class RMULAT:
    """RMU / NPO + targeted latent adversarial training (Sheshadri et al. 2024).

    base: the unlearning objective trained under attack, "rmu" or "npo".
    layer, steering_coeff, alpha, trainable_layers, trainable_param_pattern: RMU's (base=rmu).
    beta, retain_weight: NPO's (base=npo).
    adv_layer: decoder layer whose output the adversary perturbs; None = layer - 1 (rmu) or
        the middle layer (npo).
    epsilon: L2 radius of the perturbation of each token's hidden state (2.0).
    adv_steps: projected steps of the adversary per training step (16).
    adv_lr: adversary step size (0.05).
    """

    base: str = "rmu"
    layer: int = 7
    steering_coeff: float = 6.5
    alpha: float = 1200.0
    trainable_layers: tuple[int, ...] | None = None
    trainable_param_pattern: str = "mlp.down_proj"
    beta: float = 0.1
    retain_weight: float = 1.0
    adv_layer: int | None = None
    epsilon: float = 2.0
    adv_steps: int = 16
    adv_lr: float = 0.05
    inner: RMU | NPO | None = field(default=None, init=False, repr=False)
    attacked_layer: int | None = field(default=None, init=False, repr=False)

    name: ClassVar[str] = "rmu_lat"
    family: ClassVar[str] = "adversarial"
    summary: ClassVar[str] = ("RMU or NPO trained against a latent adversary that perturbs "
                              "hidden states to bring the forget data back.")
    paper: ClassVar[str] = "Sheshadri et al. 2024, arXiv:2407.15549"
    needs: ClassVar[Needs] = Needs(retain=True, reference_model=True, reference_logprobs=True)

    def __post_init__(self) -> None:
        if self.base not in ("rmu", "npo"):
            raise ConfigError(f"rmu_lat: base must be 'rmu' or 'npo', got {self.base!r}.")
        check_fields(self, "epsilon", "adv_lr", positive=True)
        check_int(self.name, "adv_steps", self.adv_steps, 1)
        if self.adv_layer is not None:
            check_int(self.name, "adv_layer", self.adv_layer, 0)
        if self.base == "rmu":
            self.inner = RMU(layer=self.layer, steering_coeff=self.steering_coeff,
                             alpha=self.alpha, trainable_layers=self.trainable_layers,
                             trainable_param_pattern=self.trainable_param_pattern)
            # Only RMU restricts the trained weights; the engine looks this attribute up.
            self.trainable_parameter_filter = self.inner.trainable_parameter_filter
            if self.adv_layer is not None and self.adv_layer >= self.layer:
                raise ConfigError(f"rmu_lat: adv_layer ({self.adv_layer}) must be below the "
                                  f"steered layer ({self.layer}) to change its activations.")
        else:
            self.inner = NPO(beta=self.beta, retain_weight=self.retain_weight)

    def setup(self, model: nn.Module, generator: torch.Generator) -> None:
        """Set up the base objective and resolve and check the adversary's layer."""
        if getattr(model, "is_gradient_checkpointing", False):
            # The perturbation is added inside a decoder layer; with (reentrant) checkpointing
            # that layer's forward runs without a graph, so the adversary's gradient is lost
            # and the recomputation in backward would not see the perturbation.
            raise ConfigError("rmu_lat cannot run with train.gradient_checkpointing=true: the "
                              "adversary's perturbation lives inside a checkpointed layer and "
                              "would be left out of the gradient. Turn gradient checkpointing "
                              "off (or lower train.batch_size / use LoRA to save memory).")
        self.inner.setup(model, generator)
        depth = len(decoder_layers(model))
        chosen = self.adv_layer
        if chosen is None:
            chosen = max(self.layer - 1, 0) if self.base == "rmu" else depth // 2
        if chosen >= depth:
            raise ConfigError(f"rmu_lat: adv_layer {chosen} is out of range; the model has "
                              f"{depth} decoder layers (0..{depth - 1}).")
        self.attacked_layer = chosen

    def loss(self, model: nn.Module, inputs: StepInputs) -> LossOutput:
        if self.attacked_layer is None:
            raise ConfigError("rmu_lat: setup(model, generator) must run before loss().")
        layer = decoder_layers(model)[self.attacked_layer]
        delta, clean_nll = self._attack(model, layer, inputs.forget)
        with perturbed(model, layer, inputs.forget["input_ids"], delta):
            out = renamed_part(self.inner.loss(model, inputs), "forget_nll", "attacked_forget_nll")
        parts = out.parts
        parts["forget_nll"] = clean_nll
        parts["delta_norm"] = delta.norm(dim=-1).mean().item()
        return LossOutput(out.loss, parts)

    def _attack(self, model: nn.Module, layer: nn.Module, forget: Batch
                ) -> tuple[torch.Tensor, float]:
        """(perturbation [B, T, D] after adv_steps projected steps, clean forget NLL)."""
        ids = forget["input_ids"]
        width = model.config.hidden_size
        real = forget["attention_mask"].unsqueeze(-1).float()
        delta = torch.zeros(*ids.shape, width, device=ids.device, requires_grad=True)
        clean = float("nan")
        for step in range(self.adv_steps):
            with perturbed(model, layer, ids, delta):
                nll = batch_nll(model, forget)
            if step == 0:
                clean = nll.item()
            (grad,) = torch.autograd.grad(nll, delta)
            with torch.no_grad():
                moved = project_l2(delta - self.adv_lr * grad.sign() * real, self.epsilon)
            delta = moved.requires_grad_(True)
        return delta.detach(), clean
