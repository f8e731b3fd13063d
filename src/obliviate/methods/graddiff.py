"""Gradient difference: ascend on the forget set, descend on the retain set.

Liu et al. 2022, "Continual Learning and Private Unlearning" (CoLLAs 2022, arXiv:2203.12817);
used as the "Grad. Diff." baseline of TOFU (Maini et al. 2024, arXiv:2401.06121):
``L = -NLL(forget) + retain_weight * NLL(retain)``. TOFU weights both terms equally (1.0).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from obliviate.methods._common import batch_nll, check_fields, require_batch
from obliviate.methods.base import LossOutput, Needs, StepInputs, register_method


@register_method
@dataclass
class GradDiff:
    """Gradient difference (Liu et al. 2022; TOFU, Maini et al. 2024).

    retain_weight: weight of the retain NLL (TOFU default 1.0).
    """

    retain_weight: float = 1.0

    name: ClassVar[str] = "graddiff"
    family: ClassVar[str] = "gradient ascent"
    summary: ClassVar[str] = "Ascend on forget NLL, descend on retain NLL."
    paper: ClassVar[str] = "Liu et al. 2022, arXiv:2203.12817; Maini et al. 2024, arXiv:2401.06121"
    needs: ClassVar[Needs] = Needs(retain=True)

    def __post_init__(self) -> None:
        check_fields(self, "retain_weight", non_negative=True)

    def setup(self, model: nn.Module, generator: torch.Generator) -> None:
        """Nothing to prepare."""

    def loss(self, model: nn.Module, inputs: StepInputs) -> LossOutput:
        retain = require_batch(inputs, "retain", self.name)
        forget_nll = batch_nll(model, inputs.forget)
        retain_nll = batch_nll(model, retain)
        total = -forget_nll + self.retain_weight * retain_nll
        parts = {"forget_loss": -forget_nll.item(), "retain_loss": retain_nll.item(),
                 "forget_nll": forget_nll.item()}
        return LossOutput(total, parts)
