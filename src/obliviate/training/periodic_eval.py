"""Evaluation during training (``train.eval_every``), keeping the best checkpoint
(``train.select``) and early stopping (``train.patience``).

The engine calls a :class:`PeriodicEval` after every optimizer step; every ``every`` steps and at
the last step it evaluates the model in memory with a cheap suite (:func:`training_entries`:
teacher-forced metrics unless a generation metric is asked for), returns the numbers for the
step log (``eval/<key>`` in ``steps.jsonl``, which trackers read from the engine's records), and
keeps a CPU copy of the trainable weights of the best checkpoint under the constraint, which
:meth:`PeriodicEval.restore_best` puts back before the run's output is written.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Collection
from typing import Any

import torch
from torch import nn

from obliviate.config import SelectConfig
from obliviate.errors import ConfigError
from obliviate.evaluation import evaluate
from obliviate.evaluation.base import METRICS
from obliviate.training.select_expr import Constraint, parse_constraint

Evaluator = Callable[[nn.Module], dict[str, float]]
#: Needs that cannot be met in the middle of training (another model, the run's run.json).
_UNAVAILABLE = {"reference_model", "run_info"}


def entry_key(entry: tuple) -> str:
    options = entry[2] if len(entry) == 3 else {}
    return str(options.get("key", f"{entry[1]}/{entry[0]}"))


def training_entries(entries: list[tuple], wanted: Collection[str] = (),
                     has_reference: bool = False) -> list[tuple]:
    """The suite entries worth running during training: every teacher-forced one (no
    generation) plus those whose key is in ``wanted``; entries needing a reference model,
    run info, or reference results that are absent, are left out. Unknown ``wanted`` keys
    are a :class:`ConfigError` that lists the suite's keys."""
    keys = {entry_key(e): e for e in entries}
    unknown = sorted(set(wanted) - set(keys))
    if unknown:
        raise ConfigError(f"metric(s) {', '.join(unknown)} are not in the evaluation suite, so "
                          f"they cannot be evaluated during training; the suite has: "
                          f"{', '.join(sorted(keys)) or 'none'}")
    out = []
    for key, entry in keys.items():
        needs = METRICS.get(entry[0]).needs
        missing = needs & (_UNAVAILABLE if has_reference else _UNAVAILABLE | {"reference_results"})
        if missing:
            if key in wanted:
                raise ConfigError(f"metric {key!r} needs {', '.join(sorted(missing))}, which "
                                  "evaluation during training does not have (give "
                                  "retain_results for forget quality / PrivLeak)")
            continue
        if "generations" not in needs or key in wanted:
            out.append(entry)
    return out


class SuiteEvaluator:
    """``model -> {metric key: value}``: ``entries`` run on ``datasets`` (``keys`` lists them)."""

    def __init__(self, tokenizer: Any, datasets: dict, entries: list[tuple],
                 reference_results: Any = None, max_length: int = 512, batch_size: int = 8,
                 max_new_tokens: int = 64) -> None:
        self.tokenizer, self.datasets = tokenizer, datasets
        self.entries = [tuple(e) for e in entries]
        self.keys = [entry_key(e) for e in self.entries]
        self.reference_results = reference_results
        self.max_length, self.batch_size = max_length, batch_size
        self.max_new_tokens = max_new_tokens

    def __call__(self, model: nn.Module) -> dict[str, float]:
        was_training = model.training
        model.eval()
        try:
            results = evaluate(model, self.tokenizer, self.datasets,
                               [(e[0], e[1], dict(e[2]) if len(e) == 3 else {})
                                for e in self.entries],
                               max_length=self.max_length, batch_size=self.batch_size,
                               reference_results=self.reference_results,
                               max_new_tokens=self.max_new_tokens)
        finally:
            model.train(was_training)
        return {k: float(r.value) for k, r in results.items()}


