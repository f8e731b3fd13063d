"""Gradient ascent on the forget set.

Jang et al. 2023, "Knowledge Unlearning for Mitigating Privacy Risks in Language Models"
(ACL 2023, arXiv:2210.01504): maximise the NLL of the forget sequences, i.e. minimise
``L = -NLL(forget)``. No retain term, so utility usually collapses after a few epochs; it is the
baseline every other method is compared against.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from obliviate.methods._common import batch_nll
from obliviate.methods.base import LossOutput, Needs, StepInputs, register_method


@register_method
@dataclass
class GradientAscent:
    """Gradient ascent (Jang et al. 2023). No hyper-parameters beyond the optimiser's."""

    name: ClassVar[str] = "ga"
    family: ClassVar[str] = "gradient ascent"
    summary: ClassVar[str] = "Maximise the forget-set NLL (loss = -NLL(forget))."
    paper: ClassVar[str] = "Jang et al. 2023, arXiv:2210.01504"
    needs: ClassVar[Needs] = Needs()

    def setup(self, model: nn.Module, generator: torch.Generator) -> None:
        """Nothing to prepare."""

    def loss(self, model: nn.Module, inputs: StepInputs) -> LossOutput:
        nll = batch_nll(model, inputs.forget)
        return LossOutput(-nll, {"forget_loss": -nll.item(), "forget_nll": nll.item()})
