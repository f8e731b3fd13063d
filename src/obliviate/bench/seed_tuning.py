"""``obliviate bench ... --seeds 0,1,2 --sweep N --sweep-on all-seeds``: tune each method on
the median over the seeds, not on the first seed alone.

Each seed's target and retain models are fine-tuned (or taken from the cache) and its original
model evaluated first; then one sweep per split and method runs every trial once per seed,
each from that seed's target (``sweep/median.py``), and keeps the trial with the best median
forget quality among those whose median model utility is >= 90% of the original models'
median (``bench/tuning.py``). Every seed then runs the kept setting for the leaderboard.
"""
from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from obliviate.bench.runner import (BenchOptions, eval_options, load_bench, references,
                                    target_model, with_run_seed)
from obliviate.bench.tuning import sweep_and_pick, trial_context, write_tuned
from obliviate.errors import ConfigError


def tune_across_seeds(opts: BenchOptions, out_dir: Path) -> dict[str, dict[str, Any]]:
    """The kept settings per ``"split/method"``, each tuned on the median over ``opts.seeds``;
    written to ``out_dir/tuned.json``, sweeps in ``out_dir/<split>/sweep-<method>/``."""
    if opts.muse_sust:
        raise ConfigError("--sweep-on all-seeds does not tune the chained --muse-sust runs; "
                          "use --sweep-on first-seed")
    bench = load_bench(opts)
    prepared = {seed: _prepare(with_run_seed(opts, seed), bench) for seed in opts.seeds or []}
    tuned: dict[str, dict[str, Any]] = {}
    for split in bench.splits:
        for method in opts.methods:
            contexts, retains = {}, []
            for seed, (target, refs) in prepared.items():
                retain, original = refs[split.name]
                contexts[seed] = trial_context(opts, target, split, bench.suite, retain, original)
                retains.append(retain)
            tuned[f"{split.name}/{method}"] = _tune(opts, method, split, contexts, retains,
                                                    out_dir / split.name / f"sweep-{method}")
            write_tuned(tuned, out_dir)
    return tuned


def _prepare(opts: BenchOptions, bench: Any) -> tuple[str, dict[str, tuple]]:
    """One seed's target model and, per split, its (retain results, original results)."""
    base, base_hash, target = target_model(opts, bench)
    eval_kw = eval_options(opts)
    return target, {split.name: references(opts, bench, split, base, base_hash, target, eval_kw)
                    for split in bench.splits}


def _tune(opts: BenchOptions, method: str, split: Any, contexts: dict, retains: list,
          out_dir: Path) -> dict[str, Any]:
    from obliviate.sweep import metric_values
    from obliviate.sweep.median import MedianOverSeeds

    ctx = MedianOverSeeds(contexts)
    per_seed = [metric_values(r, ctx.wanted) or {} for r in retains]
    retain = {k: statistics.median(m[k] for m in per_seed) for k in per_seed[0]
              if all(k in m for m in per_seed)}
    first = next(iter(contexts.values()))
    return sweep_and_pick(opts, method, first.loaded.name, split, ctx, out_dir, retain)
