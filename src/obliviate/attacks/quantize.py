"""Quantization attack: round a copy's linear-layer weights to few bits and evaluate.

Zhang et al. 2024, "Catastrophic Failure of LLM Unlearning via Quantization"
(arXiv:2410.16454): unlearning with small weight changes (gradient ascent, NPO with a utility
term) can be undone by quantizing, because the unlearned weights round to the same grid points
as the original ones. Simulated quantisation: quantise, then dequantise in float, so any
backend runs the rounded model.

Schemes (round-to-nearest, no calibration data, as in the paper's RTN baseline):

* ``int8``: per output channel, symmetric: ``s = max|w_row| / 127``, ``q = clamp(round(w/s),
  -127, 127)``.
* ``int4_sym``: groups of ``group_size`` consecutive input weights per output row (the last
  group may be shorter), ``s = max|w_g| / 7``, ``q = clamp(round(w/s), -8, 7)``.
* ``int4_asym``: per group, ``s = (max - min) / 15``, zero point ``z = round(-min / s)``,
  ``q = clamp(round(w/s) + z, 0, 15)``, ``w' = (q - z) s``.

Each weight moves by at most half a step (``s/2``) in the symmetric schemes and at most one
step in the asymmetric one (the rounded zero point can push an end of the range one step). The
output head (``lm_head``, often tied to the input embeddings) is left alone unless asked.
"""
from __future__ import annotations

from typing import Any, Iterator

import torch
from torch import nn

from obliviate.attacks.base import AttackContext, AttackView, attack
from obliviate.attacks.relearn import model_copy
from obliviate.errors import ConfigError

SCHEMES = ("int8", "int4_sym", "int4_asym")


def _groups(w: torch.Tensor, group_size: int) -> tuple[torch.Tensor, int]:
    """``w`` [out, in] as [out, n_groups, group_size], zero-padded; and the padding width."""
    out_features, in_features = w.shape
    pad = (-in_features) % group_size
    padded = torch.nn.functional.pad(w, (0, pad))
    return padded.reshape(out_features, -1, group_size), pad


def _ungroup(g: torch.Tensor, pad: int) -> torch.Tensor:
    w = g.reshape(g.shape[0], -1)
    return w[:, : w.shape[1] - pad] if pad else w


def quantize_int8(w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-output-channel symmetric int8, dequantised; and the step ``s`` per row [out, 1]."""
    x = w.float()
    step = (x.abs().amax(dim=1, keepdim=True) / 127).clamp(min=torch.finfo(torch.float32).tiny)
    return (torch.round(x / step).clamp(-127, 127) * step).to(w.dtype), step


def quantize_int4(w: torch.Tensor, group_size: int = 128,
                  symmetric: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Group-wise 4-bit, dequantised; and the step per weight (same shape as ``w``)."""
    g, pad = _groups(w.float(), group_size)
    tiny = torch.finfo(torch.float32).tiny
    if symmetric:
        step = (g.abs().amax(dim=-1, keepdim=True) / 7).clamp(min=tiny)
        deq = torch.round(g / step).clamp(-8, 7) * step
    else:
        low, high = g.amin(dim=-1, keepdim=True), g.amax(dim=-1, keepdim=True)
        step = ((high - low) / 15).clamp(min=tiny)
        zero = torch.round(-low / step)
        deq = (torch.round(g / step).add(zero).clamp(0, 15) - zero) * step
    steps = _ungroup(step.expand_as(g), pad)
    return _ungroup(deq, pad).to(w.dtype), steps


def quantize_weight(w: torch.Tensor, scheme: str, group_size: int = 128) -> torch.Tensor:
    """``w`` rounded with ``scheme`` (one of :data:`SCHEMES`) and dequantised."""
    if scheme == "int8":
        return quantize_int8(w)[0]
    if scheme in ("int4_sym", "int4_asym"):
        return quantize_int4(w, group_size, scheme == "int4_sym")[0]
    raise ConfigError(f"unknown quantization scheme {scheme!r}; known: {', '.join(SCHEMES)}.")


@torch.no_grad()
def quantize_model(model: nn.Module, scheme: str, group_size: int = 128,
                   include_lm_head: bool = False) -> tuple[nn.Module, int]:
    """A copy of ``model`` whose ``nn.Linear`` weights are rounded; and how many layers were."""
    twin = model_copy(model)
    head = twin.get_output_embeddings() if hasattr(twin, "get_output_embeddings") else None
    count = 0
    for module in twin.modules():
        if isinstance(module, nn.Linear) and (include_lm_head or module is not head):
            module.weight.copy_(quantize_weight(module.weight, scheme, group_size))
            count += 1
    twin.eval()
    return twin, count


@attack("quantize", "round a copy's linear weights to int8 / 4-bit and re-evaluate")
def quantize_attack(ctx: AttackContext) -> Iterator[AttackView]:
    """One view per scheme of ``settings.quant_schemes``, on every data set (yielded one at a
    time, so only one rounded copy lives at once)."""
    s = ctx.settings
    for scheme in s.quant_schemes:
        twin, count = quantize_model(ctx.model, scheme, s.quant_group_size, s.quantize_lm_head)
        settings: dict[str, Any] = {"scheme": scheme, "linear_layers": count,
                                    "lm_head": s.quantize_lm_head}
        if scheme != "int8":
            settings["group_size"] = s.quant_group_size
        yield AttackView(scheme, twin, dict(ctx.datasets), {}, settings)
