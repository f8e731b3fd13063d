"""``obliviate sweep CONFIG --space space.yaml --trials N``: a resumable multi-objective
hyper-parameter search (Optuna) over any config keys, with the Pareto front written out."""
from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sweep", help="search hyper-parameters for the best forgetting / "
                       "utility trade-off (Pareto front)",
                       description="Run N trials of a config with settings drawn from a search "
                       "space (Optuna, multi-objective), reusing one loaded model. Rerun the "
                       "same command to resume a killed sweep.")
    p.add_argument("config", nargs="?", help="run config YAML (as for obliviate run)")
    p.add_argument("overrides", nargs="*", metavar="key=value", help="config overrides")
    p.add_argument("--space", required=True, help="search space YAML, e.g. "
                   "'train.lr: loguniform(1e-6, 1e-4)'")
    p.add_argument("--trials", type=int, required=True, help="finished trials wanted in all "
                   "(a resumed sweep counts those already done)")
    p.add_argument("--out", help="sweep folder (study.db, trials.csv, pareto.*, report.md); "
                   "default sweeps/<method>")
    p.add_argument("--objectives", help="comma-separated METRIC:max|min (default "
                   "forget_quality:max,model_utility:max)")
    p.add_argument("--seed", type=int, default=0, help="sampler seed")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from pathlib import Path

    from obliviate.config import apply_override, read_yaml
    from obliviate.sweep import DEFAULT_OBJECTIVES, sweep_config

    if args.config and "=" in args.config:  # no config file: every key is an override
        args.overrides, args.config = [args.config, *args.overrides], None
    raw = read_yaml(args.config) if args.config else {}
    for item in args.overrides:
        apply_override(raw, item)
    out = Path(args.out) if args.out else Path("sweeps") / str(raw.get("method", "ga"))
    rows = sweep_config(raw, args.space, args.trials, out, args.objectives or DEFAULT_OBJECTIVES,
                        args.seed, not args.no_progress)
    print((out / "pareto.md").read_text())
    print(f"{len(rows)} trial(s); every trial: {out / 'trials.csv'}; front: {out / 'pareto.csv'}; "
          f"report: {out / 'report.md'}; rerun the same command to resume")
    return 0
