"""``obliviate <command>``: parses arguments and calls the Python API (``commands/``).

User errors (:class:`ObliviateError`) print one line on stderr and exit with status 2.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from obliviate import __version__
from obliviate.commands import COMMANDS
from obliviate.errors import ObliviateError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="obliviate", description="Machine unlearning for large language models: "
        "unlearn, evaluate, attack and report.")
    parser.add_argument("--version", action="version", version=f"obliviate {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"obliviate.commands.{name}").add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
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
