"""One sweep trial: train a copy of the one loaded model with a trial's config and evaluate it.

:class:`TrialContext` holds what every trial shares and computes only once: the loaded model
(each trial trains a ``deepcopy`` of it, so the original is never reloaded), the training sets,
the cached reference log-probs (:class:`~obliviate.training.ref_cache.ReferenceCache`), the
evaluation sets with the reference (retain) results, and the original model's evaluation.
"""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Any

from obliviate.config import RunConfig
from obliviate.errors import ConfigError
from obliviate.evaluation.suites import resolve_suite
from obliviate.methods import build_method
from obliviate.models import LoadedModel
from obliviate.training import Engine
from obliviate.training.lora import wrap_lora
from obliviate.training.periodic_eval import SuiteEvaluator, entry_key, from_config
from obliviate.training.ref_cache import ReferenceCache


@dataclass
class TrialContext:
    """Shared across trials. ``wanted``: the metric keys every trial is evaluated on (the
    objectives and what the selection reads); ``original``: the original model's values of
    them (computed on first use when not given, e.g. a bench's cached "before" results)."""

    loaded: LoadedModel
    sets: Any  # pipeline.RunSets
    datasets: dict[str, list]
    suite: str | list
    wanted: list[str]
    reference_results: dict[str, Any] | None = None
    max_new_tokens: int = 64
    max_length: int = 512
    original: dict[str, float] | None = None
    batch_size: int = 8
    reference_cache: ReferenceCache = field(default_factory=ReferenceCache)
    _memo: dict[Any, dict[str, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        entries = resolve_suite(self.suite, self.datasets)
        by_key = {entry_key(e): e for e in entries}
        missing = sorted(set(self.wanted) - set(by_key))
        if missing:
            raise ConfigError(f"the sweep reads {', '.join(missing)}, which the evaluation suite "
                              f"does not compute; it has: {', '.join(sorted(by_key))}")
        self.entries = [by_key[k] for k in self.wanted]
        self.evaluator = SuiteEvaluator(self.loaded.tokenizer, self.datasets, self.entries,
                                        self.reference_results, self.max_length,
                                        self.batch_size, self.max_new_tokens)

    def original_metrics(self) -> dict[str, float]:
        if self.original is None:
            self.original = self.evaluator(self.loaded.model)
        return self.original

    def run(self, config: RunConfig, progress: bool = False) -> dict[str, Any]:
        """One trial with ``config`` (:func:`run_trial`)."""
        return run_trial(self, config, progress)

    def memo(self, key: Any, compute) -> dict[str, float]:
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]


def run_trial(ctx: TrialContext, config: RunConfig, progress: bool = False) -> dict[str, Any]:
    """Train a copy of the original model with ``config`` and evaluate it on ``ctx.wanted``.
    Returns ``metrics`` plus what the run cost and, with ``train.select``, the step kept."""
    from obliviate.pipeline import training_data

    start = time.perf_counter()
    tokenizer = ctx.loaded.tokenizer
    method = build_method(config.method, config.method_args)
    data = training_data(config, ctx.sets, tokenizer, method.needs.refusals, method)
    model = wrap_lora(copy.deepcopy(ctx.loaded.model), config.lora, config.model)
    engine = Engine(method, config.train, config.optimizer, config.optimizer_args,
                    progress=progress, localize=config.localize)
    engine.reference_cache = ctx.reference_cache
    engine.step_eval = _periodic(ctx, config)
    result = engine.fit(model, data, tokenizer.pad_token_id)
    trained = engine.accelerator.unwrap_model(model)
    out: dict[str, Any] = {"steps": result.steps}
    if engine.step_eval is not None:
        engine.step_eval.restore_best(trained)
        out["selected_step"] = engine.step_eval.best_step
    out["metrics"] = ctx.evaluator(trained)
    out["wall_time_s"] = round(time.perf_counter() - start, 3)
    del model, trained
    return out


def _periodic(ctx: TrialContext, config: RunConfig):
    periodic = from_config(config.train, ctx.loaded.tokenizer, ctx.datasets, ctx.suite,
                           ctx.reference_results, ctx.max_new_tokens)
    if periodic is not None:  # the original's numbers for these metrics, once per sweep
        key = ("periodic", config.train.max_length, tuple(sorted(periodic.evaluator.keys)))
        periodic.original = ctx.memo(key, lambda: periodic.evaluator(ctx.loaded.model))
    return periodic
