"""``obliviate bench ... --sweep TRIALS``: tune each method on a split before the leaderboard,
so methods are compared at their best rather than at one default.

The sweep (``obliviate/sweep``) starts from the target model loaded once, reuses the cached
reference log-probs and the original model's cached results, and maximises forget quality and
model utility together (TOFU's two numbers, Maini et al. 2024, arXiv:2401.06121). The trial
kept is the one with the highest forget quality among those at model utility >= 90% of the
original's (the benchmark's criterion); when none qualifies, the one with the best utility.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

from obliviate.errors import ConfigError
from obliviate.sweep.space import Dimension, load_space

#: What the kept trial must meet (training/select_expr.py), and what it maximises.
CONSTRAINT = "model_utility >= 0.9 * original"
OBJECTIVES = "forget_quality:max,model_utility:max"


def default_space(opts: Any, method: str) -> list[Dimension]:
    """lr within 5x of the unlearn lr (log scale), steps from a quarter to twice the unlearn
    steps, and the method's ``beta`` (if it has one) within 4x of its default."""
    from obliviate.methods import build_method

    lr = float(opts.unlearn.lr)
    steps = int(opts.unlearn.max_steps or 100)
    space = [Dimension("train.lr", "loguniform", lr / 5, lr * 5),
             Dimension("train.max_steps", "int", max(1, steps // 4), max(2, steps * 2))]
    beta = getattr(build_method(method, opts.method_args.get(method, {})), "beta", None)
    if isinstance(beta, (int, float)) and beta > 0:
        space.append(Dimension("method_args.beta", "loguniform", beta / 4, beta * 4))
    return space


def tune_method(opts: Any, method: str, target: str, split: Any, suite: str,
                retain_results: dict[str, Any] | None, original: dict[str, Any],
                out_dir: Path) -> dict[str, Any]:
    """Sweep ``method`` on ``split`` from the ``target`` model; return the kept settings
    (``train`` / ``method_args`` overrides) with the trial's number and metrics."""
    from obliviate.sweep import metric_values

    ctx = trial_context(opts, target, split, suite, retain_results, original)
    return sweep_and_pick(opts, method, target, split, ctx, out_dir,
                          metric_values(retain_results, ctx.wanted))


def trial_context(opts: Any, target: str, split: Any, suite: str,
                  retain_results: dict[str, Any] | None, original: dict[str, Any]) -> Any:
    """What every trial from ``target`` on ``split`` shares (sweep/trials.py)."""
    from obliviate.models import load_model
    from obliviate.pipeline import RunSets
    from obliviate.sweep import TrialContext, metric_values

    if retain_results is None:
        raise ConfigError(f"--sweep tunes on forget quality and model utility, which need a "
                          f"retain model; benchmark {opts.benchmark!r} has none here")
    wanted = [g.key for g in _objectives()]
    sets = RunSets(forget=split.forget, forget_format=split.data_format, retain=split.retain,
                   retain_format=split.data_format)
    return TrialContext(load_model(target, device=opts.device), sets, split.eval_sets, suite,
                        wanted, retain_results, opts.max_new_tokens, opts.finetune.max_length,
                        original=metric_values(original, wanted), batch_size=16)


def sweep_and_pick(opts: Any, method: str, target: str, split: Any, ctx: Any, out_dir: Path,
                   retain: dict[str, float] | None) -> dict[str, Any]:
    """Run the sweep of ``method`` with ``ctx`` (one seed's context, or the median over
    seeds) into ``out_dir`` and return the kept trial's settings (:func:`pick`)."""
    from obliviate.sweep import SweepOptions, run_sweep

    space = load_space(opts.space) if opts.space else default_space(opts, method)
    bad = [d.key for d in space if not d.key.startswith(("train.", "method_args."))]
    if bad:
        raise ConfigError(f"bench --space may only search train.* and method_args.* keys, "
                          f"not {', '.join(bad)}")
    base = {"model": target, "method": method, "device": opts.device,
            "method_args": dict(opts.method_args.get(method, {})),
            "train": {**asdict(opts.unlearn), **opts.method_train.get(method, {})},
            "data": {"forget": f"{opts.benchmark}:{split.name}:forget"}}
    sweep = SweepOptions(space, opts.sweep, out_dir, _objectives(), seed=opts.unlearn.seed,
                         progress=opts.progress)
    rows = run_sweep(base, ctx, sweep, retain=retain)
    return pick(rows, ctx.original_metrics())


def _objectives() -> list[Any]:
    from obliviate.sweep import parse_objectives
    return parse_objectives(OBJECTIVES)


def pick(rows: list[dict[str, Any]], original: dict[str, float]) -> dict[str, Any]:
    """The kept trial as tuned settings: best forget quality under :data:`CONSTRAINT`, else the
    best model utility."""
    from obliviate.training.select_expr import parse_constraint

    check = parse_constraint(CONSTRAINT)
    done = [r for r in rows if r["state"] == "complete"
            and all(_finite(r.get(k)) for k in ("forget_quality", "model_utility"))]
    if not done:
        raise ConfigError("no sweep trial finished; lower the learning-rate range or add trials")
    ok = [r for r in done if check.holds(r, original)]
    best = (max(ok, key=lambda r: r["forget_quality"]) if ok
            else max(done, key=lambda r: r["model_utility"]))
    settings: dict[str, Any] = {"train": {}, "method_args": {}}
    for key, value in best.items():
        head, _, leaf = key.partition(".")
        if head in settings and leaf:
            settings[head][leaf] = value
    return {**settings, "trial": best["trial"], "met_constraint": bool(ok),
            "constraint": CONSTRAINT,
            "metrics": {k: best[k] for k in ("forget_quality", "model_utility")}}


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def write_tuned(tuned: dict[str, dict[str, Any]], out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "tuned.json").write_text(json.dumps(tuned, indent=2, default=str) + "\n",
                                        encoding="utf-8")
