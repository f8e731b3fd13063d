"""UNDIAL: self-distillation with adjusted logits.

Dong et al. 2024, "UNDIAL: Self-Distillation with Adjusted Logits for Robust Unlearning in Large
Language Models" (NAACL 2025, arXiv:2402.10052). The frozen original model is the teacher; at
every forget target position its logit for the true next token is lowered by ``gamma`` and the
student is distilled towards the result:
``q_t = softmax(z_ref,t - gamma * onehot(y_t))``, ``L = mean_t -sum_v q_t(v) log p_theta,t(v)``.
The target is fixed (it does not move with the student), so the loss stays bounded and the model
cannot be driven to degenerate outputs the way gradient ascent drives it.

Defaults: gamma = 10 (the paper sweeps gamma over 3, 10 and 30; 10 is its middle setting) and no
retain term (retain_weight = 0: the paper uses none, aiming to keep all other knowledge through
the self-distillation itself). A retain NLL is added when retain_weight > 0 and a retain batch is
given.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from obliviate.methods._common import (check_fields, forget_parts, frozen_logits, logits_of,
                                       require_reference, with_retain)
from obliviate.methods.base import LossOutput, Needs, StepInputs, register_method
from obliviate.methods.losses import soft_cross_entropy, target_rows, undial_targets


@register_method
@dataclass
class UNDIAL:
    """UNDIAL (Dong et al. 2024).

    gamma: how far the true token's teacher logit is lowered (paper: 3, 10 or 30; default 10).
    retain_weight: weight of a retain NLL when a retain batch is given (paper: none, 0.0).
    """

    gamma: float = 10.0
    retain_weight: float = 0.0

    name: ClassVar[str] = "undial"
    family: ClassVar[str] = "distribution targets"
    summary: ClassVar[str] = ("Distil from the original model with the true token's logit "
                              "lowered by gamma.")
    paper: ClassVar[str] = "Dong et al. 2024, arXiv:2402.10052"
    needs: ClassVar[Needs] = Needs(reference_model=True)

    def __post_init__(self) -> None:
        check_fields(self, "gamma", "retain_weight", non_negative=True)

    def setup(self, model: nn.Module, generator: torch.Generator) -> None:
        """Nothing to prepare."""

    def loss(self, model: nn.Module, inputs: StepInputs) -> LossOutput:
        reference = require_reference(inputs, self.name)
        labels = inputs.forget["labels"]
        logits = logits_of(model, inputs.forget)
        rows, targets = target_rows(logits, labels)
        ref_rows, _ = target_rows(frozen_logits(reference, inputs.forget), labels)
        forget_loss = soft_cross_entropy(rows, undial_targets(ref_rows, targets, self.gamma))
        parts = forget_parts(forget_loss, logits, labels)
        return with_retain(forget_loss, parts, model, inputs, self.retain_weight)
