"""How the engine spreads one run over many processes (``accelerate launch`` / ``torchrun``).

* ``train.batch_size`` is the **global** batch of one optimizer step, whatever the number of
  processes: each process takes ``batch_size / (processes x grad_accum)`` examples per
  micro-step (:func:`per_process_batch`), so one config gives the same run on 1 or 8 GPUs.
* The loaders still draw the global micro-batches (``batch_size / grad_accum`` examples, same
  seed, same order as one process); :func:`shard_loader` hands each process its slice of every
  one. When the last micro-batch of a pass cannot be split evenly, each process's loss is
  weighted by ``processes x own / total`` (:attr:`ShardedBatchSampler.weight`), so that the
  averaged gradients equal the one-process mean for per-example losses; a process left with no
  example runs one with weight 0.
* Reference log-probs are computed once per example, split across processes and gathered
  (:func:`sharded_reference_logprobs`).
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import Any, ContextManager

import torch
from torch import nn
from torch.utils.data import DataLoader, Sampler

from obliviate.errors import ConfigError
from obliviate.evaluation.sharding import map_sharded
from obliviate.training.references import attach_reference_logprobs


def per_process_batch(batch_size: int, processes: int, grad_accum: int) -> int:
    """Examples per process per micro-step; a ConfigError when the global batch does not split."""
    share = processes * grad_accum
    if batch_size % share:
        ok = [share * k for k in range(1, 5)]
        raise ConfigError(
            f"train.batch_size={batch_size} is the global batch per optimizer step and must be a "
            f"multiple of processes x train.grad_accum = {processes} x {grad_accum} = {share}; "
            f"use e.g. train.batch_size={ok[0]} or {ok[1]}, or change train.grad_accum.")
    return batch_size // share


class ShardedBatchSampler(Sampler[list[int]]):
    """Process ``rank``'s contiguous slice of each global batch from ``inner``."""

    def __init__(self, inner: Any, rank: int, size: int) -> None:
        self.inner, self.rank, self.size = inner, rank, size
        self.weight = 1.0

    def __len__(self) -> int:
        return len(self.inner)

    def __iter__(self) -> Iterator[list[int]]:
        for batch in self.inner:
            indices, self.weight = shard_slice(list(batch), self.rank, self.size)
            yield indices


def shard_slice(batch: list[int], rank: int, size: int) -> tuple[list[int], float]:
    """Process ``rank``'s part of ``batch`` (sizes differ by at most one) and its loss weight
    ``size x len(part) / len(batch)``; an empty part becomes ``batch[:1]`` with weight 0."""
    base, extra = divmod(len(batch), size)
    start = rank * base + min(rank, extra)
    part = batch[start:start + base + (rank < extra)]
    if not part:
        return batch[:1], 0.0
    return part, size * len(part) / len(batch)


def shard_loader(loader: DataLoader | None, rank: int, size: int) -> DataLoader | None:
    """``loader``'s batches, each cut down to process ``rank``'s slice (same data, collate)."""
    if loader is None or size == 1:
        return loader
    sampler = ShardedBatchSampler(loader.batch_sampler, rank, size)
    return DataLoader(loader.dataset, batch_sampler=sampler, collate_fn=loader.collate_fn,
                      generator=loader.generator)  # each iter() draws a seed from it


def loss_weight(loader: DataLoader | None) -> float:
    """The weight of the micro-batch ``loader`` yielded last (1.0 for an unsharded loader)."""
    sampler = getattr(loader, "batch_sampler", None)
    return getattr(sampler, "weight", 1.0) if isinstance(sampler, ShardedBatchSampler) else 1.0


def sharded_reference_logprobs(model: nn.Module, items: list[dict], pad_id: int,
                               batch_size: int,
                               autocast: Callable[[], ContextManager] = contextlib.nullcontext
                               ) -> None:
    """Attach ``ref_logp`` to every item, each computed by one process only, then shared;
    ``autocast`` is the training's mixed-precision context (see ``references.py``)."""
    def compute(local: list[dict]) -> list[float]:
        copies = [dict(it) for it in local]
        attach_reference_logprobs(model, copies, pad_id, batch_size, autocast)
        return [c["ref_logp"] for c in copies]

    for item, value in zip(items, map_sharded(items, compute, batch_size)):
        item["ref_logp"] = value


def engine_name(accelerator: Any) -> str:
    """"single", "ddp", "fsdp" or "deepspeed-zero<stage>": what actually ran."""
    kind = str(accelerator.distributed_type).rsplit(".", 1)[-1]
    if kind == "NO":
        return "single"
    if kind == "FSDP":
        return "fsdp"
    if kind == "DEEPSPEED":
        stage = accelerator.state.deepspeed_plugin.zero_stage
        return f"deepspeed-zero{stage}"
    return "ddp"


def reduce_mean(values: dict[str, float], device: torch.device) -> dict[str, float]:
    """The mean of each named value over processes (every process passes the same names)."""
    if not values or not torch.distributed.is_initialized():
        return values
    names = sorted(values)
    t = torch.tensor([float(values[n]) for n in names], dtype=torch.float64, device=device)
    torch.distributed.all_reduce(t)
    t /= torch.distributed.get_world_size()
    return dict(zip(names, t.tolist()))


