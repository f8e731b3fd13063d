"""``obliviate demo``: the embedded model forgets Harry Potter, before/after on screen."""
from __future__ import annotations

import argparse
from pathlib import Path

from obliviate.commands._args import positive_float, positive_int


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="watch the embedded model forget Harry Potter (CPU, minutes)",
                       description="Evaluate the embedded SmolLM2-135M-Instruct on Harry Potter "
                       "questions, paraphrases and neighbouring knowledge, unlearn Harry Potter, "
                       "evaluate again, and save the model, results.json and the step log.")
    p.add_argument("--method", default=None, help="unlearning method (default: the demo's "
                   "tuned default; see `obliviate list methods`)")
    p.add_argument("--steps", type=positive_int, help="optimizer steps (default: tuned per method)")
    p.add_argument("--lr", type=positive_float, help="learning rate (default: tuned per method)")
    p.add_argument("--out", type=Path, default=Path("obliviate-demo"),
                   help="output folder (default ./obliviate-demo)")
    p.add_argument("--limit", type=positive_int, help="use only the first N examples of each set")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from obliviate.demo import DemoSettings, run_demo
    from obliviate.demo.display import show
    from obliviate.demo.runner import DEFAULT_METHOD

    settings = DemoSettings(method=args.method or DEFAULT_METHOD, steps=args.steps, lr=args.lr,
                            out=args.out, limit=args.limit)
    results = run_demo(settings)
    print(show(results, settings.out))
    return 0
