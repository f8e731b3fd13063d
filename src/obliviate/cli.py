"""``obliviate <command>``: parses arguments, builds configs, calls the Python API.

User errors (:class:`ObliviateError`) print one line on stderr and exit with status 2.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from obliviate.errors import ObliviateError

Handler = Callable[[argparse.Namespace], int]


def _cmd_run(args: argparse.Namespace) -> int:
    from obliviate.config import load_config
    from obliviate.pipeline import unlearn

    config = load_config(args.config, args.overrides)
    out = unlearn(config)
    print(f"unlearned model, config, step log and run.json written to {out}")
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from obliviate.listing import print_listing

    print_listing(args.what)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="obliviate", description="Machine unlearning for large language models.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = sub.add_parser("run", help="unlearn with a method, as a YAML config describes",
                         description="Run an unlearning method. Any config key can be "
                         "overridden as key=value, e.g. method=npo train.lr=1e-5.")
    run.add_argument("config", nargs="?", help="YAML config file (optional if every key is "
                     "given as an override)")
    run.add_argument("overrides", nargs="*", metavar="key=value", help="config overrides")
    run.set_defaults(handler=_cmd_run)

    lst = sub.add_parser("list", help="list methods, optimizers and other registered parts")
    lst.add_argument("what", choices=["methods", "optimizers"], help="what to list")
    lst.set_defaults(handler=_cmd_list)
    return parser


def _split_run_args(args: argparse.Namespace) -> None:
    """``obliviate run a=b`` has no config file: move a key=value first argument to overrides."""
    if getattr(args, "config", None) and "=" in args.config:
        args.overrides = [args.config, *args.overrides]
        args.config = None


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _split_run_args(args)
    try:
        return args.handler(args)
    except ObliviateError as err:
        print(f"obliviate: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("obliviate: interrupted; nothing half-written was kept", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
