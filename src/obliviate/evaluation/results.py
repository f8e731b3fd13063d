"""The results document: one versioned JSON file per evaluated model. Reports, comparisons
and reference-based metrics (forget quality, PrivLeak) read only this file.

Keys (schema_version "1"): schema_version, obliviate_version, git_commit, model {id,
weights_hash}, data {name: sha256}, config, environment {python, torch, transformers, device,
platform}, timings, peak_memory_mb, metrics {"<dataset>/<metric>": {value, ci_low, ci_high,
higher_is_better, per_sample, extra}}, samples [{key, prompt, reference, generation}],
prompt {format, system} (the prompt format), eval_data {name: sha256 of the evaluated
examples}, generation {decoding, default_max_new_tokens, max_new_tokens {metric key: budget}}.
Non-finite numbers are written as null.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from obliviate.data.types import Example
from obliviate.errors import DataError
from obliviate.evaluation.base import MetricResult
from obliviate.outputs import honour_umask

SCHEMA_VERSION = "1"


def dataset_hash(examples: list[Example]) -> str:
    """SHA-256 of the examples' canonical JSON (prompt, target, meta)."""
    rows = [{"prompt": e.prompt, "target": e.target, "meta": e.meta} for e in examples]
    text = json.dumps(rows, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _clean(value: Any) -> Any:
    """JSON-safe copy: NaN/inf -> None, numpy scalars -> Python numbers, tuples -> lists."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def git_commit() -> str | None:
    """HEAD of the repository this package lives in, or None."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent,
                             capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def environment(device: str | None = None) -> dict[str, Any]:
    import torch
    import transformers
    return {"python": sys.version.split()[0], "torch": torch.__version__,
            "transformers": transformers.__version__,
            "device": device or ("cuda" if torch.cuda.is_available() else "cpu"),
            "platform": platform.platform()}


def metric_entry(result: MetricResult) -> dict[str, Any]:
    extra = {k: v for k, v in result.extra.items() if k != "samples"}
    return _clean({"value": result.value, "ci_low": result.ci_low, "ci_high": result.ci_high,
                   "higher_is_better": result.higher_is_better,
                   "per_sample": result.per_sample, "extra": extra})


def collect_samples(metrics: dict[str, MetricResult]) -> list[dict[str, Any]]:
    """The example generations metrics kept in ``extra["samples"]``, tagged by metric key."""
    return [{"key": key, **s} for key, r in metrics.items() for s in r.extra.get("samples", [])]


def build_results(
    metrics: dict[str, MetricResult], *, model_id: str, weights_hash: str | None = None,
    data: dict[str, str] | None = None, config: dict[str, Any] | None = None,
    timings: dict[str, float] | None = None, peak_memory_mb: float | None = None,
    samples: list[dict[str, Any]] | None = None, device: str | None = None,
    prompt: dict[str, Any] | None = None, eval_data: dict[str, str] | None = None,
    generation: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Assemble the results document (see the module docstring for the keys)."""
    from obliviate import __version__
    return _clean({
        "schema_version": SCHEMA_VERSION, "obliviate_version": __version__,
        "git_commit": git_commit(), "model": {"id": model_id, "weights_hash": weights_hash},
        "data": dict(data or {}), "config": dict(config or {}),
        "environment": environment(device), "timings": dict(timings or {}),
        "peak_memory_mb": peak_memory_mb,
        "metrics": {key: metric_entry(r) for key, r in metrics.items()},
        "samples": samples if samples is not None else collect_samples(metrics),
        "prompt": prompt, "eval_data": dict(eval_data or {}),
        "generation": generation or generation_record(metrics),
    })


def comparable_fields(tokenizer: Any, datasets: dict[str, list[Example]]) -> dict[str, Any]:
    """``prompt`` and ``eval_data`` for :func:`build_results`: what reference-based metrics
    check before comparing with these results (the tokenizer's prompt format, data hashes)."""
    from obliviate.data.prompting import prompt_format_of
    return {"prompt": prompt_format_of(tokenizer).as_dict(),
            "eval_data": {n: dataset_hash(e) for n, e in datasets.items()}}


def generation_record(metrics: dict[str, MetricResult],
                      default_max_new_tokens: int | None = None) -> dict[str, Any]:
    """How the generations were made: greedy decoding, stopped at EOS, and the new-token budget
    of every metric that generated (read from its ``extra["max_new_tokens"]``)."""
    budgets = {k: r.extra["max_new_tokens"] for k, r in metrics.items()
               if "max_new_tokens" in r.extra}
    return {"decoding": "greedy", "stop": "eos", "default_max_new_tokens": default_max_new_tokens,
            "max_new_tokens": budgets}


def write_results(path: str | Path, results: dict[str, Any]) -> Path:
    """Write ``results`` as JSON atomically: a temporary file in the same folder, renamed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(_clean(results), fh, indent=2, allow_nan=False)
        honour_umask(Path(tmp))  # mkstemp makes 0600; results are for sharing
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_reference_results(source: str | Path | dict[str, Any]) -> dict[str, Any]:
    """A reference (retain) model's results, from a results.json path or an in-memory dict;
    checks the schema version and that it has metrics."""
    if isinstance(source, dict):
        results = source
    else:
        try:
            results = json.loads(Path(source).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise DataError(f"cannot read reference results {source}: {error}") from None
    if not isinstance(results, dict) or not isinstance(results.get("metrics"), dict):
        raise DataError(f"reference results {source if not isinstance(source, dict) else ''} "
                        f"have no 'metrics' object; pass a results.json written by obliviate.")
    version = results.get("schema_version")
    if version != SCHEMA_VERSION:
        raise DataError(f"reference results have schema_version {version!r}; this version of "
                        f"obliviate reads {SCHEMA_VERSION!r}. Re-evaluate the reference model.")
    return results


def _fmt(value: Any) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def summary_table(results: dict[str, Any]) -> str:
    """Plain aligned text: metric key, value, [ci_low, ci_high], and which way is better."""
    arrows = {True: "higher", False: "lower", None: "-"}
    rows = [("metric", "value", "95% CI", "better")]
    for key, entry in sorted(results.get("metrics", {}).items()):
        ci = f"[{_fmt(entry.get('ci_low'))}, {_fmt(entry.get('ci_high'))}]"
        rows.append((key, _fmt(entry.get("value")), ci, arrows[entry.get("higher_is_better")]))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
