"""``obliviate run CONFIG.yaml [key=value ...]``."""
from __future__ import annotations

import argparse

from obliviate.commands.prompt_args import add_prompt_args, prompt_overrides


def add_parser(sub: argparse._SubParsersAction) -> None:
    run = sub.add_parser("run", help="unlearn with a method, as a YAML config describes",
                         description="Run an unlearning method. Any config key can be "
                         "overridden as key=value, e.g. method=npo train.lr=1e-5.")
    run.add_argument("config", nargs="?", help="YAML config file (optional if every key is "
                     "given as an override)")
    run.add_argument("overrides", nargs="*", metavar="key=value", help="config overrides")
    add_prompt_args(run)
    run.add_argument("--resume", action="store_true", help="continue an interrupted run of the "
                     "same output_dir from its last checkpoint (train.save_every); starts "
                     "afresh when there is none")
    run.add_argument("--allow-pickle", action="store_true", help="also load pickle weights "
                     "(.bin); they can run code when loaded, so only for files you trust")
    run.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from obliviate.config import load_config
    from obliviate.pipeline import unlearn

    if args.config and "=" in args.config:  # no config file: every key is an override
        args.overrides, args.config = [args.config, *args.overrides], None
    extra = ["allow_pickle=true"] if args.allow_pickle else []
    config = load_config(args.config, [*args.overrides, *prompt_overrides(args), *extra])
    if args.resume and not config.output_dir:
        from obliviate.errors import ConfigError
        raise ConfigError("--resume needs the interrupted run's output_dir=... (a run without "
                          "one gets a new, time-stamped folder)")
    out = unlearn(config, resume=args.resume)
    from obliviate.distributed import is_main
    if not is_main():
        return 0
    print(f"unlearned model, config, step log and run.json written to {out}")
    if config.eval != "none":
        import json

        from obliviate.assessment import before_after_table

        print("\n" + before_after_table(json.loads((out / "results.json").read_text())))
        print(f"\nevaluation: {out / 'results.json'}; report: {out / 'report.html'}")
    return 0
