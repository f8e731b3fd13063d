"""DPO with refusals as the preferred answers.

The "Preference Optimization" baseline of TOFU (Maini et al. 2024, arXiv:2401.06121), using DPO
(Rafailov et al. 2023, arXiv:2305.18290) with chosen = refusal answer, rejected = forget answer:
``L = mean -(2/beta) log sigmoid(beta ((log pi(idk) - log pi_ref(idk)) - (log pi(y) - log pi_ref(y))))
      + retain_weight * NLL(retain)``.
The ``2/beta`` factor and the retain NLL with weight 1 follow the code the published unlearning
runs used (the NPO authors' IdkDPO and open-unlearning's ``DPO``: ``gamma = alpha = 1``);
Rafailov et al.'s eq. (7) has neither. Defaults: beta = 0.1, retain_weight = 1.0 (the retain
term is used whenever the engine passes a retain batch; 0 switches it off). Reference
log-probs are read from ``"ref_logp"`` on both the forget and the idk batch.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from obliviate.errors import ConfigError
from obliviate.methods._common import (check_fields, logits_of, require_batch, require_key,
                                       sequence_stats, with_retain)
from obliviate.methods.base import LossOutput, Needs, StepInputs, register_method
from obliviate.methods.losses import dpo_loss


@register_method
@dataclass
class DPOIdk:
    """DPO towards refusals, away from the forget answers (TOFU, Maini et al. 2024).

    beta: DPO inverse temperature (TOFU: 0.1).
    retain_weight: weight of the retain NLL when a retain batch is given (open-unlearning: 1.0).
    """

    beta: float = 0.1
    retain_weight: float = 1.0

    name: ClassVar[str] = "dpo_idk"
    family: ClassVar[str] = "preference optimization"
    summary: ClassVar[str] = "DPO preferring refusals over the forget answers."
    paper: ClassVar[str] = "Maini et al. 2024, arXiv:2401.06121; Rafailov et al. 2023, arXiv:2305.18290"
    needs: ClassVar[Needs] = Needs(reference_logprobs=True, refusals=True)

    def __post_init__(self) -> None:
        check_fields(self, "beta", positive=True)
        check_fields(self, "retain_weight", non_negative=True)

    def setup(self, model: nn.Module, generator: torch.Generator) -> None:
        """Nothing to prepare."""

    def loss(self, model: nn.Module, inputs: StepInputs) -> LossOutput:
        idk = require_batch(inputs, "idk", self.name)
        ref_rejected = require_key(inputs.forget, "ref_logp", self.name, "forget")
        ref_chosen = require_key(idk, "ref_logp", self.name, "idk")
        chosen, _, idk_nll = sequence_stats(logits_of(model, idk), idk["labels"])
        rejected, _, forget_nll = sequence_stats(logits_of(model, inputs.forget),
                                                 inputs.forget["labels"])
        if chosen.shape != rejected.shape:
            raise ConfigError(f"dpo_idk: the idk batch ({chosen.shape[0]} rows) must be aligned "
                              f"row for row with the forget batch ({rejected.shape[0]} rows).")
        pref = dpo_loss(chosen, rejected, ref_chosen.to(chosen), ref_rejected.to(rejected),
                        self.beta)
        parts = {"forget_loss": pref.item(), "idk_nll": idk_nll.item(),
                 "forget_nll": forget_nll.item()}
        return with_retain(pref, parts, model, inputs, self.retain_weight)
