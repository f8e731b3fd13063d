"""The model card (``README.md``) of an unlearned model folder, in the Hugging Face model-card
format: YAML front matter (base_model, tags ``unlearning``, ``obliviate`` and the method), then
what was forgotten (data names, hashes and sizes, never the data), the method and its settings,
the headline before / after metrics with their 95% intervals, the attack results when present,
and how to reproduce the run. Everything is read from the folder's own files (``run.json``,
``run_config.yaml``, ``results.json``, ``attack_results.json``), so the card can be rewritten
whenever one of them changes (after the demo's evaluation, before a push).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import yaml

from obliviate.config import REPO_ID
from obliviate.reports.attacks import attack_rows
from obliviate.reports.tables import fmt, with_ci

CARD = "README.md"
#: Hub ids of the embedded models, for ``base_model``.
EMBEDDED_HUB_IDS = {"smollm2-135m-instruct": "HuggingFaceTB/SmolLM2-135M-Instruct"}
MAX_METRIC_ROWS = 30


def _read(folder: Path, name: str) -> Any:
    path = folder / name
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8")
    return yaml.safe_load(text) if name.endswith(".yaml") else json.loads(text)


def base_model_id(model: dict[str, Any]) -> str | None:
    """A hub id for ``base_model`` (the embedded model's upstream id, or a hub id as given);
    None for a local folder, which has no id on the Hub."""
    name, source = str(model.get("id") or ""), model.get("source")
    if name in EMBEDDED_HUB_IDS:
        return EMBEDDED_HUB_IDS[name]
    if source == "hub" or (source is None and REPO_ID.fullmatch(name) and not Path(name).exists()):
        return name
    return None


def front_matter(info: dict[str, Any], method: str) -> str:
    from huggingface_hub import ModelCardData

    base = base_model_id(info.get("model") or {})
    data = ModelCardData(base_model=base, library_name="transformers",
                         pipeline_tag="text-generation",
                         tags=["unlearning", "obliviate", method])
    return f"---\n{data.to_yaml()}\n---\n"


def forgotten_section(info: dict[str, Any], config: dict[str, Any]) -> list[str]:
    rows = info.get("data") or {}
    lines = ["## What was forgotten", "",
             "The data itself is not part of this card; its files are identified by SHA-256.", "",
             "| set | file | format | examples | SHA-256 |", "|---|---|---|---|---|"]
    specs = config.get("data") or {}
    for name, row in rows.items():
        spec = specs.get(name) or {}
        of = " (of the examples)" if row.get("hash_of") == "examples" else ""
        lines.append(f"| {name} | `{row.get('file', '-')}` | {spec.get('format', '-')} | "
                     f"{row.get('examples', '-')} | `{row.get('sha256', '-')}`{of} |")
    if not rows:
        lines.append("| - | - | - | - | - |")
    return lines + [""]


def method_section(info: dict[str, Any], config: dict[str, Any]) -> list[str]:
    train = config.get("train") or {}
    shown = ("lr", "max_steps", "epochs", "batch_size", "grad_accum", "scheduler",
             "warmup_steps", "max_grad_norm", "seed", "max_length")
    settings = {k: train[k] for k in shown if train.get(k) is not None}
    lines = ["## Method and settings", "",
             f"- method: `{config.get('method', info.get('method', '-'))}`"
             f" with hyper-parameters `{json.dumps(config.get('method_args') or {})}`",
             f"- optimizer: `{config.get('optimizer', '-')}`; training: "
             f"`{json.dumps(settings)}`",
             f"- optimizer steps: {info.get('steps', '-')}; tokens processed: "
             f"{info.get('tokens_processed', '-')}; trainable parameters: "
             f"{info.get('trainable_parameters', '-')} of {info.get('total_parameters', '-')}"]
    if (config.get("lora") or {}).get("enabled"):
        lines.append(f"- LoRA: `{json.dumps(config['lora'])}`")
    localize = {k: v for k, v in (config.get("localize") or {}).items() if v is not None}
    if localize:
        lines.append(f"- localisation: `{json.dumps(localize)}`")
    return lines + [f"- wall time: {info.get('wall_time_s', '-')} s; peak memory: "
                    f"{info.get('peak_memory_mb', '-')} MB", ""]


def metrics_section(results: dict[str, Any] | None) -> list[str]:
    if not results or not results.get("metrics"):
        return ["## Results", "", "This model was not evaluated (run with `eval=before_after`).",
                ""]
    before = (results.get("before") or {}).get("metrics") or {}
    keys = sorted(results["metrics"])
    lines = ["## Results", "", "Values with bootstrap 95% confidence intervals (lm-eval "
             "metrics: +-1.96 standard errors).", "",
             "| metric | before | after |", "|---|---|---|"]
    for key in keys[:MAX_METRIC_ROWS]:
        lines.append(f"| {key} | {with_ci(before.get(key))} | {with_ci(results['metrics'][key])} |")
    if len(keys) > MAX_METRIC_ROWS:
        lines.append(f"\n{len(keys) - MAX_METRIC_ROWS} more metrics are in `results.json`.")
    return lines + [""]


def attacks_section(attacks: Any) -> list[str]:
    rows = attack_rows(attacks) if attacks is not None else []
    if not rows:
        return []
    lines = ["## Attacks", "", "Recovery = (attacked - unlearned) / (original - unlearned): "
             "0 = nothing came back, 1 = back to the original model's level.", "",
             "| attack | metric | original | unlearned | attacked | recovery |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {r.attack} | {r.metric} | {fmt(r.original)} | {fmt(r.unlearned)} | "
              f"{fmt(r.attacked)} | {fmt(r.recovery)} |" for r in rows]
    return lines + [""]


def reproduce_section(info: dict[str, Any], results: dict[str, Any] | None) -> list[str]:
    version = info.get("obliviate_version") or (results or {}).get("obliviate_version", "")
    commit = (results or {}).get("git_commit")
    model = info.get("model") or {}
    return ["## How to reproduce", "",
            "The resolved configuration is `run_config.yaml` in this folder; with the same data "
            "files (check their SHA-256 above):", "", "```bash",
            f"pip install 'obliviate=={version}'" if version else "pip install obliviate",
            "obliviate run run_config.yaml output_dir=reproduced", "```", "",
            f"- obliviate {version or '-'}" + (f" (commit `{commit}`)" if commit else ""),
            f"- base model: `{model.get('id', '-')}` (weights hash `{model.get('weights_hash', '-')}`)",
            ""]


def model_card_text(folder: str | Path, name: str | None = None) -> str:
    """The card of the unlearned model in ``folder``, from the folder's own files; ``name``
    (the title) defaults to the folder's name."""
    folder = Path(folder)
    info = _read(folder, "run.json") or {}
    config = _read(folder, "run_config.yaml") or {}
    results = _read(folder, "results.json")
    method = str(config.get("method") or info.get("method") or "unknown")
    base = (info.get("model") or {}).get("id", "-")
    parts = [front_matter(info, method), f"# {name or folder.resolve().name}", "",
             f"`{base}` after machine unlearning with [obliviate]"
             f"(https://pypi.org/project/obliviate/), method `{method}`.", ""]
    parts += forgotten_section(info, config) + method_section(info, config)
    parts += metrics_section(results) + attacks_section(_read(folder, "attack_results.json"))
    parts += reproduce_section(info, results)
    return "\n".join(parts)


def write_model_card(folder: str | Path, name: str | None = None) -> Path:
    """Write (or rewrite) ``folder/README.md``, atomically; returns its path."""
    path = Path(folder) / CARD
    tmp = path.with_name(f".{CARD}.tmp-{os.getpid()}")
    tmp.write_text(model_card_text(folder, name), encoding="utf-8")
    os.replace(tmp, path)
    return path


def data_summary(config: Any, sets: Any) -> dict[str, dict[str, Any]]:
    """Per data set of a run (for ``run.json``): file name, SHA-256 of the file (of the
    examples' canonical JSON when the source is no file, e.g. a hub or generated set) and
    number of examples."""
    from obliviate.data import file_hash
    from obliviate.evaluation.results import dataset_hash

    out = {}
    for name in ("forget", "retain", "holdout", "probes"):
        spec, examples = getattr(config.data, name), getattr(sets, name, None)
        if spec is None:
            continue
        is_file = Path(spec.path).is_file()
        digest = file_hash(spec.path) if is_file else dataset_hash(examples or [])
        out[name] = {"file": Path(spec.path).name if is_file else str(spec.path),
                     "sha256": digest, "hash_of": "file" if is_file else "examples",
                     "examples": len(examples) if examples is not None else None}
    return out
