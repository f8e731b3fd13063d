"""PDU: logit-margin flattening under a retain-loss constraint, solved by primal-dual steps.

Entesari et al. 2025, "Constrained Entropic Unlearning: A Primal-Dual Framework for Large
Language Models" (arXiv:2506.05314). Unlearning is the constrained problem

    min  L_forget   subject to   NLL(retain) <= retain_loss_eps,

with the logit-margin flattening loss ``L_forget = mean_t (max_v z_t(v) - mean_v z_t(v))^2``
(:func:`obliviate.methods.losses.pdu_forget_loss`), 0 exactly when the next-token distribution
on the forget answers is uniform. The Lagrangian is minimised in the weights while the dual
variable ``lambda`` ascends on the constraint violation, once per micro-batch as in the authors'
code (open-unlearning ``PDU`` with ``dual_update_upon="step"``):

    L = forget_weight * L_forget + lambda * (NLL(retain) - retain_loss_eps)
    lambda <- max(0, lambda + dual_step_size * (NLL(retain) - retain_loss_eps))

The step's loss uses ``lambda`` before its update. ``lambda`` is state across steps: it lives in
this object (``dual``), set to ``dual_init`` by ``setup``, and is frozen for the first
``dual_warmup_epochs`` epochs (``StepInputs.epoch``; an epoch is one pass over the forget set).

Defaults: the authors' TOFU settings (community/methods/PDU/run.sh): ``dual_init = 100``,
``dual_step_size = 5``, ``dual_warmup_epochs = 5``, ``retain_loss_eps = 0.3``. The authors'
advice: set ``retain_loss_eps`` somewhat above the starting model's retain NLL.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import torch
from torch import nn

from obliviate.errors import ConfigError
from obliviate.methods._common import batch_nll, check_fields, logits_of, require_batch
from obliviate.methods.base import LossOutput, Needs, StepInputs, register_method
from obliviate.methods.losses import masked_nll, pdu_forget_loss


@register_method
@dataclass
class PDU:
    """Primal-dual unlearning (Entesari et al. 2025).

    retain_loss_eps: bound on the retain NLL (TOFU: 0.3; set above the starting retain NLL).
    forget_weight: weight of the flattening loss (1.0).
    dual_init: starting value of the dual variable lambda (TOFU: 100).
    dual_step_size: dual ascent step (TOFU: 5).
    dual_warmup_epochs: epochs before lambda starts to move (TOFU: 5).
    """

    retain_loss_eps: float = 0.3
    forget_weight: float = 1.0
    dual_init: float = 100.0
    dual_step_size: float = 5.0
    dual_warmup_epochs: float = 5.0
    dual: float | None = field(default=None, init=False)

    name: ClassVar[str] = "pdu"
    family: ClassVar[str] = "constrained optimization"
    summary: ClassVar[str] = ("Flatten forget logits under a retain-NLL constraint, with a "
                              "primal-dual multiplier.")
    paper: ClassVar[str] = "Entesari et al. 2025, arXiv:2506.05314"
    needs: ClassVar[Needs] = Needs(retain=True)

    def __post_init__(self) -> None:
        check_fields(self, "retain_loss_eps", non_negative=True)
        check_fields(self, "forget_weight", positive=True)
        check_fields(self, "dual_init", "dual_step_size", "dual_warmup_epochs", non_negative=True)

    def setup(self, model: nn.Module, generator: torch.Generator) -> None:
        """Start the dual variable at ``dual_init``."""
        self.dual = self.dual_init

    def loss(self, model: nn.Module, inputs: StepInputs) -> LossOutput:
        if self.dual is None:
            raise ConfigError("pdu: setup(model, generator) must run before loss().")
        retain = require_batch(inputs, "retain", self.name)
        logits = logits_of(model, inputs.forget)
        forget_loss = pdu_forget_loss(logits, inputs.forget["labels"])
        retain_nll = batch_nll(model, retain)
        violation = retain_nll - self.retain_loss_eps
        total = self.forget_weight * forget_loss + self.dual * violation
        parts = {"forget_loss": forget_loss.item(), "retain_loss": retain_nll.item(),
                 "dual": self.dual,
                 "forget_nll": masked_nll(logits.detach(), inputs.forget["labels"]).item()}
        if inputs.epoch >= self.dual_warmup_epochs:
            self.dual = max(0.0, self.dual + self.dual_step_size * violation.item())
        return LossOutput(total, parts)
