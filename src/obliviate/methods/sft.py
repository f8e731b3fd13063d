"""Plain supervised fine-tuning: minimise the NLL of the given data.

Not an unlearning method: it makes the *target* model (fine-tuned on all data) and the *retain*
model (fine-tuned on the retain data only, the gold standard of Maini et al. 2024, TOFU,
arXiv:2401.06121) with the same engine, and it is the first stage of WHP and task vectors.
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
class SupervisedFineTuning:
    """NLL on the "forget" slot of the engine, which for fine-tuning holds the training data."""

    name: ClassVar[str] = "sft"
    family: ClassVar[str] = "fine-tuning (not unlearning)"
    summary: ClassVar[str] = "Learn the data (target / retain models, first stage of WHP)."
    paper: ClassVar[str] = "Maini et al. 2024, arXiv:2401.06121"
    needs: ClassVar[Needs] = Needs()

    def setup(self, model: nn.Module, generator: torch.Generator) -> None:
        """Nothing to prepare."""

    def loss(self, model: nn.Module, inputs: StepInputs) -> LossOutput:
        nll = batch_nll(model, inputs.forget)
        return LossOutput(nll, {"forget_nll": nll.item()})
