"""Evaluate a loaded model on a run's sets and build its results document.

The glue between a run (its sets, config and ``run.json``) and the evaluation package: one call
gives the versioned results dict that ``results.json``, reports and comparisons read.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from obliviate.data import Example, file_hash
from obliviate.distributed import world
from obliviate.evaluation import build_results, evaluate
from obliviate.evaluation.results import comparable_fields, generation_record
from obliviate.evaluation.suites import SuiteEntry
from obliviate.models import LoadedModel
from obliviate.training.memory import peak_memory_mb


def sets_as_datasets(sets: Any) -> dict[str, list[Example]]:
    """The named data sets of a run (forget, retain, holdout, probes), skipping absent ones."""
    names = ("forget", "retain", "holdout", "probes")
    return {n: getattr(sets, n) for n in names if getattr(sets, n, None)}


def data_hashes(config: Any) -> dict[str, str]:
    """SHA-256 of each data file a run config names."""
    specs = {n: getattr(config.data, n) for n in ("forget", "retain", "holdout", "probes")}
    return {n: file_hash(s.path) for n, s in specs.items() if s is not None}


def assess(loaded: LoadedModel, datasets: dict[str, list[Example]],
           suite: str | list[SuiteEntry] = "default", *, config: dict | None = None,
           data: dict[str, str] | None = None, reference_results: Any = None,
           reference_model: Any = None, run_info: Any = None, max_new_tokens: int = 64,
           batch_size: int = 8, max_length: int = 512,
           progress: str | None = None) -> dict[str, Any]:
    """Evaluate ``loaded`` with ``suite`` and return the results document; ``progress`` (a
    label) shows a progress bar."""
    start = time.perf_counter()
    was_training = loaded.model.training
    loaded.model.eval()
    metrics = evaluate(loaded.model, loaded.tokenizer, datasets, suite,
                       max_length=max_length, batch_size=batch_size,
                       reference_results=reference_results, reference_model=reference_model,
                       run_info=run_info, max_new_tokens=max_new_tokens, progress=progress)
    loaded.model.train(was_training)
    device = next(loaded.model.parameters()).device
    doc = build_results(metrics, model_id=loaded.name, weights_hash=loaded.weights_hash,
                        data=data, config=config,
                        generation=generation_record(metrics, max_new_tokens),
                        **comparable_fields(loaded.tokenizer, datasets),
                        timings={"evaluation_s": round(time.perf_counter() - start, 3)},
                        peak_memory_mb=round(peak_memory_mb(device), 1), device=device.type)
    w = world()
    doc["distributed"] = {"processes": w.size, "backend": w.backend}
    return doc


def with_before(after: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    """The unlearned model's results with the original model's kept under ``"before"``."""
    keep = ("model", "metrics", "samples", "timings")
    return {**after, "before": {k: before[k] for k in keep if k in before}}


def run_info_of(model_dir: str | Path) -> Path | None:
    """``run.json`` beside a trained model, when there is one."""
    path = Path(model_dir) / "run.json"
    return path if path.is_file() else None


def before_after_table(results: dict[str, Any]) -> str:
    """Plain text: each metric before and after unlearning, with the after-value's 95% CI."""
    fmt = lambda v: "n/a" if v is None else f"{v:.4g}"  # noqa: E731
    before = results.get("before", {}).get("metrics", {})
    rows = [("metric", "before", "after", "after 95% CI")]
    for key, entry in sorted(results.get("metrics", {}).items()):
        ci = f"[{fmt(entry.get('ci_low'))}, {fmt(entry.get('ci_high'))}]"
        rows.append((key, fmt((before.get(key) or {}).get("value")), fmt(entry.get("value")), ci))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