def reduce_sum(value: int, device: torch.device) -> int:
    if not torch.distributed.is_initialized():
        return value
    t = torch.tensor([value], dtype=torch.float64, device=device)
    torch.distributed.all_reduce(t)
    return int(t.item())


def shards_weights(accelerator: Any) -> bool:
    """True when no single process holds the full weights (FSDP, DeepSpeed ZeRO-3)."""
    name = engine_name(accelerator)
    return name == "fsdp" or name == "deepspeed-zero3"


def full_state_dict(accelerator: Any, prepared: nn.Module | None) -> dict | None:
    """The full state dict, gathered with every process's help (all must call this); None when
    each process already holds the full model (one process, DDP, ZeRO-1/2)."""
    if prepared is None or not shards_weights(accelerator):
        return None
    return accelerator.get_state_dict(prepared)


def prepare_reference(accelerator: Any, reference: nn.Module | None) -> nn.Module | None:
    """The frozen reference model sharded like the trained one, never a full replica per GPU
    under FSDP or ZeRO-3: FSDP wraps it as accelerate wraps the trained model (with FSDP2 in
    place, so a LoRA model's adapter-disabled reference is covered by the same wrapping);
    DeepSpeed gives it an inference engine with the run's ZeRO config (stage 3 partitions it,
    stages 1/2 keep a replica since they only shard optimizer state and gradients)."""
    from obliviate.training.lora import AdapterDisabledReference
    if reference is None or isinstance(reference, AdapterDisabledReference):
        return reference
    name = engine_name(accelerator)
    if name == "fsdp":
        reference = accelerator.prepare_model(reference)
    elif name.startswith("deepspeed"):
        reference = _deepspeed_reference(accelerator, reference)
    if reference is not None:
        reference.eval()  # DeepSpeedEngine.eval() returns None, not the engine
    return reference


def _deepspeed_reference(accelerator: Any, reference: nn.Module) -> nn.Module:
    return deepspeed_reference(accelerator.state.deepspeed_plugin.deepspeed_config, reference)


def deepspeed_reference(ds_config: dict, reference: nn.Module) -> nn.Module:
    """``reference`` in a DeepSpeed inference engine with the run's ZeRO config ``ds_config``
    (not changed): stage 3 partitions its weights, other stages keep a replica."""
    import copy

    import deepspeed

    config = copy.deepcopy(ds_config)
    config.pop("optimizer", None)
    config.pop("scheduler", None)
    if config.get("zero_optimization", {}).get("stage") != 3:
        config["zero_optimization"] = {"stage": 0}
    engine, *_ = deepspeed.initialize(model=reference, config=config)
    return engine


def check_requested_engine(lora_merge: bool = False) -> None:
    """A ConfigError when an accelerate config asks for DeepSpeed on one process of a machine
    without CUDA (with 2 or more, ``training/cpu_deepspeed.py`` runs ZeRO itself, as
    ``training/cpu_fsdp.py`` runs FSDP), or asks for sharded weights with ``lora.merge``
    (merging a sharded adapter is not supported: save the adapter, merge after)."""
    from obliviate.distributed import cpu_only, launched
    asked = [name for name, var in (("FSDP", "ACCELERATE_USE_FSDP"),
                                    ("DeepSpeed", "ACCELERATE_USE_DEEPSPEED"))
             if os.environ.get(var, "false").lower() == "true"]
    zero3 = os.environ.get("ACCELERATE_DEEPSPEED_ZERO_STAGE") == "3"
    if lora_merge and ("FSDP" in asked or ("DeepSpeed" in asked and zero3)):
        raise ConfigError("lora.merge=true is not supported with FSDP or ZeRO-3 (the adapter's "
                          "weights are sharded); set lora.merge=false to save the adapter, "
                          "then merge it on one process.")
    if "DeepSpeed" in asked and cpu_only() and not launched():  # 2+: cpu_deepspeed.py
        raise ConfigError(
            "the accelerate config asks for DeepSpeed on one CPU process, where there is "
            "nothing to partition over; launch 2 or more processes (--num_processes 2) or run "
            "without the accelerate config.")


def fill_deepspeed_config(accelerator: Any, per_process: int, grad_accum: int,
                          max_grad_norm: float | None) -> None:
    """Make DeepSpeed follow the run's config: its micro-batch (which accelerate would read from
    prepared data loaders; the engine shards its own, see :func:`shard_loader`), its
    accumulation (DeepSpeed's own value would otherwise win) and its gradient clipping."""
    plugin = getattr(accelerator.state, "deepspeed_plugin", None)
    if plugin is None or not engine_name(accelerator).startswith("deepspeed"):
        return
    config = plugin.deepspeed_config
    config["train_micro_batch_size_per_gpu"] = per_process
    config["gradient_accumulation_steps"] = grad_accum
    config["gradient_clipping"] = float(max_grad_norm or 0.0)
