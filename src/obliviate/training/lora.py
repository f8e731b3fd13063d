"""LoRA for any method, through peft (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large
Language Models", arXiv:2106.09685).

``wrap_lora`` adds a fresh adapter before training (its B matrices start at zero, so the
wrapped model computes exactly what the original did). While the adapter is still that
identity, the original model is available for free: :class:`AdapterDisabledReference` runs the
same model with the adapter disabled, so KL / RMU / WHP need no deep copy, and reference
log-probs (NPO, DPO) computed before training are the base model's. ``export_model`` returns
what to save: the merged full model (``lora.merge=true``) or the PeftModel, whose
``save_pretrained`` writes only ``adapter_config.json`` + ``adapter_model.safetensors`` with
``base_model_name_or_path`` set to the model the user named, so ``load_model(out)`` finds it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from obliviate.config import LoraSettings
from obliviate.errors import ConfigError


def is_peft(model: nn.Module) -> bool:
    return hasattr(model, "peft_config") and hasattr(model, "disable_adapter")


def wrap_lora(model: nn.Module, settings: LoraSettings, base_spec: str | None = None) -> nn.Module:
    """``model`` with a fresh, trainable LoRA adapter (``model`` itself when LoRA is off)."""
    if not settings.enabled:
        return model
    from peft import LoraConfig, get_peft_model

    if is_peft(model):
        raise ConfigError("lora.enabled=true needs a plain model, but the model already carries "
                          "an adapter; merge it first or train that adapter without lora.enabled")
    config = LoraConfig(r=settings.r, lora_alpha=settings.alpha, lora_dropout=settings.dropout,
                        target_modules=settings.target_modules, task_type="CAUSAL_LM")
    try:
        wrapped = get_peft_model(model, config)
    except ValueError as err:
        raise ConfigError(f"cannot add a LoRA adapter: {err}. Check lora.target_modules "
                          "(module names of the model, or 'all-linear').") from None
    if base_spec is not None:
        wrapped.peft_config["default"].base_model_name_or_path = _base_name(base_spec)
    return wrapped


def _base_name(spec: str | None) -> str | None:
    """An embedded name or hub id as given; a local path made absolute."""
    if spec is None:
        return None
    path = Path(spec).expanduser()
    return str(path.resolve()) if path.exists() else spec


def adapter_is_identity(model: nn.Module) -> bool:
    """True for a LoRA model whose every B matrix is zero: it computes what its base does."""
    if not is_peft(model):
        return False
    b_mats = [p for n, p in model.named_parameters() if "lora_B" in n or "lora_embedding_B" in n]
    return bool(b_mats) and all(not p.detach().any() for p in b_mats)


class AdapterDisabledReference(nn.Module):
    """The base model of a PeftModel as a frozen reference: forward runs the SAME model with its
    adapter disabled, in eval mode and without a graph. Not a copy: no weights are duplicated."""

    def __init__(self, peft_model: nn.Module):
        super().__init__()
        object.__setattr__(self, "peft_model", peft_model)  # not a submodule: eval() stays local

    @property
    def config(self) -> Any:
        return self.peft_model.config

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        model = self.peft_model
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad(), model.disable_adapter():
                return model(*args, **kwargs)
        finally:
            model.train(was_training)


def export_model(model: nn.Module, settings: LoraSettings) -> nn.Module:
    """What to save: the merged full model when ``merge``, else the model as it is."""
    if settings.enabled and settings.merge and is_peft(model):
        return model.merge_and_unload()
    return model
