"""``obliviate bench BENCHMARK --model M --methods a,b --forget 1,5,10`` (or ``--preset
privacy|copyright|harm``): cached target and retain models, each method run on the target,
every model evaluated with the benchmark's suite, a leaderboard in CSV and Markdown."""
from __future__ import annotations

import argparse

from obliviate.commands._args import positive_float, positive_int


def add_parser(sub: argparse._SubParsersAction) -> None:
    from obliviate.commands.finetune import _train_args

    p = sub.add_parser("bench", help="benchmark methods: target/retain models, runs, leaderboard",
                       description="Fine-tune (once, cached) the target and retain models, run "
                       "each method on the target, evaluate with the benchmark's suite and write "
                       "leaderboard.csv / leaderboard.md.")
    p.add_argument("benchmark", nargs="?", help="synthetic, tofu, muse or wmdp (or --preset)")
    p.add_argument("--preset", help="privacy, copyright, harm, or a preset YAML file")
    p.add_argument("--model", help="base model ('tiny', an embedded name, a directory, a hub id)")
    p.add_argument("--methods", help="comma-separated methods, e.g. graddiff,npo,idk")
    p.add_argument("--forget", help="forget splits in percent, e.g. 1,5,10 (tofu/synthetic)")
    p.add_argument("--source", help="benchmark hub id or local folder")
    p.add_argument("--steps", type=positive_int, help="unlearning optimizer steps per method")
    p.add_argument("--unlearn-lr", type=positive_float, help="unlearning learning rate")
    p.add_argument("--set", action="append", default=[], metavar="METHOD.KEY=VALUE",
                   help="per-method setting, e.g. npo.beta=0.2 or npo.train.lr=5e-5")
    p.add_argument("--forget-corpus", help="wmdp: forget corpus JSONL")
    p.add_argument("--retain-corpus", help="wmdp: retain corpus JSONL")
    p.add_argument("--mmlu-source", help="wmdp: MMLU hub id or folder")
    p.add_argument("--muse-scal", action="store_true", help="muse: scalability runs (forget "
                   "1/4, 2/4, 3/4, all of the forget corpus)")
    p.add_argument("--muse-sust", action="store_true", help="muse: sustainability runs (four "
                   "sequential unlearning requests)")
    p.add_argument("--seeds", help="run the whole bench once per seed and report the median "
                   "and range of every number and how many seeds met --criterion (default "
                   "0,1,2; --seeds 0 for a single quick run)")
    p.add_argument("--criterion", help="what a seed must meet, over leaderboard columns (default "
                   "'forget_quality > 0.05 and utility_vs_original >= 0.9')")
    p.add_argument("--sweep", type=int, metavar="TRIALS", help="tune each method with this many "
                   "Optuna trials (max forget quality at model utility >= 90%% of the original) "
                   "before the leaderboard")
    p.add_argument("--space", help="search space YAML for --sweep (default: lr, steps and beta "
                   "around the unlearn settings)")
    p.add_argument("--sweep-on", choices=["first-seed", "all-seeds"], help="score each --sweep "
                   "trial on the first seed (default) or on the median over all --seeds (one "
                   "run per seed and trial)")
    p.add_argument("--run-dir", help="the run folder (default: a new one under "
                   "WORKDIR/runs); give the folder of a stopped run to continue its --sweep "
                   "from the trials it finished")
    _train_args(p)
    p.set_defaults(handler=handle, epochs=None, lr=None, batch_size=None, max_length=None,
                   n_people=None, seed=None)
    p.add_argument("--max-new-tokens", type=positive_int, help="generation length for ROUGE")
    from obliviate.commands.prompt_args import add_prompt_args
    add_prompt_args(p)


def handle(args: argparse.Namespace) -> int:
    from obliviate.bench.presets import options_from
    from obliviate.bench.runner import run_bench
    from obliviate.commands.prompt_args import prompt_from_args
    from obliviate.data.prompting import set_default_prompt_format

    set_default_prompt_format(prompt_from_args(args))
    opts = options_from(args)
    rows, out = run_bench(opts)
    print((out / "leaderboard.md").read_text())
    print(f"leaderboard written to {out / 'leaderboard.csv'} and {out / 'leaderboard.md'}")
    return 0
