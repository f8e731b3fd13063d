"""Experiment trackers (``train.report_to: [tensorboard, wandb, mlflow]``) through accelerate's
tracker API (``accelerate.tracking``): the run's settings once, every numeric field of each
step record (loss parts, learning rate, tokens, and whatever else the step log carries, such as
metrics evaluated during training) under ``train/``, and the final metrics under ``eval/``
(the original model's at step 0, the unlearned model's at the last step), all under the run
name. A tracker's package is imported only when it is asked for.

TensorBoard writes to ``<output_dir>/logs/<run name>/``; Weights & Biases and MLflow log to
the project / experiment ``obliviate`` with their usual settings (``WANDB_*``,
``MLFLOW_TRACKING_URI``).
"""
from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from obliviate.errors import ConfigError

PROJECT = "obliviate"
PACKAGES = {"tensorboard": "tensorboard", "wandb": "wandb", "mlflow": "mlflow"}


def check_installed(names: list[str]) -> None:
    """Fail before any expensive step when an asked-for tracker's package is missing."""
    from accelerate.utils import is_mlflow_available, is_tensorboard_available, is_wandb_available

    available = {"tensorboard": is_tensorboard_available, "wandb": is_wandb_available,
                 "mlflow": is_mlflow_available}
    for name in names:
        if not available[name]():
            raise ConfigError(f"train.report_to asks for {name}, but its package is not "
                              f"installed; pip install {PACKAGES[name]} (or drop it from "
                              "train.report_to)")


def _build(name: str, run_name: str, logging_dir: Path) -> Any:
    from accelerate import tracking

    if name == "tensorboard":
        return tracking.TensorBoardTracker(run_name, str(logging_dir))
    if name == "wandb":
        return tracking.WandBTracker(PROJECT, name=run_name)
    return tracking.MLflowTracker(experiment_name=PROJECT, run_name=run_name)


def numeric(values: dict[str, Any]) -> dict[str, float]:
    """The finite int/float fields of ``values`` (booleans and text left out)."""
    return {k: float(v) for k, v in values.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)}


def flat_settings(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A nested config as one level of scalars (lists and None as text), for hyper-parameter
    panels."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, dict):
            out.update(flat_settings(value, f"{prefix}{key}."))
        elif isinstance(value, (bool, int, float, str)):
            out[f"{prefix}{key}"] = value
        else:
            out[f"{prefix}{key}"] = json.dumps(value)
    return out


class Trackers:
    """The trackers of one run; with no names, every call does nothing."""

    def __init__(self, names: list[str], run_name: str, logging_dir: Path,
                 settings: dict[str, Any]) -> None:
        check_installed(names)
        self.trackers = [_build(n, run_name, logging_dir) for n in names]
        for tracker in self.trackers:
            tracker.start()
            tracker.store_init_configuration(flat_settings(settings))

    def log(self, values: dict[str, Any], step: int, prefix: str = "") -> None:
        values = {f"{prefix}{k}": v for k, v in numeric(values).items()}
        if values:
            for tracker in self.trackers:
                tracker.log(values, step=step)

    def log_record(self, record: dict[str, Any]) -> None:
        """One step record of the step log (``training/logging.py``)."""
        self.log({k: v for k, v in record.items() if k != "step"}, int(record["step"]), "train/")

    def log_results(self, results: dict[str, Any], step: int) -> None:
        """A results document's metric values: ``before`` at step 0, the rest at ``step``."""
        def values(block: dict[str, Any]) -> dict[str, Any]:
            return {k: (e or {}).get("value") for k, e in (block.get("metrics") or {}).items()}
        if results.get("before"):
            self.log(values(results["before"]), 0, "eval/")
        self.log(values(results), step, "eval/")

    def finish(self) -> None:
        for tracker in self.trackers:
            tracker.finish()


@contextlib.contextmanager
def tracking(names: list[str], run_name: str, folder: Path | None,
             settings: dict[str, Any]) -> Iterator[Trackers]:
    """Trackers for a run writing into ``folder`` (None on processes other than the main one:
    nothing is logged there), finished when the block ends, also on an error."""
    trackers = Trackers(names if folder is not None else [], run_name,
                        Path(folder or ".") / "logs", settings)
    try:
        yield trackers
    finally:
        trackers.finish()
