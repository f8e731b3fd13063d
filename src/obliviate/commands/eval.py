"""``obliviate eval MODEL --data CONFIG|--forget F ... [--suite NAME] [--retain-results PATH]``."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from obliviate.commands._args import positive_int
from obliviate.commands.prompt_args import add_prompt_args, prompt_from_args
from obliviate.errors import ConfigError

SETS = ("forget", "retain", "holdout", "probes")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="evaluate a model with a suite; writes results.json",
                       description="Evaluate MODEL (embedded name, directory, .gguf, adapter or "
                       "hub id) on forget / retain / holdout / probe sets and write results.json.")
    p.add_argument("model")
    p.add_argument("--data", help="YAML with a data: section (a run config or a run's "
                   "run_config.yaml); default: MODEL/run_config.yaml when MODEL is a run")
    for name in SETS:
        p.add_argument(f"--{name}", help=f"{name} set file (overrides --data)")
    p.add_argument("--benchmark", choices=["tofu", "muse", "wmdp"],
                   help="evaluate on a benchmark's sets with its suite (hub id or --source)")
    p.add_argument("--source", help="benchmark hub id or local folder in the published layout")
    p.add_argument("--split", default="forget10", help="TOFU forget split (default forget10)")
    p.add_argument("--format", choices=["qa", "text"], default="qa",
                   help="format of sets given with --forget etc. (default qa)")
    p.add_argument("--suite", help="suite name (default: the benchmark's, else default)")
    p.add_argument("--retain-results", help="results.json of the retain model (forget quality, "
                   "PrivLeak)")
    p.add_argument("--wrapper", choices=["guardrail", "icul"],
                   help="input-based baseline: rewrite every prompt before scoring")
    p.add_argument("--topic", default="the forgotten subject", help="topic for --wrapper guardrail")
    p.add_argument("--out", help="output folder (default eval-results/<model name>)")
    p.add_argument("--max-new-tokens", type=positive_int, default=64,
                   help="generation budget of metrics without their own (the tofu suite's "
                   "ROUGE uses 200, MUSE's knowmem 32 and verbmem 128)")
    p.add_argument("--batch-size", type=positive_int, default=8)
    p.add_argument("--limit", type=positive_int, help="use the first N examples of each set "
                   "(and of each --lm-eval task)")
    p.add_argument("--lm-eval", metavar="TASKS", help="comma-separated lm-evaluation-harness "
                   "tasks run on the same model (needs obliviate[lm-eval]); stored as "
                   "lm_eval/<task>/<metric>")
    p.add_argument("--lm-eval-include", metavar="DIR", help="folder of extra lm-eval task YAML "
                   "files (local tasks)")
    add_prompt_args(p)
    p.add_argument("--allow-pickle", action="store_true", help="also load pickle weights "
                   "(.bin); they can run code when loaded, so only for files you trust")
    p.set_defaults(handler=handle)


def _specs(args: argparse.Namespace) -> dict:
    from obliviate.config import read_yaml
    from obliviate.data import DataSpec

    data_file = args.data or (Path(args.model) / "run_config.yaml")
    raw = read_yaml(data_file).get("data", {}) if args.data or data_file.is_file() else {}
    specs = {n: DataSpec.from_value(raw[n]) for n in SETS if raw.get(n)}
    specs.update({n: DataSpec(getattr(args, n), format=args.format)
                  for n in SETS if getattr(args, n)})
    if not specs and not args.lm_eval:
        raise ConfigError("no data to evaluate on: give --data CONFIG.yaml or --forget/--retain "
                          "files (or evaluate a run folder that has run_config.yaml), or "
                          "--lm-eval TASKS")
    return specs


def _benchmark(args: argparse.Namespace) -> tuple[dict, object, dict]:
    """A benchmark's data sets (hub id or local folder) and its suite; without the retain
    model's results, the entries that compare with it are left out (with a note)."""
    from obliviate.data.benchmarks import load_muse, load_tofu, load_wmdp
    from obliviate.evaluation.results import dataset_hash
    from obliviate.evaluation.suites import resolve_suite
    from obliviate.evaluation.suites_benchmarks import (muse_datasets, tofu_datasets,
                                                        wmdp_datasets, without_reference)

    source = {"source": args.source} if args.source else {}
    if args.benchmark == "tofu":
        sets = tofu_datasets(load_tofu(split=args.split, **source))
    elif args.benchmark == "muse":
        sets = muse_datasets(load_muse(**source, raw=False))  # eval needs no raw corpora
    else:
        sets = wmdp_datasets(load_wmdp(**source))
    datasets = {n: examples[: args.limit] for n, examples in sets.items()}
    suite = resolve_suite(args.suite or args.benchmark, datasets)
    if args.retain_results is None and any(e != k for e, k in zip(suite, without_reference(suite))):
        print("note: no --retain-results, so forget quality and PrivLeak are left out")
        suite = without_reference(suite)
    return datasets, suite, {n: dataset_hash(e) for n, e in datasets.items()}


