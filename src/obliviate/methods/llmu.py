"""Large Language Model Unlearning (LLMU).

Yao et al. 2023, "Large Language Model Unlearning" (arXiv:2310.10683), section 2. Three terms:
``L = eps1 * L_fgt + eps2 * L_rdn + eps3 * L_nor`` with

- ``L_fgt = -NLL(forget answers | forget prompts)``: gradient ascent on the unwanted answers;
- ``L_rdn = NLL(random answers | forget prompts)``: the forget prompts paired with answers drawn
  at random from the normal (retain) data, so that the model answers them with something
  unrelated instead of degenerate text;
- ``L_nor = KL(p_original || p_theta)`` on the normal (retain) data, token by token over the
  vocabulary, keeping the model close to the original where it should not change.

Defaults: eps1 = 0.5, eps2 = 1, eps3 = 1 (``bad_weight``, ``random_weight``, ``normal_weight``
in the authors' released code for the harmful-answer experiments). The paper also stops once the
forget loss exceeds a threshold; the engine's step budget plays that role here.

Data: the random answers arrive in ``StepInputs.idk`` (``Needs.random_answers``):
``pipeline.training_data`` pairs every forget question with the target of a retain example drawn
at random (seeded by ``train.seed``), row for row. QA forget data and a retain set are needed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from obliviate.errors import ConfigError
from obliviate.methods._common import (batch_nll, check_fields, frozen_logits, logits_of,
                                       require_batch, require_reference)
from obliviate.methods.base import LossOutput, Needs, StepInputs, register_method
from obliviate.methods.losses import token_kl


@register_method
@dataclass
class LLMU:
    """LLMU (Yao et al. 2023).

    forget_weight: eps1, weight of the gradient-ascent term (authors' code: 0.5).
    random_weight: eps2, weight of the NLL of forget prompts with random retain answers (1.0).
    retain_weight: eps3, weight of KL(original || model) on the retain batch (1.0).
    """

    forget_weight: float = 0.5
    random_weight: float = 1.0
    retain_weight: float = 1.0

    name: ClassVar[str] = "llmu"
    family: ClassVar[str] = "gradient ascent"
    summary: ClassVar[str] = ("Ascend the forget NLL, answer forget prompts with random retain "
                              "answers, keep KL to the original on retain data.")
    paper: ClassVar[str] = "Yao et al. 2023, arXiv:2310.10683"
    needs: ClassVar[Needs] = Needs(retain=True, reference_model=True, random_answers=True)

    def __post_init__(self) -> None:
        check_fields(self, "forget_weight", "random_weight", "retain_weight", non_negative=True)

    def setup(self, model: nn.Module, generator: torch.Generator) -> None:
        """Nothing to prepare."""

    def loss(self, model: nn.Module, inputs: StepInputs) -> LossOutput:
        retain = require_batch(inputs, "retain", self.name)
        random = inputs.idk
        if random is None:
            raise ConfigError("llmu needs the forget questions paired with random retain answers "
                              "(StepInputs.idk, built by pipeline.training_data for methods that "
                              "declare needs.random_answers); use QA forget data and a retain set.")
        reference = require_reference(inputs, self.name)
        forget_nll = batch_nll(model, inputs.forget)
        random_nll = batch_nll(model, random)
        kl = token_kl(logits_of(model, retain), frozen_logits(reference, retain),
                      retain["labels"])
        total = (-self.forget_weight * forget_nll + self.random_weight * random_nll
                 + self.retain_weight * kl)
        parts = {"forget_loss": -forget_nll.item(), "forget_nll": forget_nll.item(),
                 "random_loss": random_nll.item(), "retain_kl": kl.item()}
        return LossOutput(total, parts)
