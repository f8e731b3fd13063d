"""Negative Preference Optimization.

Zhang et al. 2024, "Negative Preference Optimization: From Catastrophic Collapse to Effective
Unlearning" (COLM 2024, arXiv:2404.05868). The forget answers are treated as dispreferred
responses with no preferred one:
``L_NPO = mean -(2/beta) log sigmoid(-beta (log pi(y|x) - log pi_ref(y|x)))``, bounded below by 0
and, unlike gradient ascent, with gradients that vanish as the forget data is unlearned.
The paper's best variant, NPO+RT, adds the retain NLL: ``L = L_NPO + retain_weight * NLL(retain)``.

Defaults: beta = 0.1 and retain_weight = 1.0 (NPO+RT on TOFU). The reference log-probs come from
``forget["ref_logp"]`` (precomputed once by the engine, no second model in memory). The retain term
is used whenever the engine passes a retain batch, which it does when the user gives a retain set;
set retain_weight = 0 for pure NPO.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from obliviate.methods._common import check_fields, require_key, target_stats, with_retain
from obliviate.methods.base import LossOutput, Needs, StepInputs, register_method
from obliviate.methods.losses import npo_loss


@register_method
@dataclass
class NPO:
    """NPO / NPO+RT (Zhang et al. 2024).

    beta: inverse temperature of the sigmoid (paper: 0.1).
    retain_weight: weight of the retain NLL when a retain batch is given (NPO+RT: 1.0).
    """

    beta: float = 0.1
    retain_weight: float = 1.0

    name: ClassVar[str] = "npo"
    family: ClassVar[str] = "preference optimization"
    summary: ClassVar[str] = "Push forget log-likelihood below the original model's, with a bounded loss."
    paper: ClassVar[str] = "Zhang et al. 2024, arXiv:2404.05868"
    needs: ClassVar[Needs] = Needs(reference_logprobs=True)

    def __post_init__(self) -> None:
        check_fields(self, "beta", positive=True)
        check_fields(self, "retain_weight", non_negative=True)

    def setup(self, model: nn.Module, generator: torch.Generator) -> None:
        """Nothing to prepare."""

    def loss(self, model: nn.Module, inputs: StepInputs) -> LossOutput:
        ref_logp = require_key(inputs.forget, "ref_logp", self.name, "forget")
        logp, _, forget_nll = target_stats(model, inputs.forget)
        forget_loss = npo_loss(logp, ref_logp.to(logp), self.beta)
        parts = {"forget_loss": forget_loss.item(), "forget_nll": forget_nll.item()}
        return with_retain(forget_loss, parts, model, inputs, self.retain_weight)
