"""Small helpers the method files share: forward passes, input checks and hyper-parameter checks.

Helpers, not a base class: every method stays a flat dataclass that reads top to bottom.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from obliviate.data.types import Batch
from obliviate.errors import ConfigError
from obliviate.methods.base import LossOutput, StepInputs
from obliviate.methods.losses import masked_nll, shift_logprobs


def logits_of(model: nn.Module, batch: Batch) -> torch.Tensor:
    """``[B, T, V]`` logits of ``model`` on a padded batch."""
    return model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits


@torch.no_grad()
def frozen_logits(reference: nn.Module, batch: Batch) -> torch.Tensor:
    """Logits of the frozen reference model, without a graph."""
    return logits_of(reference, batch)


def sequence_stats(logits: torch.Tensor, labels: torch.Tensor
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """From one log-prob pass: summed target log-prob ``[B]``, target count ``[B]`` and the
    batch's mean NLL (a scalar, same value as :func:`masked_nll`)."""
    logp, mask = shift_logprobs(logits, labels)
    n_tokens = mask.sum(dim=-1)
    return logp.sum(dim=-1), n_tokens, -logp.sum() / n_tokens.sum().clamp(min=1)


def require_batch(inputs: StepInputs, which: str, method: str) -> Batch:
    """``inputs.<which>`` or a ConfigError saying which data the method needs."""
    batch = getattr(inputs, which)
    if batch is None:
        raise ConfigError(f"method {method!r} needs a {which} batch every step; provide a "
                          f"{which} set (see `obliviate list methods` for each method's needs).")
    return batch


def require_key(batch: Batch, key: str, method: str, which: str) -> torch.Tensor:
    """``batch[key]`` or a ConfigError (e.g. reference log-probs the engine did not compute)."""
    if key not in batch:
        raise ConfigError(f"method {method!r} needs {key!r} on the {which} batch; the engine "
                          f"computes it when the method declares needs.reference_logprobs.")
    return batch[key]


def require_reference(inputs: StepInputs, method: str) -> nn.Module:
    if inputs.reference is None:
        raise ConfigError(f"method {method!r} needs a frozen reference model (needs.reference_model).")
    return inputs.reference


def retain_nll(model: nn.Module, inputs: StepInputs, weight: float) -> torch.Tensor | None:
    """NLL on the retain batch when there is one and ``weight > 0``, else ``None``."""
    if inputs.retain is None or weight <= 0:
        return None
    return masked_nll(logits_of(model, inputs.retain), inputs.retain["labels"])


def check_number(method: str, name: str, value: object, *, positive: bool = False,
                 non_negative: bool = False) -> float:
    """Check one numeric hyper-parameter; raise ConfigError naming the method and field."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{method}: {name} must be a finite number, got {value!r}.")
    if positive and value <= 0:
        raise ConfigError(f"{method}: {name} must be > 0, got {value!r}.")
    if non_negative and value < 0:
        raise ConfigError(f"{method}: {name} must be >= 0, got {value!r}.")
    return float(value)


def decoder_layers(model: nn.Module) -> nn.ModuleList:
    """The list of decoder blocks of a Hugging Face causal LM (Llama/Mistral/Qwen ``model.layers``,
    GPT-2 ``transformer.h``, GPT-NeoX ``gpt_neox.layers``), also under a PEFT wrapper."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    for path in ("model.layers", "transformer.h", "gpt_neox.layers", "model.decoder.layers"):
        node = base
        for attr in path.split("."):
            node = getattr(node, attr, None)
            if node is None:
                break
        if isinstance(node, nn.ModuleList):
            return node
    raise ConfigError(f"cannot find the decoder layers of {type(base).__name__}; supported: "
                      "model.layers, transformer.h, gpt_neox.layers, model.decoder.layers.")


def with_retain(total: torch.Tensor, parts: dict[str, float], model: nn.Module,
                inputs: StepInputs, weight: float) -> LossOutput:
    """``total + weight * NLL(retain)`` when there is a retain batch and ``weight > 0`` (logged
    as ``retain_loss``), else ``total``; returned as the step's :class:`LossOutput`."""
    retain = retain_nll(model, inputs, weight)
    if retain is not None:
        total = total + weight * retain
        parts["retain_loss"] = retain.item()
    return LossOutput(total, parts)
