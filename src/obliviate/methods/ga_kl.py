"""Gradient ascent with a KL retain regulariser.

The "KL Min." baseline of TOFU (Maini et al. 2024, "TOFU: A Task of Fictitious Unlearning for
LLMs", arXiv:2401.06121), after Yao et al. 2023 ("Large Language Model Unlearning"):
``L = -NLL(forget) + retain_weight * mean_t KL(p_ref(.|x_<t) || p_model(.|x_<t))`` on the retain
batch, where ``p_ref`` is the frozen original model. Weight 1.0 as in TOFU.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from obliviate.methods._common import (batch_nll, check_fields, frozen_logits, logits_of,
                                       require_batch, require_reference)
from obliviate.methods.base import LossOutput, Needs, StepInputs, register_method
from obliviate.methods.losses import token_kl


@register_method
@dataclass
class GradAscentKL:
    """Gradient ascent + KL to the original model on retain data (TOFU, Maini et al. 2024).

    retain_weight: weight of the retain KL term (TOFU default 1.0).
    """

    retain_weight: float = 1.0

    name: ClassVar[str] = "ga_kl"
    family: ClassVar[str] = "gradient ascent"
    summary: ClassVar[str] = "Ascend on forget NLL, keep retain predictions close (KL) to the original."
    paper: ClassVar[str] = "Maini et al. 2024, arXiv:2401.06121"
    needs: ClassVar[Needs] = Needs(retain=True, reference_model=True)

    def __post_init__(self) -> None:
        check_fields(self, "retain_weight", non_negative=True)

    def setup(self, model: nn.Module, generator: torch.Generator) -> None:
        """Nothing to prepare."""

    def loss(self, model: nn.Module, inputs: StepInputs) -> LossOutput:
        retain = require_batch(inputs, "retain", self.name)
        reference = require_reference(inputs, self.name)
        forget_nll = batch_nll(model, inputs.forget)
        kl = token_kl(logits_of(model, retain), frozen_logits(reference, retain), retain["labels"])
        total = -forget_nll + self.retain_weight * kl
        parts = {"forget_loss": -forget_nll.item(), "retain_kl": kl.item(),
                 "forget_nll": forget_nll.item()}
        return LossOutput(total, parts)
