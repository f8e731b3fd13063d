"""Hyper-parameter sweeps with Optuna: ``obliviate sweep CONFIG --space space.yaml --trials N``
(see :func:`sweep_config`) and ``obliviate bench ... --sweep N`` (``bench/tuning.py``)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from obliviate.sweep.front import Objective, parse_objectives, pareto_front
from obliviate.sweep.runner import SweepOptions, check_space, run_sweep
from obliviate.sweep.space import load_space, parse_space
from obliviate.sweep.trials import TrialContext, run_trial

DEFAULT_OBJECTIVES = "forget_quality:max,model_utility:max"


def sweep_config(raw: dict[str, Any], space_path: str | Path, trials: int, out_dir: str | Path,
                 objectives: str = DEFAULT_OBJECTIVES, seed: int = 0,
                 progress: bool = True) -> list[dict[str, Any]]:
    """Sweep a run config (``raw``: the YAML mapping with overrides applied): the model loads
    once, each trial trains a copy and is evaluated on the objectives with the config's
    ``eval_suite`` (and ``retain_results`` for forget quality / PrivLeak)."""
    from obliviate.assessment import sets_as_datasets
    from obliviate.config import RunConfig, build
    from obliviate.evaluation.results import load_reference_results
    from obliviate.models import load_model
    from obliviate.pipeline import load_sets

    config = build(RunConfig, raw, "")
    space = load_space(space_path)
    goals = parse_objectives(objectives)
    opts = SweepOptions(space, trials, Path(out_dir), goals, seed, progress)
    check_space(raw, space)  # before the model loads
    sets = load_sets(config)
    reference = (load_reference_results(config.retain_results)
                 if config.retain_results else None)
    loaded = load_model(config.model, device=config.device, dtype=config.dtype,
                        trust_remote_code=config.trust_remote_code)
    ctx = TrialContext(loaded, sets, sets_as_datasets(sets), config.eval_suite,
                       [g.key for g in goals], reference, config.eval_max_new_tokens,
                       config.train.max_length)
    return run_sweep(raw, ctx, opts, retain=metric_values(reference, ctx.wanted))


def metric_values(results: dict[str, Any] | None, keys: list[str]) -> dict[str, float] | None:
    """``{key: value}`` of a results document for ``keys`` it has (None without results)."""
    if not results:
        return None
    metrics = results.get("metrics", {})
    return {k: metrics[k]["value"] for k in keys if k in metrics}


__all__ = ["DEFAULT_OBJECTIVES", "Objective", "SweepOptions", "TrialContext", "load_space",
           "metric_values", "parse_objectives", "parse_space", "pareto_front", "run_sweep",
           "run_trial", "sweep_config"]
