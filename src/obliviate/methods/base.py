"""The contract every unlearning method keeps.

A method is a dataclass registered in :data:`METHODS` by name. Its fields are its
hyper-parameters (published defaults, checked in ``__post_init__``), its class attributes say
what it is and what it needs, and :meth:`loss` turns one step's inputs into a loss. It never
loops, steps an optimizer or moves devices: :class:`obliviate.training.Engine` does.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, NamedTuple, Protocol

import torch
from torch import nn

from obliviate.data.types import Batch
from obliviate.registry import Registry


@dataclass(frozen=True)
class Needs:
    """What the engine must provide before and during training.

    retain: a retain batch every step (``StepInputs.retain``).
    reference_logprobs: ``"ref_logp"`` ([B], summed log-prob of the target tokens under the
        original model) on the forget batch, and on the idk / retain batches when those are
        given; computed once before training, so no second model stays in memory.
    reference_model: a frozen copy of the original model (``StepInputs.reference``).
    refusals: ``StepInputs.idk``, the forget questions answered with refusal sentences, row for
        row aligned with the forget batch (QA data only).
    """

    retain: bool = False
    reference_logprobs: bool = False
    reference_model: bool = False
    refusals: bool = False


class LossOutput(NamedTuple):
    """The loss to minimise, and named float parts for the progress bar and the step log."""

    loss: torch.Tensor
    parts: dict[str, float]


@dataclass
class StepInputs:
    """What one optimisation step sees. Batches are padded and on the model's device."""

    forget: Batch
    retain: Batch | None = None
    idk: Batch | None = None
    reference: nn.Module | None = None
    step: int = 0
    extras: dict[str, object] = field(default_factory=dict)


class UnlearningMethod(Protocol):
    """The method protocol. ``setup`` runs once on the model before the first step (for example
    to draw RMU's random direction); ``loss`` runs every step."""

    name: ClassVar[str]
    family: ClassVar[str]
    summary: ClassVar[str]
    paper: ClassVar[str]
    needs: ClassVar[Needs]

    def setup(self, model: nn.Module, generator: torch.Generator) -> None: ...

    def loss(self, model: nn.Module, inputs: StepInputs) -> LossOutput: ...


METHODS: Registry[type] = Registry("method")


def register_method(cls: type) -> type:
    """Class decorator: register a method dataclass under its ``name`` class attribute."""
    return METHODS.register(cls.name)(cls)
