"""Small helpers the method files share: forward passes, input checks and hyper-parameter checks.

Helpers, not a base class: every method stays a flat dataclass that reads top to bottom.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from obliviate.data.types import IGNORE_INDEX, Batch
from obliviate.errors import ConfigError
from obliviate.methods.base import LossOutput, StepInputs
from obliviate.methods.losses import masked_nll, shift_logprobs
from obliviate.models.head import logits_at, next_token_positions


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


def target_logprobs(model: nn.Module, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
    """``shift_logprobs(logits_of(model, batch), batch["labels"])`` without the ``[B, T, V]``
    logits: the output layer and the log-softmax run only at the positions that predict a target
    token (:func:`obliviate.models.head.logits_at`). Returns ``(logp [B, T-1], mask [B, T-1])``."""
    labels = batch["labels"]
    rows = logits_at(model, next_token_positions(labels), input_ids=batch["input_ids"],
                     attention_mask=batch["attention_mask"]).float()
    mask = labels[:, 1:] != IGNORE_INDEX
    picked = rows.gather(-1, labels[:, 1:][mask].unsqueeze(-1)).squeeze(-1)
    logp = rows.new_zeros(mask.shape)
    return logp.masked_scatter(mask, picked - torch.logsumexp(rows, dim=-1)), mask


def target_stats(model: nn.Module, batch: Batch
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """:func:`sequence_stats` of ``model`` on ``batch``, through :func:`target_logprobs`."""
    logp, mask = target_logprobs(model, batch)
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


def batch_nll(model: nn.Module, batch: Batch) -> torch.Tensor:
    """Mean token NLL of ``model`` on a padded batch's targets (:func:`masked_nll` of its full
    logits)."""
    return masked_nll(logits_of(model, batch), batch["labels"])


def forget_parts(forget_loss: torch.Tensor, logits: torch.Tensor, labels: torch.Tensor
                 ) -> dict[str, float]:
    """The usual first log parts of a step: ``forget_loss`` and the forget NLL of ``logits``
    (detached)."""
    return {"forget_loss": forget_loss.item(),
            "forget_nll": masked_nll(logits.detach(), labels).item()}


def renamed_part(out: LossOutput, old: str, new: str) -> LossOutput:
    """``out`` with its part ``old`` logged as ``new`` (moved to the end), for a method that
    wraps another one (AltPO around DPO, RMU-LAT around RMU / NPO)."""
    parts = dict(out.parts)
    parts[new] = parts.pop(old)
    return LossOutput(out.loss, parts)


def retain_nll(model: nn.Module, inputs: StepInputs, weight: float) -> torch.Tensor | None:
    """NLL on the retain batch when there is one and ``weight > 0``, else ``None``."""
    if inputs.retain is None or weight <= 0:
        return None
    logp, mask = target_logprobs(model, inputs.retain)  # = masked_nll on full logits
    return -logp.sum() / mask.sum().clamp(min=1)


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


def check_fields(method: object, *names: str, positive: bool = False,
                 non_negative: bool = False) -> None:
    """:func:`check_number` on each named field of a method dataclass, in order, storing the
    checked float back (for ``__post_init__``)."""
    for name in names:
        value = check_number(method.name, name, getattr(method, name), positive=positive,
                             non_negative=non_negative)
        setattr(method, name, value)


def check_int(method: str, name: str, value: object, minimum: int) -> int:
    """Check one integer hyper-parameter (booleans refused); raise ConfigError naming the method
    and field."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{method}: {name} must be an integer >= {minimum}, got {value!r}.")
    return value


def check_flag(method: str, name: str, value: object) -> bool:
    """Check one true/false hyper-parameter; raise ConfigError naming the method and field."""
    if not isinstance(value, bool):
        raise ConfigError(f"{method}: {name} must be true or false, got {value!r}.")
    return value


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
