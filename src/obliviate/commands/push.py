"""``obliviate push DIR org/name [--private]``: upload an unlearned model folder and its card."""
from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("push", help="upload an unlearned model folder and its model card to "
                       "the Hugging Face Hub",
                       description="Upload DIR (an `obliviate run` output folder) to the Hub "
                       "repository REPO (org/name), creating it if needed. The model card "
                       "(README.md) is refreshed from the folder's files first. Needs a Hub "
                       "token (HF_TOKEN or `hf auth login`).")
    p.add_argument("folder", metavar="DIR")
    p.add_argument("repo", metavar="REPO", help="Hub repository id, org/name")
    p.add_argument("--private", action="store_true", help="create the repository as private")
    p.add_argument("--attacks", metavar="FILE", help="attack_results.json of this model "
                   "(from `obliviate attack`): copied into DIR, shown in the card, uploaded")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from obliviate.reports.hub import push_folder

    url = push_folder(args.folder, args.repo, private=args.private, attacks=args.attacks)
    print(f"pushed {args.folder} to {args.repo}: {url}")
    return 0
