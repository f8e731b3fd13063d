"""SimNPO: reference-free, length-normalised NPO.

Fan et al. 2024, "Simplicity Prevails: Rethinking Negative Preference Optimization for LLM
Unlearning" (arXiv:2410.07163), eq. (5):
``L = forget_weight * mean -(2/beta) log sigmoid(-(beta/|y|) log pi(y|x) - gamma)
      + retain_weight * NLL(retain)``.
Dropping NPO's reference model removes its bias towards short forget answers; no reference
log-probs are needed.

Defaults are those of the authors' TOFU forget05 run (README of OPTML-Group/Unlearn-Simple:
``beta=2.5``, ``gamma=0.0``, ``npo_coeff=0.1375`` -> forget_weight, ``grad_diff_coeff=1.0`` ->
retain_weight; for forget10 they used beta=4.5, forget_weight=0.125). The retain term is used
whenever the engine passes a retain batch; set retain_weight = 0 to switch it off.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from obliviate.methods._common import check_fields, logits_of, sequence_stats, with_retain
from obliviate.methods.base import LossOutput, Needs, StepInputs, register_method
from obliviate.methods.losses import simnpo_loss


@register_method
@dataclass
class SimNPO:
    """SimNPO (Fan et al. 2024).

    beta: inverse temperature (TOFU forget05: 2.5).
    gamma: reward margin (TOFU: 0.0).
    forget_weight: weight of the SimNPO term (TOFU forget05: 0.1375).
    retain_weight: weight of the retain NLL when a retain batch is given (TOFU: 1.0).
    """

    beta: float = 2.5
    gamma: float = 0.0
    forget_weight: float = 0.1375
    retain_weight: float = 1.0

    name: ClassVar[str] = "simnpo"
    family: ClassVar[str] = "preference optimization"
    summary: ClassVar[str] = "Reference-free NPO on the length-normalised forget log-likelihood."
    paper: ClassVar[str] = "Fan et al. 2024, arXiv:2410.07163"
    needs: ClassVar[Needs] = Needs()

    def __post_init__(self) -> None:
        check_fields(self, "beta", positive=True)
        check_fields(self, "gamma", non_negative=True)
        check_fields(self, "forget_weight", positive=True)
        check_fields(self, "retain_weight", non_negative=True)

    def setup(self, model: nn.Module, generator: torch.Generator) -> None:
        """Nothing to prepare."""

    def loss(self, model: nn.Module, inputs: StepInputs) -> LossOutput:
        logp, n_tokens, forget_nll = sequence_stats(logits_of(model, inputs.forget),
                                                    inputs.forget["labels"])
        forget_loss = simnpo_loss(logp, n_tokens, self.beta, self.gamma)
        parts = {"forget_loss": forget_loss.item(), "forget_nll": forget_nll.item()}
        return with_retain(self.forget_weight * forget_loss, parts, model, inputs,
                           self.retain_weight)
