"""Cross-entropy unlearning (CE-U).

Yang et al. 2025, "CE-U: Cross Entropy Unlearning" (arXiv:2503.01224). At each forget position
the model is trained towards its *own* next-token distribution with the true token removed:
``q = sg[softmax(z with z_y := -inf)]`` and ``L = mean_t -sum_v q_t(v) log softmax(z_t)(v)``.
The gradient with respect to the logits is ``p - q``: on the true token it is ``p_y`` (bounded,
vanishing as the token is forgotten, unlike gradient ascent's ``1/p_y`` growth), and elsewhere it
renormalises the remaining mass without inventing a new answer. Targets come from the current
model, so no reference copy is kept.

As in the paper's training settings (footnote) and open-unlearning's ``CEU``, the first
``ignore_first_n_answer_tokens`` (1) target tokens of every sequence are left out of the loss.
The authors' trainer uses the forget loss alone, so retain_weight defaults to 0; a retain NLL is
added when it is > 0 and a retain batch is given.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from obliviate.methods._common import (check_fields, check_int, forget_parts, logits_of,
                                       with_retain)
from obliviate.methods.base import LossOutput, Needs, StepInputs, register_method
from obliviate.methods.losses import (ceu_targets, drop_first_targets, soft_cross_entropy,
                                      target_rows)


@register_method
@dataclass
class CEU:
    """CE-U (Yang et al. 2025).

    retain_weight: weight of a retain NLL when a retain batch is given (paper: none, 0.0).
    ignore_first_n_answer_tokens: target tokens at the start of each answer left out (paper: 1).
    """

    retain_weight: float = 0.0
    ignore_first_n_answer_tokens: int = 1

    name: ClassVar[str] = "ce_u"
    family: ClassVar[str] = "distribution targets"
    summary: ClassVar[str] = ("Cross-entropy to the model's own distribution with the true "
                              "token removed.")
    paper: ClassVar[str] = "Yang et al. 2025, arXiv:2503.01224"
    needs: ClassVar[Needs] = Needs()

    def __post_init__(self) -> None:
        check_fields(self, "retain_weight", non_negative=True)
        check_int(self.name, "ignore_first_n_answer_tokens", self.ignore_first_n_answer_tokens, 0)

    def setup(self, model: nn.Module, generator: torch.Generator) -> None:
        """Nothing to prepare."""

    def loss(self, model: nn.Module, inputs: StepInputs) -> LossOutput:
        logits = logits_of(model, inputs.forget)
        labels = inputs.forget["labels"]
        kept = drop_first_targets(labels, self.ignore_first_n_answer_tokens)
        rows, targets = target_rows(logits, kept)
        forget_loss = soft_cross_entropy(rows, ceu_targets(rows, targets))
        parts = forget_parts(forget_loss, logits, labels)
        return with_retain(forget_loss, parts, model, inputs, self.retain_weight)
