"""Who's Harry Potter (WHP): fine-tune on generic predictions.

Eldan and Russinovich 2023, "Who's Harry Potter? Approximate Unlearning in LLMs"
(arXiv:2310.02238). A *reinforced* model, the original fine-tuned further on the forget data,
knows the forget content better than the baseline; the tokens whose logits it raises are the ones
tied to that content. The generic prediction at each position is

``v_generic = v_baseline - alpha * ReLU(v_reinforced - v_baseline)``

and the model is fine-tuned to predict ``argmax v_generic`` at every forget target position
(masked cross-entropy), i.e. what a model that never saw the content would plausibly say.
``soft_labels=True`` trains towards ``softmax(v_generic)`` instead (a soft cross-entropy).

Anchored terms (optional): with ``anchor_terms_path`` (a JSON/YAML ``{"Hogwarts": "the
Academy", ...}`` file, or ``builtin:hp_anchors`` for the shipped demo dictionary),
``pipeline.training_data`` also tokenises a translated copy of every forget example (through
this method's :meth:`aligned_forget_examples`), which reaches :meth:`loss` as ``StepInputs.idk``.
The baseline logits are then taken on the translated text and mapped back to the original tokens
by a token-level alignment (:func:`obliviate.methods._anchors.generic_sources`): shared tokens
map one to one, the first token of an anchored term takes the baseline's prediction where the
generic term starts, and the rest of the term is not trained. Translating on the text and
aligning on token ids keeps the alignment exact even when a generic term has a different number
of tokens than the term it replaces.

Defaults: alpha = 5.0 (our recollection of the paper's setting; we could not re-check it against
the text, so treat it as a starting point). The reinforced stage's hyper-parameters are read by
the engine: reinforce_steps = 50 and reinforce_lr = 1e-5. These are not the paper's (it trains
the reinforced model on a whole book series for a few epochs): 50 steps over a forget set of ~100
examples at batch size 8 is about four epochs, enough to over-fit it as the paper intends, and
1e-5 is the usual full fine-tuning rate for 7B chat models (TOFU fine-tunes its models at 1e-5).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from obliviate.data.types import IGNORE_INDEX, Example
from obliviate.errors import ConfigError
from obliviate.methods._anchors import load_anchor_terms, source_index, translate_examples
from obliviate.methods._common import (check_fields, check_flag, check_int, forget_parts,
                                       logits_of, require_reference)
from obliviate.methods.base import LossOutput, Needs, StepInputs, register_method
from obliviate.methods.losses import soft_cross_entropy, whp_generic_logits


@register_method
@dataclass
class WHP:
    """Who's Harry Potter (Eldan and Russinovich 2023).

    alpha: how strongly the reinforced model's gains are subtracted (5.0).
    soft_labels: train towards softmax(v_generic) instead of its argmax (False: the paper's).
    anchor_terms_path: JSON/YAML term dictionary, or ``builtin:hp_anchors``; None = no anchors.
    reinforce_steps: optimizer steps of the reinforced-model stage, run by the engine (50).
    reinforce_lr: learning rate of the reinforced-model stage (1e-5).
    """

    alpha: float = 5.0
    soft_labels: bool = False
    anchor_terms_path: str | None = None
    reinforce_steps: int = 50
    reinforce_lr: float = 1e-5
    anchors: dict[str, str] = field(default_factory=dict, init=False, repr=False)

    name: ClassVar[str] = "whp"
    family: ClassVar[str] = "generic labels"
    summary: ClassVar[str] = ("Fine-tune on generic predictions: baseline logits minus what a "
                              "model reinforced on the forget data gains.")
    paper: ClassVar[str] = "Eldan and Russinovich 2023, arXiv:2310.02238"
    needs: ClassVar[Needs] = Needs(reference_model=True, reinforced_model=True)

    def __post_init__(self) -> None:
        check_fields(self, "alpha", non_negative=True)
        check_fields(self, "reinforce_lr", positive=True)
        check_int(self.name, "reinforce_steps", self.reinforce_steps, 1)
        check_flag(self.name, "soft_labels", self.soft_labels)
        if self.anchor_terms_path is not None:
            if not isinstance(self.anchor_terms_path, str) or not self.anchor_terms_path:
                raise ConfigError("whp: anchor_terms_path must be a file path or "
                                  f"'builtin:hp_anchors', got {self.anchor_terms_path!r}.")
            self.anchors = load_anchor_terms(self.anchor_terms_path)

    def aligned_forget_examples(self, forget: list[Example]) -> list[Example] | None:
        """The forget examples with anchored terms translated (None without a dictionary);
        ``pipeline.training_data`` tokenises them into the aligned ``idk`` rows."""
        return translate_examples(forget, self.anchors) if self.anchors else None

    def setup(self, model: nn.Module, generator: torch.Generator) -> None:
        """Nothing to prepare."""

    def loss(self, model: nn.Module, inputs: StepInputs) -> LossOutput:
        reference = require_reference(inputs, self.name)
        if inputs.reinforced is None:
            raise ConfigError("whp needs the reinforced model (StepInputs.reinforced, "
                              "needs.reinforced_model): the engine fine-tunes a frozen copy on "
                              "the forget data for reinforce_steps steps first.")
        forget, labels = inputs.forget, inputs.forget["labels"]
        logits = logits_of(model, forget)
        with torch.no_grad():
            keep, generic = self._generic(forget, inputs, reference)
        student = logits[:, :-1][keep].float()
        if student.shape[0] == 0:
            forget_loss = logits.sum() * 0.0
        elif self.soft_labels:
            forget_loss = soft_cross_entropy(student, F.softmax(generic, dim=-1))
        else:
            forget_loss = F.cross_entropy(student, generic.argmax(dim=-1))
        parts = forget_parts(forget_loss, logits, labels)
        parts["generic_positions"] = float(keep.sum().item())
        return LossOutput(forget_loss, parts)

    def _generic(self, forget, inputs: StepInputs, reference: nn.Module
                 ) -> tuple[torch.Tensor, torch.Tensor]:
        """(positions trained [B, T-1] bool, generic logits [N, V] at those positions)."""
        keep = forget["labels"][:, 1:] != IGNORE_INDEX
        reinforced = logits_of(inputs.reinforced, forget)[:, :-1]
        if self.anchors:
            if inputs.idk is None:
                raise ConfigError("whp: anchor_terms_path is set but no translated forget batch "
                                  "arrived (StepInputs.idk); build the data with "
                                  "pipeline.training_data(..., method=method).")
            index = source_index(forget, inputs.idk)
            keep = keep & (index >= 0)
            translated = logits_of(reference, inputs.idk)
            rows = torch.arange(index.shape[0], device=index.device).unsqueeze(1)
            base = translated[rows, index.clamp(min=0)]
        else:
            base = logits_of(reference, forget)[:, :-1]
        return keep, whp_generic_logits(base[keep], reinforced[keep], self.alpha)
