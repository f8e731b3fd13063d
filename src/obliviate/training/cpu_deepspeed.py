"""DeepSpeed ZeRO-2 / ZeRO-3 on CPUs: the engine calls ``deepspeed.initialize`` itself.

accelerate (1.16) turns an accelerate DeepSpeed config into ``DistributedType.DEEPSPEED`` only
without ``cpu=True`` (``state.py``: ``ACCELERATE_USE_DEEPSPEED ... and not cpu``), and without
``cpu=True`` a machine with no accelerator forms no process group at all; so on CPUs accelerate
would run the processes as plain DDP over gloo. DeepSpeed itself runs on CPUs (its CPU
accelerator talks over gloo when oneCCL is absent, after compiling its small shared-memory
all-reduce op once, about a minute), so when an accelerate DeepSpeed config is launched with 2
or more processes on a machine without CUDA, obliviate keeps accelerate's gloo group and:

* wraps the model and the method's optimizer (the client optimizer: torch's AdamW by default)
  with ``deepspeed.initialize`` at the ZeRO stage the launch asks for
  (``ACCELERATE_DEEPSPEED_ZERO_STAGE``), with the run's micro-batch, accumulation and clipping;
  DeepSpeed then averages and partitions the gradients (and at stage 3 the weights), clips and
  steps (:class:`EngineOptimizer`);
* at stage 3 partitions the frozen reference model (GA-KL, RMU, ...) with a ZeRO-3 inference
  engine, as on GPUs (``distributed.deepspeed_reference``); at stage 2 each process keeps the
  reference whole, as it keeps the trained weights whole;
* at stage 3 gathers the full weights with every process's help for the one save on the main
  process (:func:`gathered_state_dict`).

The config's offload and ``zero3_init_flag`` settings are not read on CPUs (no offload, the
model is loaded whole and then partitioned). See docs/scaling.md ("DeepSpeed on CPUs").
"""
from __future__ import annotations

import importlib.util
import os

import torch
from torch import nn

from obliviate.distributed import cpu_only, launched
from obliviate.errors import ConfigError

INSTALL = ("DS_ACCELERATOR=cpu DS_BUILD_OPS=0 pip install --no-deps --no-build-isolation "
           "deepspeed einops hjson msgpack ninja py-cpuinfo")


def asked() -> bool:
    """True when the launch asks for DeepSpeed (``accelerate launch`` with a DeepSpeed config
    sets ``ACCELERATE_USE_DEEPSPEED=true``; with ``torchrun`` set it by hand)."""
    return os.environ.get("ACCELERATE_USE_DEEPSPEED", "false").lower() == "true"


def requested() -> bool:
    """True when a multi-process launch on CPUs asks for DeepSpeed (one process: nothing to
    partition over, the run is the plain one-process run)."""
    return asked() and launched() and cpu_only()


def installed() -> bool:
    return importlib.util.find_spec("deepspeed") is not None


def zero_stage() -> int:
    """The ZeRO stage the launch asks for (``ACCELERATE_DEEPSPEED_ZERO_STAGE``, default 2)."""
    stage = os.environ.get("ACCELERATE_DEEPSPEED_ZERO_STAGE", "2")
    if stage not in ("2", "3"):
        raise ConfigError(f"ZeRO stage {stage} is not supported on CPUs (2 or 3 are); set "
                          "zero_stage: 2 or 3 in the accelerate config.")
    return int(stage)


def check_options(save_every: int | None, eval_every: int | None, saliency: object,
                  optimizer: str) -> None:
    """A ConfigError, before loading, for what the CPU DeepSpeed path cannot do."""
    if not requested():
        return
    if not installed():
        raise ConfigError("the accelerate config asks for DeepSpeed, which is not installed; "
                          f"on CPUs install it with `{INSTALL}`, or launch with "
                          "configs/accelerate/fsdp.yaml or ddp.yaml.")
    zero_stage()
    unsupported = [name for name, value in (("train.save_every", save_every),
                                            ("train.eval_every", eval_every),
                                            ("localize.saliency", saliency),
                                            ("optimizer=sophia", optimizer == "sophia")) if value]
    if unsupported:
        raise ConfigError(
            f"{unsupported[0]} is not supported with DeepSpeed on CPUs (DeepSpeed owns the "
            "gradients and the optimizer's parameters); unset it, or launch with "
            "configs/accelerate/ddp.yaml.")


def config(per_process: int, grad_accum: int, max_grad_norm: float | None,
           dtype: torch.dtype) -> dict:
    """The DeepSpeed config of the run: ZeRO stage from the launch, the rest from obliviate's."""
    return {"train_micro_batch_size_per_gpu": per_process,
            "gradient_accumulation_steps": grad_accum,
            "gradient_clipping": float(max_grad_norm or 0.0),
            "zero_optimization": {"stage": zero_stage()},
            "bf16": {"enabled": dtype == torch.bfloat16},
            "zero_allow_untested_optimizer": True,  # the method's own (torch) optimizer
            "steps_per_print": 2 ** 31 - 1, "wall_clock_breakdown": False}


class EngineOptimizer:
    """What the engine's loop steps: ``step`` is DeepSpeed's (it clips, steps the optimizer at
    the accumulation boundary only, and clears the gradients); ``zero_grad`` has nothing left
    to do. ``param_groups`` are the client optimizer's (the LR schedule writes them)."""

    def __init__(self, engine: nn.Module, client: torch.optim.Optimizer) -> None:
        self.engine, self.param_groups = engine, client.param_groups

    def step(self) -> None:
        self.engine.step()

    def zero_grad(self, set_to_none: bool = True) -> None:
        return None


def initialize(model: nn.Module, optimizer: torch.optim.Optimizer,
               ds_config: dict) -> tuple[nn.Module, EngineOptimizer]:
    """``model`` wrapped in a DeepSpeed engine with ``optimizer``; the group must exist."""
    import deepspeed

    engine, *_ = deepspeed.initialize(model=model, optimizer=optimizer, config=ds_config)
    return engine, EngineOptimizer(engine, optimizer)


def shard_reference(reference: nn.Module | None, ds_config: dict) -> nn.Module | None:
    """The frozen reference at ZeRO-3 partitioned by an inference engine (never a full replica
    per process); at ZeRO-2 kept whole, as the trained weights are; a LoRA model's
    adapter-disabled reference is the trained model itself."""
    from obliviate.training.distributed import deepspeed_reference
    from obliviate.training.lora import AdapterDisabledReference

    if (reference is None or isinstance(reference, AdapterDisabledReference)
            or ds_config["zero_optimization"]["stage"] != 3):
        return reference
    engine = deepspeed_reference(ds_config, reference)
    engine.eval()  # returns None, unlike nn.Module.eval()
    return engine


def backward(engine: nn.Module, loss: torch.Tensor) -> None:
    """DeepSpeed's backward: scales by the accumulation and reduces (partitions) gradients."""
    engine.backward(loss)


def gathered_state_dict(engine: nn.Module) -> dict | None:
    """ZeRO-3: the full weights gathered with every process's help (every process must call
    this), on the main process on CPU, on the others an empty dict; ZeRO-2: None (every
    process holds the full weights in the unwrapped model)."""
    if engine.zero_optimization_stage() != 3:
        return None
    state = engine._zero3_consolidated_16bit_state_dict()
    return dict(state) if state is not None else {}


def local(tensor: torch.Tensor) -> torch.Tensor:
    """This process's partition of a ZeRO-3 parameter; any other tensor as it is."""
    return getattr(tensor, "ds_tensor", tensor)
