"""Evaluation results kept on disk, so the same evaluation never runs twice.

An entry is found only when everything that decides the numbers is the same: the model's weights
hash, the data (examples and their metadata), the tokens the prompt format turns them into, the
suite, the settings (generation budget, lengths, batch size), the code of the evaluation package
and the library versions. Any change gives another key and a fresh evaluation. The demo reads
its "before" evaluation of the embedded model from here on every run after the first.

Entries live in ``$OBLIVIATE_HOME/evaluations`` (default ``~/.cache/obliviate/evaluations``);
set ``OBLIVIATE_EVAL_CACHE=0`` to turn the store off.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Callable

import torch
import transformers

from obliviate.data.types import Example
from obliviate.evaluation.results import write_results
from obliviate.evaluation.scoring import items_hash
from obliviate.models.embedded import obliviate_home

_CODE_ROOT = Path(__file__).resolve().parents[1]
_CODE_PARTS = ("evaluation", "data/tokenize.py", "data/prompting.py", "data/types.py",
               "models/head.py")


def store_dir() -> Path:
    return obliviate_home() / "evaluations"


def enabled() -> bool:
    return os.environ.get("OBLIVIATE_EVAL_CACHE", "1").strip().lower() not in ("0", "false", "no")


def code_hash() -> str:
    """SHA-256 over the evaluation code's source files (a metric fix invalidates entries)."""
    digest = hashlib.sha256()
    for part in _CODE_PARTS:
        path = _CODE_ROOT / part
        for f in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(f.relative_to(_CODE_ROOT).as_posix().encode() + f.read_bytes())
    return digest.hexdigest()


def library_versions() -> list[str]:
    """The versions of the libraries whose code computes the numbers."""
    return [torch.__version__, transformers.__version__]


def examples_hash(examples: list[Example]) -> str:
    rows = [[e.prompt, e.target, e.meta] for e in examples]
    return hashlib.sha256(json.dumps(rows, sort_keys=True, default=str).encode()).hexdigest()


def evaluation_key(weights_hash: str, datasets: dict[str, list[Example]],
                   tokenized: dict[str, list], suite: Any, settings: dict[str, Any]) -> str:
    """The key of one evaluation; ``tokenized`` holds each data set as the model reads it (so
    the prompt format and tokenizer are part of the key)."""
    parts = {
        "model": weights_hash,
        "data": {n: examples_hash(ex) for n, ex in sorted(datasets.items())},
        "tokens": {n: items_hash(items) for n, items in sorted(tokenized.items())},
        "suite": repr(suite), "settings": settings, "code": code_hash(),
        "versions": library_versions(),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def load_or_compute(key: str, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The stored results under ``key``, else ``compute()`` stored under it (written atomically;
    an unreadable entry is computed again)."""
    path = store_dir() / f"{key}.json"
    if enabled() and path.is_file():
        try:
            results = json.loads(path.read_text(encoding="utf-8"))
            results.setdefault("timings", {})["from_cache"] = str(path)
            return results
        except (OSError, ValueError):
            pass
    results = compute()
    if enabled():
        try:
            write_results(path, results)
        except OSError:
            pass  # a read-only home only costs the next run its cache
    return results


def assess_stored(loaded: Any, datasets: dict[str, list[Example]], suite: Any, *,
                  data: dict[str, str] | None = None, max_new_tokens: int = 64,
                  batch_size: int = 8, max_length: int = 512,
                  progress: str | None = None) -> dict[str, Any]:
    """:func:`obliviate.assessment.assess` without reference inputs, read from the store when
    this exact evaluation was done before (see :func:`evaluation_key`)."""
    from obliviate.assessment import assess
    from obliviate.data.prompting import prompt_format_of
    from obliviate.data.tokenize import tokenize_examples
    from obliviate.evaluation.context import data_format

    run = lambda: assess(loaded, datasets, suite, data=data, max_new_tokens=max_new_tokens,  # noqa: E731
                         batch_size=batch_size, max_length=max_length, progress=progress)
    if not enabled() or not loaded.weights_hash:
        return run()
    tokenized = {n: tokenize_examples(ex, loaded.tokenizer, max_length, data_format(ex))
                 for n, ex in datasets.items()}
    settings = {"max_new_tokens": max_new_tokens, "batch_size": batch_size,
                "max_length": max_length, "data_files": data,
                "prompt_format": prompt_format_of(loaded.tokenizer).as_dict()}
    key = evaluation_key(loaded.weights_hash, datasets, tokenized, suite, settings)
    return load_or_compute(key, run)
