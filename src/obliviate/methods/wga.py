"""Weighted gradient ascent (WGA).

Wang et al. 2025, "Rethinking LLM Unlearning Objectives: A Gradient Perspective and Go Beyond"
(ICLR 2025, arXiv:2502.19301). Plain gradient ascent pushes hardest on the tokens that are
already unlikely (the gradient of ``log p`` grows as ``1/p``), which is what makes it diverge.
WGA weights each forget token's ascent term by its own probability raised to ``beta``, held
constant: ``L_forget = mean_t sg[p_t^beta] * log p_t`` (:func:`obliviate.methods.losses.wga_loss`),
so a token's push fades once it is forgotten. With a retain batch:
``L = L_forget + retain_weight * NLL(retain)``.

Defaults: beta = 1.0 and retain_weight = 1.0 (the authors' WGA setting in open-unlearning:
``beta=1.0, gamma=1.0, alpha=1.0``). ``beta = 0`` is plain gradient ascent.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from obliviate.methods._common import check_fields, forget_parts, logits_of, with_retain
from obliviate.methods.base import LossOutput, Needs, StepInputs, register_method
from obliviate.methods.losses import wga_loss


@register_method
@dataclass
class WGA:
    """Weighted gradient ascent (Wang et al. 2025).

    beta: exponent of the detached token-probability weight p^beta (paper: 1.0; 0 = plain GA).
    retain_weight: weight of the retain NLL when a retain batch is given (1.0).
    """

    beta: float = 1.0
    retain_weight: float = 1.0

    name: ClassVar[str] = "wga"
    family: ClassVar[str] = "gradient ascent"
    summary: ClassVar[str] = "Gradient ascent with each forget token weighted by p(token)^beta."
    paper: ClassVar[str] = "Wang et al. 2025, arXiv:2502.19301"
    needs: ClassVar[Needs] = Needs()

    def __post_init__(self) -> None:
        check_fields(self, "beta", "retain_weight", non_negative=True)

    def setup(self, model: nn.Module, generator: torch.Generator) -> None:
        """Nothing to prepare."""

    def loss(self, model: nn.Module, inputs: StepInputs) -> LossOutput:
        logits = logits_of(model, inputs.forget)
        labels = inputs.forget["labels"]
        forget_loss = wga_loss(logits, labels, self.beta)
        parts = forget_parts(forget_loss, logits, labels)
        return with_retain(forget_loss, parts, model, inputs, self.retain_weight)
