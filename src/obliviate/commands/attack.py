"""``obliviate attack MODEL --original ORIGINAL --forget F [--retain R] ...``: run robustness
attacks on an unlearned model and write ``attack_results.json`` (see
:mod:`obliviate.attacks.report`)."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from obliviate.commands._args import fraction, non_negative_int, positive_float, positive_int
from obliviate.commands.prompt_args import add_prompt_args, prompt_from_args

#: The sets an attack reads (from --data or --demo-data).
ATTACK_SETS = ("forget", "retain", "probes", "holdout")


def _csv(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "attack", help="test whether unlearned knowledge comes back (relearning, prompts, "
        "quantization, probes)", formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Attack a copy of an unlearned model or its prompts, re-run the suite and "
        "report recovery = (attacked - unlearned) / (original - unlearned) per metric.")
    p.add_argument("model", help="the unlearned model: a run's output dir, a model dir, an "
                   "embedded name or a hub id")
    orig = p.add_mutually_exclusive_group()
    orig.add_argument("--original", help="the model before unlearning, evaluated here "
                      "(default: the model MODEL/run.json says the run started from)")
    orig.add_argument("--original-results", help="results.json of the original model, "
                      "evaluated with the same suite and data")
    data = p.add_argument_group("data (one of --data, --forget, --demo-data)")
    data.add_argument("--data", help="a run config YAML: its data.forget/retain/holdout/probes")
    data.add_argument("--forget", help="forget set file")
    data.add_argument("--retain", help="retain set file (utility; trains the linear probe)")
    data.add_argument("--holdout", help="holdout (non-member) set: adds membership inference")
    data.add_argument("--probes", help="paraphrased forget questions")
    data.add_argument("--format", default="qa", choices=["qa", "text"], help="forget format")
    data.add_argument("--demo-data", action="store_true", help="use the shipped demo sets")
    data.add_argument("--limit", type=positive_int, help="keep the first N examples of every set")
    p.add_argument("--attacks", type=_csv, default="relearn,icl,prompts,quantize,probes",
                   help="comma-separated attacks")
    p.add_argument("--suite", default="default", help="evaluation suite")
    p.add_argument("--out", help="output folder (default: runs/attack-<time>)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing "
                   "attack_results.json")
    _add_attack_options(p)
    p.add_argument("--max-new-tokens", type=positive_int, default=32, help="generation length")
    p.add_argument("--batch-size", type=positive_int, default=8)
    p.add_argument("--max-length", type=positive_int, default=512)
    p.add_argument("--device")
    p.add_argument("--dtype")
    p.add_argument("--seed", type=non_negative_int, default=0)
    p.add_argument("--allow-pickle", action="store_true", help="also load pickle weights "
                   "(.bin); they can run code when loaded, so only for files you trust")
    add_prompt_args(p)
    p.set_defaults(handler=handle)


def _add_attack_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("attack settings")
    g.add_argument("--relearn-k", type=positive_int, help="forget examples to relearn on (default "
                   "max(2, ceil(fraction * n)))")
    g.add_argument("--relearn-fraction", type=fraction, default=0.1)
    g.add_argument("--relearn-steps", type=positive_int, default=20)
    g.add_argument("--relearn-lr", type=positive_float, default=2e-5)
    g.add_argument("--relearn-batch-size", type=positive_int, default=4)
    g.add_argument("--relearn-data", help="relearn on this related data instead of forget rows")
    g.add_argument("--relearn-format", default="qa", choices=["qa", "text"])
    g.add_argument("--icl-shots", type=non_negative_int, default=3, help="forget Q/A pairs shown in context")
    g.add_argument("--prompt-families", type=_csv,
                   default="paraphrase,multilingual,multihop,jailbreak")
    g.add_argument("--multilingual", help="JSONL of translated forget questions, or 'demo' "
                   "for the shipped French/Spanish example (default with --demo-data)")
    g.add_argument("--jailbreaks", help="JSON of jailbreak templates (default: shipped set)")
    g.add_argument("--quant-schemes", type=_csv, default="int8,int4_sym,int4_asym")
    g.add_argument("--quant-group-size", type=positive_int, default=128)
    g.add_argument("--quantize-lm-head", action="store_true")
    g.add_argument("--probe-top-k", type=positive_int, default=5)
    g.add_argument("--probe-steps", type=positive_int, default=200)


def load_datasets(args: argparse.Namespace) -> dict[str, list]:
    """The canonical data sets from --data, --demo-data or the per-set options."""
    from obliviate.data import DataSpec, load_examples
    from obliviate.errors import ConfigError

    chosen = [bool(args.data), bool(args.demo_data), bool(args.forget)]
    if sum(chosen) != 1:
        raise ConfigError("give exactly one of --data CONFIG.yaml, --forget FILE or --demo-data.")
    if args.data:
        from obliviate.config import load_config
        specs = {k: v for k, v in vars(load_config(args.data).data).items()
                 if k in ATTACK_SETS and v is not None}
    elif args.demo_data:
        from obliviate.demo.data import demo_spec
        specs = {k: demo_spec(k) for k in ATTACK_SETS}
    else:
        specs = {"forget": DataSpec(args.forget, format=args.format)}
        specs |= {k: DataSpec(getattr(args, k)) for k in ("retain", "holdout", "probes")
                  if getattr(args, k)}
    if "forget" not in specs:
        raise ConfigError(f"{args.data} has no data.forget set.")
    if args.limit is not None and args.limit < 1:
        raise ConfigError(f"--limit must be at least 1, got {args.limit}.")
    return {k: load_examples(spec)[: args.limit] for k, spec in specs.items()}


def build_settings(args: argparse.Namespace):
    from obliviate.attacks import AttackSettings
    from obliviate.attacks.prompts import load_multilingual
    from obliviate.data import DataSpec, load_examples

    multilingual = args.multilingual or ("demo" if args.demo_data else None)
    relearn = (load_examples(DataSpec(args.relearn_data, format=args.relearn_format))
               if args.relearn_data else None)
    return AttackSettings(
        seed=args.seed, relearn_k=args.relearn_k, relearn_fraction=args.relearn_fraction,
        relearn_steps=args.relearn_steps, relearn_lr=args.relearn_lr,
        relearn_batch_size=args.relearn_batch_size, relearn_data=relearn,
        relearn_data_format=args.relearn_format, icl_shots=args.icl_shots,
        prompt_families=tuple(args.prompt_families),
        multilingual=load_multilingual(multilingual) if multilingual else None,
        jailbreak_file=args.jailbreaks, quant_schemes=tuple(args.quant_schemes),
        quant_group_size=args.quant_group_size, quantize_lm_head=args.quantize_lm_head,
        probe_top_k=args.probe_top_k, probe_steps=args.probe_steps)


def output_file(args: argparse.Namespace) -> Path:
    """``<out>/attack_results.json``; never an input, inside one or containing one, never a
    file or an unwritable place, never over an existing file without --overwrite."""
    from obliviate.errors import ConfigError
    from obliviate.outputs import check_not_input, check_writable_location

    out = Path(args.out or Path("runs") / f"attack-{time.strftime('%Y%m%d-%H%M%S')}").resolve()
    inputs = [args.model, args.original, args.original_results, args.data, args.forget,
              args.retain, args.holdout, args.probes, args.relearn_data, args.jailbreaks]
    check_not_input(out, [p for p in inputs if p], "--out")
    check_writable_location(out, "--out")
    path = out / "attack_results.json"
    if path.exists() and not args.overwrite:
        raise ConfigError(f"{path} exists; choose another --out or pass --overwrite.")
    return path


def check_names(args: argparse.Namespace) -> None:
    """Quantization schemes and prompt families are checked before any model is loaded."""
    from obliviate.attacks.prompts import FAMILIES
    from obliviate.attacks.quantize import SCHEMES
    from obliviate.errors import ConfigError

    for given, known, what in ((args.quant_schemes, SCHEMES, "--quant-schemes"),
                               (args.prompt_families, FAMILIES, "--prompt-families")):
        for name in given:
            if name not in known:
                raise ConfigError(f"{what}: unknown name {name!r}; known: "
                                  f"{', '.join(known)}.")


def resolve_models(args: argparse.Namespace) -> None:
    """Accept a demo's output folder (the model lies in ``model/``) and default --original to
    the model a run started from (``run.json``), when neither --original nor
    --original-results is given."""
    import json

    from obliviate.errors import ConfigError

    folder = Path(args.model)
    if not (folder / "config.json").is_file() and (folder / "model" / "config.json").is_file():
        args.model = str(folder / "model")
    run = Path(args.model) / "run.json"
    if not (args.original or args.original_results) and run.is_file():
        args.original = json.loads(run.read_text()).get("model", {}).get("id")
        if args.original:
            print(f"original model (from {run}): {args.original}")
    if not (args.original or args.original_results):
        raise ConfigError("recovery needs the original model's scores: give --original MODEL "
                          "or --original-results results.json.")


def handle(args: argparse.Namespace) -> int:
    from obliviate.attacks import ATTACKS, EvalOptions, attack_table, run_attacks
    from obliviate.attacks import write_attack_results
    from obliviate.data.prompting import prompt_format_of, set_default_prompt_format
    from obliviate.models import load_model

    for name in args.attacks:
        ATTACKS.get(name)  # unknown names fail before any model is loaded
    check_names(args)
    resolve_models(args)
    path, datasets, settings = output_file(args), load_datasets(args), build_settings(args)
    set_default_prompt_format(prompt_from_args(args))
    pickle = args.allow_pickle
    loaded = load_model(args.model, device=args.device, dtype=args.dtype, allow_pickle=pickle)
    original = load_model(args.original, device=args.device, dtype=args.dtype,
                          allow_pickle=pickle) if args.original else None
    info = {"model": {"id": loaded.name, "weights_hash": loaded.weights_hash},
            "original": {"id": original.name if original else None,
                         "weights_hash": original.weights_hash if original else None,
                         "results": args.original_results},
            "device": str(next(loaded.model.parameters()).device),
            "prompt": prompt_format_of(loaded.tokenizer).as_dict()}
    opts = EvalOptions(args.suite, args.max_length, args.batch_size, args.max_new_tokens)
    doc = run_attacks(loaded.model, loaded.tokenizer, datasets, attacks=list(args.attacks),
                      settings=settings, original_model=original.model if original else None,
                      original_results=args.original_results, opts=opts, info=info,
                      log=lambda line: print(line, file=sys.stderr, flush=True))
    write_attack_results(path, doc)
    print(attack_table(doc))
    print(f"\nattack results written to {path}")
    return 0
