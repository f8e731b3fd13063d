"""SatImp: gradient ascent reweighted token by token by saturation and importance.

Yang et al. 2025, "Exploring Criteria of Loss Reweighting to Enhance LLM Unlearning" (ICML 2025,
arXiv:2505.11953). Each forget token's ascent term ``log p_t`` is weighted by two constants
(stop-gradient): saturation ``p_t^beta1`` (tokens already unlikely need no more push) and
importance ``(1 - p_t)^beta2`` (tokens the model is certain of carry little of what is to be
forgotten): ``L_forget = mean_t sg[p_t^beta1 (1 - p_t)^beta2] log p_t``
(:func:`obliviate.methods.losses.satimp_loss`), and with a retain batch
``L = forget_weight * L_forget + retain_weight * NLL(retain)``.

Defaults: the paper's beta1 = 5, beta2 = 1 and its forget:retain ratio of 10 (open-unlearning's
``SatImp`` class defaults ``gamma = 1.0``, ``alpha = 0.1``, which its README gives as the paper's
setting; its ``SatImp.yaml`` swaps them to 0.1 / 1.0 for better utility on TOFU).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from obliviate.methods._common import check_fields, forget_parts, logits_of, with_retain
from obliviate.methods.base import LossOutput, Needs, StepInputs, register_method
from obliviate.methods.losses import satimp_loss


@register_method
@dataclass
class SatImp:
    """SatImp (Yang et al. 2025).

    beta1: exponent of the saturation weight p^beta1 (paper: 5.0).
    beta2: exponent of the importance weight (1 - p)^beta2 (paper: 1.0).
    forget_weight: weight of the reweighted forget term (1.0).
    retain_weight: weight of the retain NLL when a retain batch is given (0.1).
    """

    beta1: float = 5.0
    beta2: float = 1.0
    forget_weight: float = 1.0
    retain_weight: float = 0.1

    name: ClassVar[str] = "satimp"
    family: ClassVar[str] = "gradient ascent"
    summary: ClassVar[str] = ("Gradient ascent with each forget token weighted by "
                              "p^beta1 (1-p)^beta2.")
    paper: ClassVar[str] = "Yang et al. 2025, arXiv:2505.11953"
    needs: ClassVar[Needs] = Needs()

    def __post_init__(self) -> None:
        check_fields(self, "beta1", "beta2", non_negative=True)
        check_fields(self, "forget_weight", positive=True)
        check_fields(self, "retain_weight", non_negative=True)

    def setup(self, model: nn.Module, generator: torch.Generator) -> None:
        """Nothing to prepare."""

    def loss(self, model: nn.Module, inputs: StepInputs) -> LossOutput:
        logits = logits_of(model, inputs.forget)
        labels = inputs.forget["labels"]
        forget_loss = satimp_loss(logits, labels, self.beta1, self.beta2)
        parts = forget_parts(forget_loss, logits, labels)
        return with_retain(self.forget_weight * forget_loss, parts, model, inputs,
                           self.retain_weight)
