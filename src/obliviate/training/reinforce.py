"""The reinforced-model stage (Eldan and Russinovich 2023, "Who's Harry Potter? Approximate
Unlearning in LLMs", arXiv:2310.02238; also the fine-tuned model of task arithmetic, Ilharco et
al. 2023, arXiv:2212.04089).

When ``method.needs.reinforced_model``, the engine deep-copies the model (as it is after the
parameter selection, so with LoRA the copy trains its adapter and with ``localize.modules`` the
selected weights), fine-tunes the copy on the forget data with the ``sft`` method through the
same :class:`~obliviate.training.Engine` (no second loop) for ``method.reinforce_steps`` optimizer
steps at ``method.reinforce_lr`` (AdamW, constant schedule, no warm-up; batch size, accumulation,
weight decay, clipping and seed from ``train``), then freezes it (eval mode, no gradients).
"""
from __future__ import annotations

import copy
import dataclasses
import math

from torch import nn

from obliviate.errors import ConfigError
from obliviate.training.references import freeze


def reinforce_settings(method: object) -> tuple[int, float]:
    """``(reinforce_steps, reinforce_lr)`` of a method that needs a reinforced model."""
    name = getattr(method, "name", type(method).__name__)
    steps, lr = getattr(method, "reinforce_steps", None), getattr(method, "reinforce_lr", None)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ConfigError(f"method {name!r} needs a reinforced model: reinforce_steps must be an "
                          f"integer >= 1, got {steps!r}")
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr <= 0:
        raise ConfigError(f"method {name!r}: reinforce_lr must be a number > 0, got {lr!r}")
    return steps, float(lr)


def reinforce_stage(engine, model: nn.Module, data, pad_id: int) -> tuple[nn.Module | None, int]:
    """``(frozen reinforced copy, steps it trained)``, or ``(None, 0)`` when not needed."""
    if not engine.method.needs.reinforced_model:
        return None, 0
    from obliviate.methods.sft import SupervisedFineTuning

    steps, lr = reinforce_settings(engine.method)
    cfg = dataclasses.replace(engine.cfg, lr=lr, max_steps=steps, warmup_steps=0,
                              scheduler="constant")
    reinforced = copy.deepcopy(model)
    inner = type(engine)(SupervisedFineTuning(), cfg, optimizer="adamw", progress=engine.progress)
    result = inner.fit(reinforced, type(data)(forget=data.forget), pad_id)
    return freeze(reinforced), result.steps