def _lm_eval_settings(args: argparse.Namespace):
    from obliviate.config import LmEvalConfig

    tasks = [t.strip() for t in (args.lm_eval or "").split(",") if t.strip()]
    if args.lm_eval is not None and not tasks:
        raise ConfigError("--lm-eval needs task names, e.g. --lm-eval wmdp_bio,mmlu")
    return LmEvalConfig(tasks=tasks, include_path=args.lm_eval_include, limit=args.limit,
                        batch_size=args.batch_size)
def output_dir(args: argparse.Namespace, inputs: list[str]) -> Path:
    """The results folder, checked before anything is evaluated: never an input or inside one,
    never a file, writable; the default folder never takes over another model's results."""
    from obliviate.outputs import check_not_input, check_writable_location

    default = Path("eval-results") / Path(args.model.rstrip("/")).name
    out = Path(args.out) if args.out else default
    check_not_input(out, [args.model, args.retain_results, *inputs], "--out")
    check_writable_location(out, "--out")
    previous = out / "results.json"
    if not args.out and previous.is_file():
        import json

        try:
            owner = json.loads(previous.read_text(encoding="utf-8"))["model"]["id"]
        except (OSError, ValueError, KeyError, TypeError):
            owner = None
        if owner != args.model:
            raise ConfigError(f"{previous} holds the results of another model ({owner!r}); "
                              "pass --out to choose a folder for these")
    return out


def handle(args: argparse.Namespace) -> int:
    from obliviate.assessment import assess, run_info_of
    from obliviate.data.prompting import set_prompt_format
    from obliviate.data import file_hash, load_examples
    from obliviate.distributed import is_main, local_device
    from obliviate.evaluation import summary_table, write_results
    from obliviate.evaluation.lm_eval_bridge import add_lm_eval, task_manager
    from obliviate.inputs import build_wrapper, wrap_datasets
    from obliviate.models import load_model

    lm_eval = _lm_eval_settings(args)
    tasks = task_manager(lm_eval) if lm_eval.tasks else None  # names checked before loading
    if args.benchmark:
        out = output_dir(args, [args.source] if args.source else [])
        datasets, suite, hashes = _benchmark(args)
    else:
        specs = _specs(args)
        out = output_dir(args, [s.path for s in specs.values()])
        datasets = {n: load_examples(s)[: args.limit] for n, s in specs.items()}
        suite, hashes = args.suite or "default", {n: file_hash(s.path) for n, s in specs.items()}
    wrapper = args.wrapper and build_wrapper(args.wrapper, topic=args.topic,
                                             forget=datasets.get("forget"),
                                             retain=datasets.get("retain"))
    fmt = _prompt_checked(args, datasets)
    loaded = load_model(args.model, device=local_device(None), allow_pickle=args.allow_pickle)
    set_prompt_format(loaded.tokenizer, fmt)
    run_info = run_info_of(args.model)
    if run_info is not None and suite == "default":
        from obliviate.evaluation.suites import resolve_suite
        suite = resolve_suite(suite, datasets) + [("efficiency", "run", {"key": "run/efficiency"})]
    results = assess(loaded, wrap_datasets(datasets, wrapper or None), suite,
                     config={"model": args.model, "suite": args.suite, "wrapper": args.wrapper,
                             "benchmark": args.benchmark, "source": args.source,
                             "split": args.split if args.benchmark == "tofu" else None,
                             "limit": args.limit},
                     data=hashes,
                     reference_results=args.retain_results, run_info=run_info,
                     max_new_tokens=args.max_new_tokens, batch_size=args.batch_size,
                     progress="evaluating")
    add_lm_eval(results, loaded.model, loaded.tokenizer, lm_eval, tasks)
    if not is_main():  # every process scored its share; the main one writes
        return 0
    path = write_results(out / "results.json", results)
    print(summary_table(results))
    print(f"\nresults written to {path}")
    return 0


def _prompt_checked(args: argparse.Namespace, datasets: dict) -> Any:
    """The prompt format (options, else the run's, else chat); --retain-results made with
    another format or on other data is refused here, before the model loads."""
    from obliviate.data.prompting import prompt_format
    from obliviate.evaluation.comparable import check_comparable
    from obliviate.evaluation.results import dataset_hash, load_reference_results

    fmt = prompt_format(prompt_from_args(args) or _run_prompt(args.model))
    if args.retain_results:
        reference = load_reference_results(args.retain_results)
        shared = set(reference.get("eval_data") or {}) & set(datasets)
        check_comparable(reference, fmt.as_dict(),
                         {n: dataset_hash(datasets[n]) for n in sorted(shared)})
    return fmt


def _run_prompt(model: str) -> dict | None:
    """The prompt format of a run folder's run_config.yaml (evaluate as it was trained)."""
    from obliviate.config import read_yaml

    path = Path(model) / "run_config.yaml"
    return read_yaml(path).get("prompt") if path.is_file() else None
