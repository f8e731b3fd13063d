"""Fine-tune on refusals ("I don't know").

The "IDK" baseline of TOFU (Maini et al. 2024, arXiv:2401.06121): relabel each forget question
with a refusal sentence and minimise its NLL, plus the retain NLL:
``L = NLL(idk) + retain_weight * NLL(retain)``. TOFU weights both terms equally (1.0). The retain
term is used whenever the engine passes a retain batch.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from obliviate.methods._common import batch_nll, check_fields, require_batch, with_retain
from obliviate.methods.base import LossOutput, Needs, StepInputs, register_method


@register_method
@dataclass
class IDK:
    """Refusal fine-tuning (TOFU, Maini et al. 2024).

    retain_weight: weight of the retain NLL when a retain batch is given (TOFU: 1.0).
    """

    retain_weight: float = 1.0

    name: ClassVar[str] = "idk"
    family: ClassVar[str] = "refusal"
    summary: ClassVar[str] = "Fine-tune forget questions to refusal answers (NLL on 'I don't know')."
    paper: ClassVar[str] = "Maini et al. 2024, arXiv:2401.06121"
    needs: ClassVar[Needs] = Needs(refusals=True)

    def __post_init__(self) -> None:
        check_fields(self, "retain_weight", non_negative=True)

    def setup(self, model: nn.Module, generator: torch.Generator) -> None:
        """Nothing to prepare."""

    def loss(self, model: nn.Module, inputs: StepInputs) -> LossOutput:
        idk = require_batch(inputs, "idk", self.name)
        idk_nll = batch_nll(model, idk)
        with torch.no_grad():
            forget_nll = batch_nll(model, inputs.forget)
        parts = {"idk_loss": idk_nll.item(), "forget_nll": forget_nll.item()}
        return with_retain(idk_nll, parts, model, inputs, self.retain_weight)
