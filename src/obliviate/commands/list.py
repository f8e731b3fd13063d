"""``obliviate list methods|optimizers|metrics|suites|benchmarks``."""
from __future__ import annotations

import argparse

from obliviate.listing import LISTINGS


def add_parser(sub: argparse._SubParsersAction) -> None:
    lst = sub.add_parser("list", help="list methods, optimizers, metrics and other parts")
    lst.add_argument("what", choices=sorted(LISTINGS), help="what to list")
    lst.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    print(LISTINGS[args.what]())
    return 0
