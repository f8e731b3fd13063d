"""The contract every unlearning method keeps.

A method is a dataclass registered in :data:`METHODS` by name. Its fields are its
hyper-parameters (published defaults, checked in ``__post_init__``), its class attributes say
what it is and what it needs, and :meth:`loss` turns one step's inputs into a loss. It never
loops, steps an optimizer or moves devices: :class:`obliviate.training.Engine` does.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
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
    reinforced_model: ``StepInputs.reinforced``, a frozen copy of the model fine-tuned further on
        the forget data before unlearning starts (Who's Harry Potter's reinforced model).
    random_answers: ``StepInputs.idk`` carries the forget questions paired with answers drawn at
        random (seeded) from the retain set, row for row aligned with the forget batch (LLMU's
        mismatch term; QA forget data and a retain set).
    alternate_answers: the forget set is repeated ``method.alternates`` times and
        ``StepInputs.idk`` carries, row for row, plausible alternative answers that the model
        wrote before training (AltPO; ``training/alternates.py``, cached; QA forget data).
    """

    retain: bool = False
    reference_logprobs: bool = False
    reference_model: bool = False
    refusals: bool = False
    reinforced_model: bool = False
    random_answers: bool = False
    alternate_answers: bool = False


class LossOutput(NamedTuple):
    """The loss to minimise, and named float parts for the progress bar and the step log."""

    loss: torch.Tensor
    parts: dict[str, float]


@dataclass
class StepInputs:
    """What one optimisation step sees. Batches are padded and on the model's device.

    step: optimizer steps taken so far; epoch: passes over the forget set taken so far
    (``step / steps per epoch``, fractional; methods with a schedule in epochs read it)."""

    forget: Batch
    retain: Batch | None = None
    idk: Batch | None = None
    reference: nn.Module | None = None
    reinforced: nn.Module | None = None
    step: int = 0
    epoch: float = 0.0
    extras: dict[str, object] = field(default_factory=dict)


class MethodInfo(Protocol):
    """What every method declares (both protocols below): its name, family, one-line summary,
    paper and needs, and ``setup``, run once on the model before training (for example to draw
    RMU's random direction)."""

    name: ClassVar[str]
    family: ClassVar[str]
    summary: ClassVar[str]
    paper: ClassVar[str]
    needs: ClassVar[Needs]

    def setup(self, model: nn.Module, generator: torch.Generator) -> None: ...


class UnlearningMethod(MethodInfo, Protocol):
    """The method protocol: :class:`MethodInfo`, and ``loss``, which runs every step."""

    def loss(self, model: nn.Module, inputs: StepInputs) -> LossOutput: ...


@dataclass
class OneShotContext:
    """What a one-shot method's ``apply`` sees (see :class:`OneShotMethod`).

    params: the trainable parameters by ``named_parameters()`` name, after the method's, the
        user's (``localize.modules``) and LoRA's selection; ``apply`` changes only these.
    forget_batches / retain_batches: a fresh pass over the set, batches padded and on the
        model's device (``retain_batches`` is None without a retain set).
    retain_nll: mean token NLL of a model on the retain set, without a graph (None without one).
    reinforced / reference: as in :class:`StepInputs`, when the method's needs ask for them.
    n_forget / n_retain: number of examples in each set.
    """

    params: dict[str, nn.Parameter]
    forget_batches: Callable[[], Iterator[Batch]]
    retain_batches: Callable[[], Iterator[Batch]] | None = None
    retain_nll: Callable[[nn.Module], float] | None = None
    reinforced: nn.Module | None = None
    reference: nn.Module | None = None
    n_forget: int = 0
    n_retain: int = 0


class OneShotMethod(MethodInfo, Protocol):
    """A second, optional protocol for methods that edit the weights in one go instead of taking
    loss steps (task arithmetic, influence-function updates).

    Such a method has :class:`MethodInfo`'s class attributes and ``setup``, like
    :class:`UnlearningMethod`, and an ``apply(model, ctx)`` in place of ``loss``. When a method has ``apply``, the engine prepares
    what ``needs`` asks for (the reinforced model included), calls ``apply`` once INSTEAD of the
    loop, and records the returned dict of floats (e.g. the chosen scale) in
    ``TrainResult.method_info``; ``TrainResult.steps`` is 0. ``apply`` never steps an optimizer;
    parameter masks (``localize.saliency``) are re-applied by the engine afterwards.
    """

    def apply(self, model: nn.Module, ctx: OneShotContext) -> dict[str, float]: ...


def is_one_shot(method: object) -> bool:
    """True for a :class:`OneShotMethod` (it defines ``apply``)."""
    return callable(getattr(method, "apply", None))


METHODS: Registry[type] = Registry("method")


def register_method(cls: type) -> type:
    """Class decorator: register a method dataclass under its ``name`` class attribute."""
    return METHODS.register(cls.name)(cls)