class PeriodicEval:
    """Evaluates every ``every`` steps (and at the last), keeps the best checkpoint under
    ``select`` and asks the engine to stop after ``patience`` evaluations without a better one."""

    def __init__(self, evaluator: Evaluator, every: int, select: SelectConfig | None = None,
                 patience: int | None = None, original: dict[str, float] | None = None):
        self.evaluator, self.every, self.select, self.patience = evaluator, every, select, patience
        self.constraint: Constraint | None = (parse_constraint(select.constraint)
                                              if select and select.constraint else None)
        self.original = original
        self.history: list[dict[str, Any]] = []
        self.best_step: int | None = None
        self.best_metrics: dict[str, float] | None = None
        self.best_state: dict[str, torch.Tensor] | None = None
        self.should_stop = False
        self._since_best = 0

    def evaluate_original(self, model: nn.Module) -> dict[str, float]:
        """Evaluate the model before training: ``original`` in constraints, step 0 in the log."""
        self.original = self.evaluator(model)
        return self.original

    def __call__(self, model: nn.Module, step: int, total: int) -> dict[str, float] | None:
        if step % self.every and step != total:
            return None
        metrics = self.evaluator(model)
        self.history.append({"step": step, **metrics})
        if self.select is not None:
            self._consider(model, step, metrics)
        return metrics

    def _consider(self, model: nn.Module, step: int, metrics: dict[str, float]) -> None:
        if self.is_better(metrics):
            self.best_step, self.best_metrics = step, dict(metrics)
            self.best_state = {n: p.detach().to("cpu", copy=True)
                               for n, p in model.named_parameters() if p.requires_grad}
            self._since_best = 0
        else:
            self._since_best += 1
        if self.patience is not None and self._since_best >= self.patience:
            self.should_stop = True

    def is_better(self, metrics: dict[str, float]) -> bool:
        """True when ``metrics`` meets the constraint and beats the best kept so far."""
        key = self.select.metric
        if key not in metrics:
            raise ConfigError(f"train.select.metric {key!r} was not evaluated; the evaluation "
                              f"during training has: {', '.join(sorted(metrics)) or 'none'}")
        score = metrics[key]
        if score is None or math.isnan(score):
            return False
        if self.constraint is not None and not self.constraint.holds(metrics, self.original):
            return False
        if self.best_metrics is None:
            return True
        best = self.best_metrics[key]
        return score > best if self.select.mode == "max" else score < best

    def restore_best(self, model: nn.Module) -> bool:
        """Put the kept checkpoint's weights back into ``model``; False when none was kept."""
        if self.best_state is None:
            return False
        params = dict(model.named_parameters())
        with torch.no_grad():
            for name, value in self.best_state.items():
                params[name].copy_(value.to(params[name].device))
        return True

    def summary(self) -> dict[str, Any]:
        """What run.json records: the evaluations, the selection and the step kept."""
        out: dict[str, Any] = {"every": self.every, "evaluations": self.history,
                               "original": self.original}
        if self.select is not None:
            out["select"] = {"metric": self.select.metric, "mode": self.select.mode,
                             "constraint": self.select.constraint}
            out["selected_step"] = self.best_step
            out["selected_metrics"] = self.best_metrics
            out["stopped_early"] = self.should_stop
            if self.best_step is None:
                out["note"] = ("no evaluated checkpoint met the constraint; the model of the "
                               "last step was kept")
        return out


def from_config(train: Any, tokenizer: Any, datasets: dict, suite: str | list,
                reference_results: Any = None, max_new_tokens: int = 64,
                original: dict[str, float] | None = None) -> PeriodicEval | None:
    """The :class:`PeriodicEval` a :class:`~obliviate.config.TrainConfig` asks for (None when
    ``train.eval_every`` is unset): ``suite`` (a name or entries) on ``datasets``, reduced by
    :func:`training_entries` to the teacher-forced metrics plus ``train.eval_metrics`` and the
    keys ``train.select`` reads."""
    from obliviate.evaluation.results import load_reference_results
    from obliviate.evaluation.suites import resolve_suite

    if not train.eval_every:
        return None
    wanted = set(train.eval_metrics or [])
    if train.select is not None:
        wanted.add(train.select.metric)
        if train.select.constraint:
            wanted |= parse_constraint(train.select.constraint).names
    if reference_results is not None:
        reference_results = load_reference_results(reference_results)
    entries = training_entries(resolve_suite(suite, datasets), wanted,
                               has_reference=reference_results is not None)
    evaluator = SuiteEvaluator(tokenizer, datasets, entries, reference_results,
                               train.max_length, train.batch_size, max_new_tokens)
    return PeriodicEval(evaluator, train.eval_every, train.select, train.patience, original)
