"""``obliviate ledger MODEL_DIR``: the model's deletion requests, one row each, checked."""
from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ledger", help="show a model folder's deletion ledger (one row per "
                       "unlearning request), with its hash chain checked",
                       description="Print MODEL_DIR/ledger.jsonl as a table after checking "
                       "that its hashes chain and that the folder's weights are the last "
                       "request's output. A broken ledger is reported, never rewritten.")
    p.add_argument("model_dir", help="a model folder written by `obliviate run`")
    p.add_argument("--json", action="store_true", help="print the checked entries as JSON lines")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from obliviate.errors import DataError
    from obliviate.ledger import LEDGER, check_folder_matches, ledger_table, read_ledger

    folder = Path(args.model_dir)
    if not folder.is_dir():
        raise DataError(f"{folder} is not a folder; pass a model folder written by obliviate run")
    entries = read_ledger(folder)
    if not entries:
        raise DataError(f"{folder} has no {LEDGER}: no unlearning request was recorded there")
    check_folder_matches(folder, entries)
    if args.json:
        print("\n".join(json.dumps(e, sort_keys=True) for e in entries))
    else:
        print(ledger_table(entries))
        print(f"\n{len(entries)} request(s); hash chain and weights verified")
    return 0
