"""The one training engine every method runs in.

The engine owns the loop: batches, optimizer, schedule, accumulation, clipping, logging and
the NaN guard. Methods only turn a step's inputs into a loss (see ``methods/base.py``). It runs
on ``accelerate``, so the same code serves one CPU, one GPU and ``accelerate launch``.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from accelerate import Accelerator
from accelerate.utils import send_to_device, set_seed
from torch import nn
from tqdm.auto import tqdm
from transformers import get_scheduler

from obliviate.config import LocalizeConfig, TrainConfig
from obliviate.distributed import cpu_only
from obliviate.data.types import TokenizedExample
from obliviate.errors import ConfigError, TrainingError
from obliviate.methods.base import StepInputs, UnlearningMethod, is_one_shot
from obliviate.training import batches, cpu_deepspeed, cpu_fsdp
from obliviate.training import distributed as dist
from obliviate.training.checkpoint import Checkpointer, resume_loop, save_due
from obliviate.training.compile import compile_decoder
from obliviate.training.hooks import StepHooks
from obliviate.training.localize import SaliencyMask, name_filter, saliency_mask
from obliviate.training.logging import StepLog
from obliviate.training.lora import is_peft
from obliviate.training.memory import peak_memory_mb, reset_peak_memory
from obliviate.training.one_shot import run_one_shot
from obliviate.training.optim import build_optimizer
from obliviate.training.references import reference_model
from obliviate.training.reinforce import reinforce_stage


@dataclass
class TrainingData:
    """Tokenised sets; ``idk`` rows are the forget questions with refusal answers, aligned."""

    forget: list[TokenizedExample]
    retain: list[TokenizedExample] | None = None
    idk: list[TokenizedExample] | None = None


@dataclass
class TrainResult:
    steps: int
    tokens_processed: int
    wall_time_s: float
    peak_memory_mb: float
    trainable_parameters: int
    total_parameters: int
    log: list[dict] = field(default_factory=list)
    reinforce_steps: int = 0
    method_info: dict[str, float] = field(default_factory=dict)
    masked_kept: int | None = None
    distributed: dict = field(default_factory=dict)


class Engine:
    """Runs ``method`` on a model. ``param_filter(name) -> bool`` limits the trained weights;
    ``localize`` adds a parameter-name regex and a SalUn saliency mask (``training/localize.py``).
    A LoRA-wrapped model (``training/lora.py``) trains its adapter only. Set ``step_eval`` (a
    :class:`~obliviate.training.periodic_eval.PeriodicEval`) to evaluate during training and
    ``reference_cache`` to reuse reference log-probs across runs (sweeps)."""

    step_eval = None
    reference_cache = None

    def __init__(self, method: UnlearningMethod, train: TrainConfig, optimizer: str = "adamw",
                 optimizer_args: dict | None = None, log_path: str | None = None,
                 param_filter: Callable[[str], bool] | None = None, progress: bool = True,
                 localize: LocalizeConfig | None = None):
        self.method, self.cfg = method, train
        self.optimizer_name, self.optimizer_args = optimizer, dict(optimizer_args or {})
        self.log_path, self.param_filter, self.progress = log_path, param_filter, progress
        self.localize = localize or LocalizeConfig()
        self.on_step: Callable[[dict], None] | None = None  # sees each step record (trackers)
        self.checkpoint: Checkpointer | None = None  # set by the caller: save_every / resume
        self.generator: torch.Generator | None = None
        self.steps_per_epoch = 1.0  # set by _total_steps; StepInputs.epoch = step / this
        self.accelerator = Accelerator(cpu=cpu_only(), mixed_precision=self._mixed_precision(),
                                       gradient_accumulation_steps=train.grad_accum)
        # a launch's ACCELERATE_GRADIENT_ACCUMULATION_STEPS (a DeepSpeed config's, say) would win
        self.accelerator.gradient_accumulation_steps = train.grad_accum
        self.per_process_batch = dist.per_process_batch(
            train.batch_size, self.accelerator.num_processes, train.grad_accum)
        self.prepared: nn.Module | None = None  # the model as wrapped for DDP / FSDP / DeepSpeed
        self.cpu_fsdp = cpu_fsdp.requested()  # FSDP asked on CPUs: the engine shards itself
        self.cpu_deepspeed = cpu_deepspeed.requested()  # likewise DeepSpeed ZeRO-2 / ZeRO-3
        self._forget_loader = None  # its sampler knows the current micro-batch's loss weight

    def fit(self, model: nn.Module, data: TrainingData, pad_id: int) -> TrainResult:
        """Train in place and return what the run cost; raise TrainingError on NaN/inf."""
        acc, cfg = self.accelerator, self.cfg
        self._check_data(data)
        set_seed(cfg.seed)
        generator = self.generator = torch.Generator().manual_seed(cfg.seed)
        model = model.to(acc.device)
        params = self._select_trainable(model)
        if cfg.gradient_checkpointing:
            model.gradient_checkpointing_enable()
            model.config.use_cache = False
        self.method.setup(model, generator)
        if cfg.compile:
            compile_decoder(model)
        reset_peak_memory()
        start = time.perf_counter()
        reinforced, reinforce_steps = reinforce_stage(self, model, data, pad_id)
        forget, retain, reference = self._prepare_data(model, data, pad_id, generator)
        mask = self._saliency(model, params, data, pad_id)
        result = TrainResult(0, 0, 0.0, 0.0, sum(p.numel() for p in params),
                             sum(p.numel() for p in model.parameters()),
                             reinforce_steps=reinforce_steps,
                             masked_kept=mask.kept if mask else None,
                             distributed=self.layout())
        frozen = {"reference": reference, "reinforced": reinforced}
        if is_one_shot(self.method):  # edits the weights once instead of the loop
            result.method_info = run_one_shot(self.method, model, data, pad_id, cfg.batch_size,
                                              **frozen)
            if mask is not None:
                mask.restore()
        else:
            result.steps = self._total_steps(forget, retain)
            log = self._train(model, params, forget, retain, frozen, mask, result.steps)
            result.tokens_processed, result.log = log.tokens, log.records
            result.steps = log.records[-1]["step"] if log.records else result.steps  # early stop
            if self.cpu_fsdp:  # the sharded parameters that replaced the selected ones
                params = [p for p in self.prepared.parameters() if p.requires_grad]
        self._check_weights(params, result.steps)
        result.wall_time_s = time.perf_counter() - start
        result.peak_memory_mb = peak_memory_mb(acc.device)
        return result

    def _train(self, model, params, forget, retain, frozen, mask, total) -> StepLog:
        cfg = self.cfg
        if self.cpu_fsdp:  # accelerate cannot shard on CPUs (training/cpu_fsdp.py)
            params = [p for p in cpu_fsdp.shard(model).parameters() if p.requires_grad]
            frozen["reference"] = cpu_fsdp.shard_reference(frozen["reference"])
        raw = build_optimizer(self.optimizer_name, params, cfg.lr, cfg.weight_decay,
                              self.optimizer_args)
        scheduler = get_scheduler(cfg.scheduler, raw, cfg.warmup_steps, total)
        dist.fill_deepspeed_config(self.accelerator, self.per_process_batch, cfg.grad_accum,
                                   cfg.max_grad_norm)
        if self.cpu_deepspeed:  # accelerate cannot run DeepSpeed on CPUs (cpu_deepspeed.py)
            ds_config = cpu_deepspeed.config(self.per_process_batch, cfg.grad_accum,
                                             cfg.max_grad_norm, params[0].dtype)
            model, optimizer = cpu_deepspeed.initialize(model, raw, ds_config)
            frozen["reference"] = cpu_deepspeed.shard_reference(frozen["reference"], ds_config)
        elif self.cpu_fsdp:  # the optimizer only: accelerate would wrap the model in DDP
            optimizer = self.accelerator.prepare(raw)
        else:
            model, optimizer = self.accelerator.prepare(model, raw)
            frozen["reference"] = dist.prepare_reference(self.accelerator, frozen["reference"])
        self.prepared, self._forget_loader = model, forget
        return self._loop(model, optimizer, scheduler, batches.paired(forget, retain), frozen,
                          params, total, StepHooks(model, raw, mask))

    def _loop(self, model, optimizer, scheduler, stream, frozen, params, total, hooks) -> StepLog:
        acc = self.accelerator
        log = StepLog(self.log_path if acc.is_main_process else None,
                      self.on_step if acc.is_main_process else None)
        bar = tqdm(total=total, desc=f"unlearning ({self.method.name})", unit="step",
                   disable=not (self.progress and acc.is_local_main_process))
        model.train()
        step, micro_count = resume_loop(self, model, optimizer, scheduler, stream, log, bar)
        while step < total:
            micro = send_to_device(next(stream), acc.device)
            weight = dist.loss_weight(self._forget_loader)
            micro_count += 1
            with acc.accumulate(*self._synced(model)), acc.autocast():  # the references too
                out = self.method.loss(model, StepInputs(
                    forget=micro["forget"], retain=micro.get("retain"), idk=micro.get("idk"),
                    step=step, epoch=step / self.steps_per_epoch, **frozen))
                self._guard(out.loss, step)
                self._backward(model, out.loss if weight == 1.0 else out.loss * weight, hooks,
                               params)
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
            log.add_micro(*self._logged(out, micro, weight))
            if acc.sync_gradients:
                lr = scheduler.get_last_lr()[0]  # the rate this step used
                scheduler.step()
                step += 1
                hooks.after_step(step, micro["forget"])
                evals = (self.step_eval(acc.unwrap_model(model), step, total)
                         if self.step_eval is not None else None)
                bar.set_postfix(log.end_step(step, lr, evals), refresh=False)
                bar.update(1)
                save_due(self, step, micro_count, total, model, optimizer, scheduler, log)
                if self.step_eval is not None and self.step_eval.should_stop:
                    break
        bar.close()
        log.close()
        return log

    def _synced(self, model) -> tuple:
        """What ``accumulate`` may wrap in ``no_sync``: DeepSpeed on CPUs (whose ZeRO-2/3
        engine refuses ``no_sync``) accumulates by itself, as under accelerate's DeepSpeed."""
        return () if self.cpu_deepspeed else (model,)

    def _backward(self, model, loss: torch.Tensor, hooks: StepHooks, params) -> None:
        """Backward; at the end of an accumulation, the mask hook and clipping (DeepSpeed on
        CPUs clips in its own step)."""
        acc = self.accelerator
        if self.cpu_deepspeed:
            cpu_deepspeed.backward(model, loss)
            return
        acc.backward(loss)
        if acc.sync_gradients:
            hooks.before_clip()
            if self.cfg.max_grad_norm:
                acc.clip_grad_norm_(params, self.cfg.max_grad_norm)

    def _prepare_data(self, model, data: TrainingData, pad_id: int, generator):
        needs, cfg = self.method.needs, self.cfg
        forget = batches.as_items(data.forget)
        idk = batches.as_items(data.idk) if data.idk is not None else None
        retain = batches.as_items(data.retain) if data.retain else None
        if needs.reference_logprobs:
            cache = self.reference_cache
            attach = cache.attach if cache is not None else dist.sharded_reference_logprobs
            for items in (forget, idk, retain):
                if items:
                    attach(model, items, pad_id, self.per_process_batch,
                           self.accelerator.autocast)
        reference = reference_model(model) if needs.reference_model else None
        micro = cfg.batch_size // cfg.grad_accum  # the global micro-batch, split below
        forget_dl = batches.forget_loader(forget, idk, micro, pad_id, generator)
        retain_dl = (batches.retain_loader(retain, micro, pad_id, generator)
                     if retain else None)
        rank, size = self.accelerator.process_index, self.accelerator.num_processes
        return (dist.shard_loader(forget_dl, rank, size), dist.shard_loader(retain_dl, rank, size),
                reference)

    def _logged(self, out, micro: dict, weight: float) -> tuple:
        """What the step log records for a micro-step: this process's values with one
        process, else the mean over processes (the one-process value) and the summed tokens."""
        if self.accelerator.num_processes == 1:
            return out, micro, None
        values = {k: weight * float(v) for k, v in out.parts.items()}
        values["loss"] = weight * float(out.loss.detach())
        tokens = sum(int(b["attention_mask"].sum()) for b in micro.values()) if weight else 0
        mean = dist.reduce_mean(values, self.accelerator.device)
        loss = torch.tensor(mean.pop("loss"))
        return (type(out)(loss, mean), micro,
                dist.reduce_sum(tokens, self.accelerator.device))

    def full_state_dict(self) -> dict | None:
        """After ``fit``: the full weights gathered cooperatively under FSDP / ZeRO-3 (every
        process must call this), None when the unwrapped model already holds them."""
        if self.cpu_fsdp and self.prepared is not None:
            return cpu_fsdp.gathered_state_dict(self.prepared)
        if self.cpu_deepspeed and self.prepared is not None:
            return cpu_deepspeed.gathered_state_dict(self.prepared)
        return dist.full_state_dict(self.accelerator, self.prepared)

    def layout(self) -> dict:
        """The evidence run.json keeps: processes, engine, backend, per-process batch."""
        acc = self.accelerator
        return {"processes": acc.num_processes, "engine": self._engine_name(),
                "backend": acc.state.backend, "global_batch": self.cfg.batch_size,
                "per_process_batch": self.per_process_batch, "grad_accum": self.cfg.grad_accum}

    def _engine_name(self) -> str:
        if is_one_shot(self.method):  # one-shot edits never shard
            return dist.engine_name(self.accelerator)
        if self.cpu_fsdp:
            return "fsdp"
        if self.cpu_deepspeed:
            return f"deepspeed-zero{cpu_deepspeed.zero_stage()}"
        return dist.engine_name(self.accelerator)

    def _total_steps(self, forget, retain) -> int:
        micro = batches.micro_batches_per_epoch(forget, retain)
        self.steps_per_epoch = max(micro / self.cfg.grad_accum, 1e-9)
        if self.cfg.max_steps:
            return self.cfg.max_steps
        return max(1, math.ceil(self.cfg.epochs * micro / self.cfg.grad_accum))

    def _saliency(self, model, params, data: TrainingData, pad_id: int) -> SaliencyMask | None:
        if self.localize.saliency is None:
            return None
        return saliency_mask(model, params, data.forget, pad_id, self.cfg.batch_size,
                             self.localize.saliency)

    def _select_trainable(self, model: nn.Module) -> list[nn.Parameter]:
        keep = [f for f in (self.param_filter, name_filter(self.localize.modules),
                            getattr(self.method, "trainable_parameter_filter", None)) if f]
        adapter_only = is_peft(model)  # a LoRA model never unfreezes its base weights
        params = []
        for name, p in model.named_parameters():
            train = all(f(name) for f in keep) if keep else p.requires_grad
            train = train and (p.requires_grad or not adapter_only)
            p.requires_grad_(train)
            if train:
                params.append(p)
        if not params:
            raise ConfigError("no parameter is left to train: the method's or the user's "
                              "parameter selection matched nothing")
        return params

    def _check_data(self, data: TrainingData) -> None:
        needs = self.method.needs
        if not data.forget:
            raise ConfigError("the forget set is empty")
        if needs.retain and not data.retain:
            raise ConfigError(f"method {self.method.name!r} needs a retain set: set data.retain")
        if needs.refusals and data.idk is None:
            raise ConfigError(f"method {self.method.name!r} needs refusal answers and QA data "
                              "(data.forget.format=qa)")

    def _guard(self, loss: torch.Tensor, step: int) -> None:
        ok = torch.isfinite(loss.detach()).float().reshape(1)
        if self.accelerator.reduce(ok, reduction="sum").item() < self.accelerator.num_processes:
            raise TrainingError(
                f"the loss became {loss.item()} at step {step + 1}; nothing was saved. "
                "Lower train.lr, set train.max_grad_norm, or use fewer steps.")

    def _check_weights(self, params: list[nn.Parameter], step: int) -> None:
        local = [cpu_deepspeed.local(cpu_fsdp.local(p)) for p in params]  # its shard
        ok = torch.tensor([float(all(torch.isfinite(p).all() for p in local))],
                          device=self.accelerator.device)
        if self.accelerator.reduce(ok, reduction="sum").item() < self.accelerator.num_processes:
            raise TrainingError(f"weights became NaN or infinite by step {step}; nothing was "
                                "saved. Lower train.lr or set train.max_grad_norm.")

    def _mixed_precision(self) -> str:
        mp = self.cfg.mixed_precision
        if mp != "auto":
            return mp
        return "bf16" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "no"
