"""Representation Misdirection for Unlearning (RMU).

Li et al. 2024, "The WMDP Benchmark: Measuring and Reducing Malicious Use With Unlearning"
(ICML 2024, arXiv:2403.03218), section 5. With ``h_L`` the output of decoder layer ``L``:
``L_forget = mean_t (1/D) ||h_L(x_t) - c||^2`` with ``c = steering_coeff * u/||u||``,
``u ~ U[0, 1)^D`` drawn once; ``L_retain = mean_t (1/D) ||h_L(x_t) - h_L^frozen(x_t)||^2``;
``L = L_forget + alpha * L_retain``. Only ``mlp.down_proj`` of layers ``L-2 .. L`` is trained
(the WMDP reference code's ``param_ids``); ``trainable_param_pattern="mlp"`` trains the whole MLPs.

Positions: both terms average over the target tokens (``labels != -100``): the answer tokens for
QA data, so the prompt and chat-template tokens (shared by forget and retain examples) are
neither steered nor pinned, and every token for text data, as in WMDP. Each sequence is averaged
over its positions, then the batch over its sequences (open-unlearning's ``RMU``).

Defaults are the paper's zephyr-7b settings: layer 7, steering_coeff 6.5, alpha 1200. The
activation norm grows with depth and width, so small models usually need a smaller coefficient
(and a different layer); tune both. For the last decoder layer, Hugging Face models return the
state after the final norm, so prefer an intermediate layer.

Engine contract: if a method defines ``trainable_parameter_filter(name) -> bool``, the engine
freezes every parameter whose ``named_parameters()`` name it rejects.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import ClassVar

import torch
from torch import nn

from obliviate.data.types import IGNORE_INDEX, Batch
from obliviate.errors import ConfigError
from obliviate.methods._common import check_fields, check_int, require_batch, require_reference
from obliviate.methods.base import LossOutput, Needs, StepInputs, register_method
from obliviate.methods.losses import masked_nll, rmu_forget_loss, rmu_retain_loss

_LAYER_INDEX = re.compile(r"(?:^|\.)(?:layers|h|blocks|layer)\.(\d+)\.(.+)$")


def _hidden(model: nn.Module, batch: Batch, layer: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(output of decoder layer ``layer`` [B, T, D], logits). ``hidden_states[0]`` is the
    embedding output, so layer ``i`` is ``hidden_states[i + 1]``."""
    out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                output_hidden_states=True)
    return out.hidden_states[layer + 1], out.logits


@register_method
@dataclass
class RMU:
    """RMU (Li et al. 2024).

    layer: decoder layer (0-based) whose output is steered (paper: 7).
    steering_coeff: norm of the control vector (paper: 6.5 for zephyr-7b).
    alpha: weight of the retain term (paper: 1200 for zephyr-7b).
    trainable_layers: layers whose parameters train; None means (layer-2, layer-1, layer).
    trainable_param_pattern: substring a parameter name must contain within a trainable layer
        (WMDP: "mlp.down_proj"; "mlp" trains the whole MLPs).
    """

    layer: int = 7
    steering_coeff: float = 6.5
    alpha: float = 1200.0
    trainable_layers: tuple[int, ...] | None = None
    trainable_param_pattern: str = "mlp.down_proj"
    control: torch.Tensor | None = field(default=None, init=False, repr=False)

    name: ClassVar[str] = "rmu"
    family: ClassVar[str] = "representation"
    summary: ClassVar[str] = "Steer layer-L activations on forget data to a random vector; keep retain ones."
    paper: ClassVar[str] = "Li et al. 2024, arXiv:2403.03218"
    needs: ClassVar[Needs] = Needs(retain=True, reference_model=True)

    def __post_init__(self) -> None:
        check_int(self.name, "layer", self.layer, 0)
        check_fields(self, "steering_coeff", positive=True)
        check_fields(self, "alpha", non_negative=True)
        if self.trainable_layers is not None:
            layers = tuple(self.trainable_layers)
            if not layers or any(isinstance(i, bool) or not isinstance(i, int) or i < 0
                                 for i in layers):
                raise ConfigError("rmu: trainable_layers must be a non-empty list of integers "
                                  f">= 0, got {self.trainable_layers!r}.")
            self.trainable_layers = layers
        if not isinstance(self.trainable_param_pattern, str) or not self.trainable_param_pattern:
            raise ConfigError("rmu: trainable_param_pattern must be a non-empty string.")

    def selected_layers(self) -> tuple[int, ...]:
        if self.trainable_layers is not None:
            return self.trainable_layers
        return tuple(i for i in (self.layer - 2, self.layer - 1, self.layer) if i >= 0)

    def trainable_parameter_filter(self, name: str) -> bool:
        """True if parameter ``name`` trains: in a selected layer and containing the pattern."""
        match = _LAYER_INDEX.search(name)
        return (match is not None and int(match.group(1)) in self.selected_layers()
                and self.trainable_param_pattern in match.group(2))

    def setup(self, model: nn.Module, generator: torch.Generator) -> None:
        """Check the layers against the model depth and draw the control vector."""
        depth = model.config.num_hidden_layers
        for i in (self.layer, *self.selected_layers()):
            if i >= depth:
                raise ConfigError(f"rmu: layer {i} is out of range; the model has {depth} "
                                  f"decoder layers (0..{depth - 1}). Set layer/trainable_layers.")
        u = torch.rand(model.config.hidden_size, generator=generator,
                       device=generator.device)
        param = next(model.parameters())
        self.control = (self.steering_coeff * u / u.norm()).to(param.device)

    def loss(self, model: nn.Module, inputs: StepInputs) -> LossOutput:
        if self.control is None:
            raise ConfigError("rmu: setup(model, generator) must run before loss().")
        retain = require_batch(inputs, "retain", self.name)
        reference = require_reference(inputs, self.name)
        h_forget, logits = _hidden(model, inputs.forget, self.layer)
        forget = rmu_forget_loss(h_forget, self.control, inputs.forget["labels"] != IGNORE_INDEX)
        h_retain, _ = _hidden(model, retain, self.layer)
        with torch.no_grad():
            h_ref, _ = _hidden(reference, retain, self.layer)
        retain_loss = rmu_retain_loss(h_retain, h_ref, retain["labels"] != IGNORE_INDEX)
        forget_nll = masked_nll(logits.detach(), inputs.forget["labels"])
        parts = {"forget_loss": forget.item(), "retain_loss": retain_loss.item(),
                 "forget_nll": forget_nll.item()}
        return LossOutput(forget + self.alpha * retain_loss, parts)
