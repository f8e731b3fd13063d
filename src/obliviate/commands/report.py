"""``obliviate report RUN_DIR [RUN_DIR ...]``: an HTML page and a Markdown file from results."""
from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    report = sub.add_parser(
        "report", help="write an HTML + Markdown report of one run, or a leaderboard of several",
        description="Write a self-contained HTML page and a Markdown file from the runs' "
        "results.json (plus steps.jsonl, run.json and attack_results.json when present). One "
        "run: summary, metrics before/after, samples, curves, truth ratios, MIA ROC, attacks. "
        "Several runs: a leaderboard and the forget-versus-utility trade-off plot first.")
    report.add_argument("runs", nargs="+", metavar="RUN_DIR",
                        help="run directory holding results.json (or a results.json path)")
    report.add_argument("-o", "--out", type=Path, default=None,
                        help="output .html or .md file, or a folder (default: the run's folder, "
                        "or the runs' common parent folder); files are named report.html/.md")
    report.add_argument("--retain-results", type=Path, default=None, metavar="RESULTS_JSON",
                        help="a retain model's results.json: truth-ratio and MIA references, "
                        "targets of closeness metrics, and a point on the trade-off plot")
    report.add_argument("--forget-metric", default=None, metavar="KEY",
                        help="forget axis of the trade-off plot, e.g. forget/keyword_accuracy or "
                        "forget_quality (default: first of forget_quality, forget/keyword_"
                        "accuracy, forget/answer_prob ... that every run has)")
    report.add_argument("--utility-metric", default=None, metavar="KEY",
                        help="utility axis, e.g. model_utility or retain/answer_prob")
    report.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from obliviate.reports import write_report

    html, md = write_report([Path(p) for p in args.runs], args.out,
                            retain_results=args.retain_results,
                            forget_metric=args.forget_metric, utility_metric=args.utility_metric)
    print(f"report written to {html} and {md}")
    return 0
