"""Alternate Preference Optimization (AltPO).

Mekala et al. 2024, "Alternate Preference Optimization for Unlearning Factual Knowledge in Large
Language Models" (COLING 2025, arXiv:2409.13474). Negative feedback on the forget answers alone
pushes the model to gibberish; AltPO pairs it with positive feedback on plausible alternative
answers that the model itself writes before unlearning (the stage in
``training/alternates.py``, cached): DPO with chosen = alternate, rejected = forget answer,
plus the retain NLL,

``L = mean -(2/beta) log sigmoid(beta ((log pi(alt) - log pi_ref(alt)) - (log pi(y) - log pi_ref(y))))
      + retain_weight * NLL(retain)``,

exactly the authors' ``subdpo`` loss and open-unlearning's ``DPO`` trainer on their alternate
data. The maths is :class:`~obliviate.methods.dpo_idk.DPOIdk`'s, composed, not copied.

Defaults: beta = 0.1, retain_weight = 1.0 (the middle of open-unlearning's AltPO search:
beta in {0.05, 0.1, 0.5}, alpha in {1, 2, 5}); 5 alternates per question sampled at temperature
1 with up to 200 new tokens (the authors' ``alt5`` data, ``generate.yaml``). Each copy of the
forget set is paired with one alternate, so an epoch covers ``alternates`` x |forget| rows.
``obliviate run`` copies the generated alternates into the run folder (``alternates.jsonl``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import torch
from torch import nn

from obliviate.errors import ConfigError
from obliviate.methods._common import check_fields, check_int, renamed_part
from obliviate.methods.base import LossOutput, Needs, StepInputs, register_method
from obliviate.methods.dpo_idk import DPOIdk


@register_method
@dataclass
class AltPO:
    """AltPO (Mekala et al. 2024).

    beta: DPO inverse temperature (0.1).
    retain_weight: weight of the retain NLL when a retain batch is given (1.0).
    alternates: alternate answers generated per forget question (paper: 5).
    alt_max_new_tokens: generation budget of one alternate (paper: 200).
    alt_temperature: sampling temperature of the alternates (paper: 1.0).
    """

    beta: float = 0.1
    retain_weight: float = 1.0
    alternates: int = 5
    alt_max_new_tokens: int = 200
    alt_temperature: float = 1.0
    inner: DPOIdk | None = field(default=None, init=False, repr=False)
    alternates_file: str | None = field(default=None, init=False, repr=False)

    name: ClassVar[str] = "altpo"
    family: ClassVar[str] = "preference optimization"
    summary: ClassVar[str] = ("DPO preferring the model's own plausible alternative answers "
                              "over the forget answers.")
    paper: ClassVar[str] = "Mekala et al. 2024, arXiv:2409.13474"
    needs: ClassVar[Needs] = Needs(reference_logprobs=True, alternate_answers=True)

    def __post_init__(self) -> None:
        check_int(self.name, "alternates", self.alternates, 1)
        check_int(self.name, "alt_max_new_tokens", self.alt_max_new_tokens, 1)
        check_fields(self, "alt_temperature", positive=True)
        self.inner = DPOIdk(beta=self.beta, retain_weight=self.retain_weight)
        self.beta, self.retain_weight = self.inner.beta, self.inner.retain_weight

    def setup(self, model: nn.Module, generator: torch.Generator) -> None:
        """Nothing to prepare (the alternates come with the data)."""

    def loss(self, model: nn.Module, inputs: StepInputs) -> LossOutput:
        if inputs.idk is None:
            raise ConfigError("altpo needs the forget questions paired with generated alternate "
                              "answers (StepInputs.idk); run it through `obliviate run` or "
                              "pipeline.training_data with the model, on QA forget data.")
        return renamed_part(self.inner.loss(model, inputs), "idk_nll", "alternate_nll")
