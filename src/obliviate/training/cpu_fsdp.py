"""FSDP on CPUs: the engine shards the model itself with torch's FSDP2 (``fully_shard``).

accelerate (1.16) cannot run FSDP on CPU processes: ``AcceleratorState`` turns an FSDP config
into ``DistributedType.FSDP`` only for GPU-like process groups (``state.py``: the branch that
reads ``ACCELERATE_USE_FSDP`` is taken for ``MULTI_GPU``, ``MULTI_XPU``, ... but not for
``MULTI_CPU``), so a CPU launch with ``configs/accelerate/fsdp.yaml`` would silently run as
plain DDP over gloo. torch's FSDP2 itself works on CPU with gloo (all-gather and reduce-scatter
of the parameter shards), so when an accelerate FSDP config is launched on a machine without
CUDA, obliviate keeps accelerate's gloo group (``MULTI_CPU``) and wraps the model here instead
of letting accelerate wrap it in DDP:

* every decoder layer (the classes the model lists in ``_no_split_modules``, as accelerate's
  ``TRANSFORMER_BASED_WRAP`` does) and then the whole model become FSDP2 units, so parameters,
  gradients and the optimizer state are sharded over the processes; gradients are averaged by
  the reduce-scatter, as DDP averages them;
* the frozen reference model (GA-KL, RMU, UNDIAL, WHP) is sharded the same way;
* the full state dict is gathered with every process's help and kept by the main process only
  (:func:`gathered_state_dict`), which writes the model once.

Only FSDP2 is used on CPUs, and the config's other ``fsdp_*`` settings (version, offload, activation
checkpointing, wrap policy) are not read: it reshards after forward and wraps decoder layers.
"""
from __future__ import annotations

import os

import torch
from torch import nn

from obliviate.distributed import cpu_only, launched
from obliviate.errors import ConfigError


def requested() -> bool:
    """True when a multi-process CPU launch asks for FSDP (``accelerate launch`` with an FSDP
    config sets ``ACCELERATE_USE_FSDP=true``; with ``torchrun`` set it by hand)."""
    asked = os.environ.get("ACCELERATE_USE_FSDP", "false").lower() == "true"
    return asked and launched() and cpu_only()


def check_options(save_every: int | None, eval_every: int | None, saliency: object) -> None:
    """A ConfigError for what the CPU FSDP path does not support (checked before loading)."""
    if not requested():
        return
    unsupported = [name for name, value in (("train.save_every", save_every),
                                            ("train.eval_every", eval_every),
                                            ("localize.saliency", saliency)) if value]
    if unsupported:
        raise ConfigError(
            f"{unsupported[0]} is not supported with FSDP on CPUs (the weights are sharded "
            "over the processes); unset it, or launch with configs/accelerate/ddp.yaml.")


def _wrapped_classes(model: nn.Module) -> set[str]:
    names = set(getattr(model, "_no_split_modules", None) or [])
    inner = getattr(model, "get_base_model", None)  # a PEFT model: ask the model it wraps
    if not names and inner is not None:
        names = set(getattr(inner(), "_no_split_modules", None) or [])
    return names


def shard(model: nn.Module) -> nn.Module:
    """Shard ``model`` in place over the process group: each decoder layer, then the root."""
    from torch.distributed.fsdp import fully_shard

    layers = _wrapped_classes(model)
    for module in list(model.modules()):
        if module is not model and type(module).__name__ in layers:
            fully_shard(module)
    fully_shard(model)
    return model


def gathered_state_dict(model: nn.Module) -> dict:
    """The full state dict of a sharded ``model`` (every process must call this): on the main
    process the full tensors on CPU, on the others an empty dict."""
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

    options = StateDictOptions(full_state_dict=True, cpu_offload=True)
    return get_model_state_dict(model, options=options)


def shard_reference(reference: nn.Module | None) -> nn.Module | None:
    """The frozen reference sharded like the trained model (never a full replica per process);
    a LoRA model's adapter-disabled reference is the trained model itself, already sharded."""
    from obliviate.training.lora import AdapterDisabledReference

    if reference is None or isinstance(reference, AdapterDisabledReference):
        return reference
    return shard(reference).eval()


def local(tensor: torch.Tensor) -> torch.Tensor:
    """This process's shard of a sharded (DTensor) parameter; any other tensor as it is."""
    from torch.distributed.tensor import DTensor

    return tensor.to_local() if isinstance(tensor, DTensor) else tensor
