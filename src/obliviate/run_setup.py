"""Checks a run gets before anything expensive, and what resuming a run needs.

- :func:`run_inputs`: every path a run reads (model folder, data files, refusals, reference
  results); the output folder may not be, contain or lie inside any of them.
- :func:`prepare_output`: names (optimizer), paths and the output folder checked; returns the
  dead run's partial folder to resume (``--resume``), or None.
- :func:`run_fingerprint`: what a checkpoint must match to be resumed (config without the
  output / resume settings, input weights hash, data hashes).
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from obliviate.config import RunConfig, to_dict
from obliviate.errors import ConfigError
from obliviate.outputs import check_output_dir, resumable_partial

#: Config keys that may change between a run and its resumption.
_FREE_KEYS = ("output_dir", "overwrite", "eval", "eval_suite", "eval_max_new_tokens",
              "retain_results", "device", "lm_eval", "push_to_hub")


def run_inputs(config: RunConfig) -> list[Path]:
    """The local paths a run reads (those that exist)."""
    paths = [config.model, config.retain_results, config.data.refusals]
    for spec in (config.data.forget, config.data.retain, config.data.holdout, config.data.probes):
        if spec is not None and not spec.path.startswith("hf:"):
            paths.append(spec.path)
    return [Path(p).expanduser() for p in paths if p and Path(p).expanduser().exists()]


def _check_names(config: RunConfig) -> None:
    from obliviate.training.optim import OPTIMIZERS

    OPTIMIZERS.get(config.optimizer)  # "unknown optimizer ... did you mean"


def prepare_output(config: RunConfig, out: Path, resume: bool) -> Path | None:
    """Check names and the output folder; the partial folder to resume from, or None."""
    _check_names(config)
    if resume and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise ConfigError("--resume runs on one process for now; resume without accelerate "
                          "launch (the checkpoint holds the whole state), or start afresh")
    partial = resumable_partial(out)
    if resume and partial is None:
        print(f"note: no interrupted run of {out} with a checkpoint was found; starting afresh",
              file=sys.stderr)
    if partial is not None and not resume and not config.overwrite:
        raise ConfigError(f"{partial} holds a checkpoint of an interrupted run of {out}; pass "
                          "--resume to continue it, or overwrite=true to start afresh")
    check_output_dir(out, config.overwrite, run_inputs(config))
    return partial if resume else None


def config_hash(config: RunConfig) -> str:
    """sha256 of the config that decides the trained weights (output settings left out)."""
    raw = {k: v for k, v in to_dict(config).items() if k not in _FREE_KEYS}
    for key in ("save_every", "report_to"):  # saving and tracking do not change the weights
        raw["train"].pop(key, None)
    text = json.dumps(raw, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def run_fingerprint(config: RunConfig, weights_hash: str, data: dict[str, str]) -> str:
    text = json.dumps({"config": config_hash(config), "weights": weights_hash, "data": data},
                      sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def input_folder(config: RunConfig) -> Path | None:
    """The folder the input model's files (and its ledger) are in, if it has one."""
    from obliviate.models.embedded import embedded_model_dir, is_embedded

    if is_embedded(config.model):
        return embedded_model_dir(config.model)
    path = Path(config.model).expanduser()
    return path if path.is_dir() else None


def input_ledger(config: RunConfig) -> tuple[list[dict], str | None]:
    """The input model's validated ledger and its weights' sha256 (None for a hub model)."""
    from obliviate.ledger import check_folder_matches, read_ledger, weights_sha256

    folder = input_folder(config)
    if folder is None:
        return [], None
    entries = read_ledger(folder)
    check_folder_matches(folder, entries)
    return entries, weights_sha256(folder)


def sets_hashes(sets: Any) -> dict[str, str]:
    """sha256 of each loaded set's examples (works for files, hub sets and in-memory data)."""
    from obliviate.evaluation.results import dataset_hash

    names = ("forget", "retain", "holdout", "probes")
    return {n: dataset_hash(getattr(sets, n)) for n in names if getattr(sets, n, None)}


def _file_sha256(path: str) -> str | None:
    from obliviate.data import file_hash

    return file_hash(path) if Path(path).expanduser().is_file() else None


def write_ledger_entry(tmp: Path, config: RunConfig, previous: list[dict],
                       input_sha: str | None, input_hash: str, forget: list,
                       results: dict | None) -> None:
    """Append this request to the ledger carried from the input model into ``tmp``."""
    from obliviate.evaluation.results import dataset_hash
    from obliviate.ledger import headline, new_entry, weights_sha256, write_ledger

    path = config.data.forget.path
    entry = new_entry(previous, method=config.method, config_sha256=config_hash(config),
                      forget={"path": path, "sha256": _file_sha256(path),
                              "examples_sha256": dataset_hash(forget), "rows": len(forget)},
                      input_model=config.model, input_sha256=input_sha or input_hash,
                      output_sha256=weights_sha256(tmp), metrics=headline(results))
    write_ledger(tmp, [*previous, entry])
