"""``obliviate finetune BENCHMARK --data full|retainNN``: make a benchmark's target model (all
data) or retain model (retain data only) with the engine's plain fine-tuning (method ``sft``),
evaluate it with the benchmark's suite and write ``results.json`` next to the model."""
from __future__ import annotations

import argparse
from pathlib import Path

from obliviate.commands._args import non_negative_int, positive_float, positive_int


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("finetune", help="fine-tune a benchmark's target (full) or retain model",
                       description="Fine-tune a model on a benchmark's full data (the target "
                       "model) or its retain data (the retain model, the reference of forget "
                       "quality and PrivLeak), then evaluate it with the benchmark's suite.")
    p.add_argument("benchmark", choices=["synthetic", "tofu"], help="benchmark")
    p.add_argument("--model", default="tiny", help="base model: 'tiny' (a small Llama trained "
                   "from scratch), an embedded name, a local directory or a hub id")
    p.add_argument("--data", default="full", help="'full' (target model) or 'retain90' / "
                   "'retain95' / 'retain99' (retain model)")
    p.add_argument("--forget", default="10", help="forget split evaluated for the target "
                   "(1, 5 or 10; a retainNN model evaluates its own split)")
    p.add_argument("--out", required=True, help="output directory (model + results.json)")
    p.add_argument("--source", help="TOFU hub id or local folder (tofu)")
    p.add_argument("--reference", help="retain model's results.json: adds forget quality and "
                   "PrivLeak to a target model's results")
    _train_args(p)
    p.set_defaults(handler=handle)


def _train_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--epochs", type=positive_float, default=30.0, help="fine-tuning epochs")
    p.add_argument("--lr", type=positive_float, default=2e-3, help="fine-tuning learning rate "
                   "(2e-3 suits the tiny model from scratch; use ~1e-5 for a real model)")
    p.add_argument("--batch-size", type=positive_int, default=16)
    p.add_argument("--max-length", type=positive_int, default=128)
    p.add_argument("--n-people", type=positive_int, default=100, help="people in the synthetic benchmark")
    p.add_argument("--seed", type=non_negative_int, default=0)
    p.add_argument("--device", help="cpu, cuda, mps (default: the best available)")
    p.add_argument("--workdir", help="cache folder (default $OBLIVIATE_HOME/bench)")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")


def train_config(args: argparse.Namespace):
    from obliviate.config import TrainConfig
    return TrainConfig(lr=args.lr, epochs=args.epochs, batch_size=args.batch_size,
                       warmup_steps=50, weight_decay=0.0, max_length=args.max_length,
                       seed=args.seed)


def handle(args: argparse.Namespace) -> int:
    from obliviate.bench.finetune import cache_key, evaluate_model, finetune
    from obliviate.bench.runner import BenchOptions, base_model, load_bench
    from obliviate.errors import ConfigError
    from obliviate.evaluation import load_reference_results, write_results
    from obliviate.models import load_model
    from obliviate.outputs import check_not_input, check_writable_location

    full = args.data == "full"
    if not full and args.data not in ("retain90", "retain95", "retain99"):
        raise ConfigError(f"--data must be 'full' or retain90/retain95/retain99, got {args.data!r}.")
    pct = args.forget if full else str(100 - int(args.data.removeprefix("retain")))
    out = Path(args.out)
    check_not_input(out, [p for p in (args.model, args.source, args.reference) if p], "--out")
    check_writable_location(out, "--out")
    if out.exists() and any(out.iterdir()):
        raise ConfigError(f"{out} exists and is not empty; choose another --out.")
    reference = load_reference_results(args.reference) if args.reference else None
    opts = BenchOptions(args.benchmark, ["sft"], model=args.model, forget=[pct],
                        workdir=args.workdir, source=args.source, n_people=args.n_people,
                        seed=args.seed, finetune=train_config(args), device=args.device,
                        progress=not args.no_progress)
    bench = load_bench(opts)
    split = bench.splits[0]
    base, _ = base_model(opts, bench)
    finetune(load_model(base, device=args.device), bench.full_train if full else
             split.retain_train, out, opts.finetune, bench.data_format, opts.progress)
    results = evaluate_model(load_model(str(out), device=args.device), split.eval_sets,
                             bench.suite, reference, self_reference=not full,
                             max_length=args.max_length, max_new_tokens=opts.max_new_tokens,
                             config={"data": args.data, "split": split.name,
                                     "cache_key": cache_key(args.data, args.seed)})
    write_results(out / "results.json", results)
    print(f"{'target' if full else 'retain'} model and results.json written to {out}")
    return 0
