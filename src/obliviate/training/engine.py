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
from accelerate.utils import set_seed
from torch import nn
from tqdm.auto import tqdm
from transformers import get_scheduler

from obliviate.config import TrainConfig
from obliviate.data.types import TokenizedExample
from obliviate.errors import ConfigError, TrainingError
from obliviate.methods.base import StepInputs, UnlearningMethod
from obliviate.training import batches
from obliviate.training.logging import StepLog
from obliviate.training.memory import peak_memory_mb, reset_peak_memory
from obliviate.training.optim import build_optimizer
from obliviate.training.references import attach_reference_logprobs, frozen_copy


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


class Engine:
    """Runs ``method`` on a model. ``param_filter(name) -> bool`` limits the trained weights."""

    def __init__(self, method: UnlearningMethod, train: TrainConfig, optimizer: str = "adamw",
                 optimizer_args: dict | None = None, log_path: str | None = None,
                 param_filter: Callable[[str], bool] | None = None, progress: bool = True):
        self.method, self.cfg = method, train
        self.optimizer_name, self.optimizer_args = optimizer, dict(optimizer_args or {})
        self.log_path, self.param_filter, self.progress = log_path, param_filter, progress
        self.accelerator = Accelerator(mixed_precision=self._mixed_precision(),
                                       gradient_accumulation_steps=train.grad_accum)

    def fit(self, model: nn.Module, data: TrainingData, pad_id: int) -> TrainResult:
        """Train in place and return what the run cost; raise TrainingError on NaN/inf."""
        acc, cfg = self.accelerator, self.cfg
        self._check_data(data)
        set_seed(cfg.seed)
        generator = torch.Generator().manual_seed(cfg.seed)
        model = model.to(acc.device)
        params = self._select_trainable(model)
        if cfg.gradient_checkpointing:
            model.gradient_checkpointing_enable()
            model.config.use_cache = False
        self.method.setup(model, generator)
        forget, retain, reference = self._prepare_data(model, data, pad_id, generator)
        optimizer = build_optimizer(self.optimizer_name, params, cfg.lr, cfg.weight_decay,
                                    self.optimizer_args)
        total = self._total_steps(forget, retain)
        scheduler = get_scheduler(cfg.scheduler, optimizer, cfg.warmup_steps, total)
        model, optimizer, forget, retain = self._prepare(model, optimizer, forget, retain)
        reset_peak_memory()
        start = time.perf_counter()
        log = self._loop(model, optimizer, scheduler, batches.paired(forget, retain), reference,
                         params, total)
        self._check_weights(params, total)
        return TrainResult(steps=total, tokens_processed=log.tokens,
                           wall_time_s=time.perf_counter() - start,
                           peak_memory_mb=peak_memory_mb(acc.device),
                           trainable_parameters=sum(p.numel() for p in params),
                           total_parameters=sum(p.numel() for p in model.parameters()),
                           log=log.records)

    def _loop(self, model, optimizer, scheduler, stream, reference, params, total) -> StepLog:
        acc, cfg = self.accelerator, self.cfg
        log = StepLog(self.log_path if acc.is_main_process else None)
        bar = tqdm(total=total, desc=f"unlearning ({self.method.name})", unit="step",
                   disable=not (self.progress and acc.is_local_main_process))
        model.train()
        step = 0
        while step < total:
            micro = next(stream)
            with acc.accumulate(model):
                out = self.method.loss(model, StepInputs(
                    forget=micro["forget"], retain=micro.get("retain"), idk=micro.get("idk"),
                    reference=reference, step=step))
                self._guard(out.loss, step)
                acc.backward(out.loss)
                if acc.sync_gradients and cfg.max_grad_norm:
                    acc.clip_grad_norm_(params, cfg.max_grad_norm)
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
            log.add_micro(out, micro)
            if acc.sync_gradients:
                scheduler.step()
                step += 1
                bar.set_postfix(log.end_step(step, scheduler.get_last_lr()[0]), refresh=False)
                bar.update(1)
        bar.close()
        log.close()
        return log

    def _prepare_data(self, model, data: TrainingData, pad_id: int, generator):
        needs, cfg = self.method.needs, self.cfg
        forget = batches.as_items(data.forget)
        idk = batches.as_items(data.idk) if data.idk is not None else None
        retain = batches.as_items(data.retain) if data.retain else None
        if needs.reference_logprobs:
            for items in (forget, idk, retain):
                if items:
                    attach_reference_logprobs(model, items, pad_id, cfg.batch_size)
        reference = frozen_copy(model) if needs.reference_model else None
        forget_dl = batches.forget_loader(forget, idk, cfg.batch_size, pad_id, generator)
        retain_dl = (batches.retain_loader(retain, cfg.batch_size, pad_id, generator)
                     if retain else None)
        return forget_dl, retain_dl, reference

    def _prepare(self, model, optimizer, forget, retain):
        if retain is None:
            model, optimizer, forget = self.accelerator.prepare(model, optimizer, forget)
            return model, optimizer, forget, None
        return self.accelerator.prepare(model, optimizer, forget, retain)

    def _total_steps(self, forget, retain) -> int:
        if self.cfg.max_steps:
            return self.cfg.max_steps
        micro = batches.micro_batches_per_epoch(forget, retain)
        return max(1, math.ceil(self.cfg.epochs * micro / self.cfg.grad_accum))

    def _select_trainable(self, model: nn.Module) -> list[nn.Parameter]:
        keep = [f for f in (self.param_filter,
                            getattr(self.method, "trainable_parameter_filter", None)) if f]
        params = []
        for name, p in model.named_parameters():
            train = all(f(name) for f in keep) if keep else p.requires_grad
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
        if not all(torch.isfinite(p).all() for p in params):
            raise TrainingError(f"weights became NaN or infinite by step {step}; nothing was "
                                "saved. Lower train.lr or set train.max_grad_norm.")

    def _mixed_precision(self) -> str:
        mp = self.cfg.mixed_precision
        if mp != "auto":
            return mp
        return "bf16" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "no"
