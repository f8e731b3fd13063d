"""Efficiency of a training run, read from its ``run.json``: wall time, peak memory, tokens
processed, trainable / total parameters, steps, and estimated training FLOPs

    FLOPs ~= 6 * N * D      (Kaplan et al. 2020, "Scaling Laws for Neural Language Models",
                             sec. 2.1: forward 2N + backward 4N per token)

with N = the parameters the forward and backward passes run through (``total_parameters``) and
D = ``tokens_processed``. When only a subset is trainable (LoRA, masks) the weight-gradient half
of the backward pass shrinks, so ``(4 N + 2 N_trainable) * D`` is also reported."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from obliviate.errors import DataError
from obliviate.evaluation.base import MetricResult, metric

RUN_KEYS = ("wall_time_s", "peak_memory_mb", "tokens_processed", "trainable_parameters",
            "total_parameters", "steps")


def load_run_info(path: str | Path) -> dict[str, Any]:
    """Read and check a run.json."""
    try:
        info = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise DataError(f"cannot read run file {path}: {error}") from error
    missing = [k for k in RUN_KEYS if k not in info]
    if missing:
        raise DataError(f"run file {path} lacks {', '.join(missing)}.")
    return info


def training_flops(total_parameters: float, trainable_parameters: float, tokens: float) -> dict[str, float]:
    """Kaplan 6ND estimate, and the frozen-aware ``(4N + 2N_trainable) D`` variant."""
    return {"flops_6nd": 6.0 * total_parameters * tokens,
            "flops_frozen_aware": (4.0 * total_parameters + 2.0 * trainable_parameters) * tokens}


@metric("efficiency", needs={"run_info"}, higher_is_better=False, uses_dataset=False)
def efficiency(ctx: Any, dataset: str, options: dict[str, Any]) -> MetricResult:
    """Value: wall time in seconds; every other figure in extra (no interval: one run)."""
    info = ctx.run_info
    if isinstance(info, (str, Path)):
        info = load_run_info(info)
    missing = [k for k in RUN_KEYS if k not in info]
    if missing:
        raise DataError(f"run info lacks {', '.join(missing)}.")
    extra = {k: float(info[k]) for k in RUN_KEYS}
    extra.update(training_flops(extra["total_parameters"], extra["trainable_parameters"],
                                extra["tokens_processed"]))
    wall = extra["wall_time_s"]
    return MetricResult(wall, [wall], wall, wall, extra)
