"""Loading a run for the report: results.json (after, and optionally before), run.json,
steps.jsonl and attack_results.json. See the package docstring for the exact keys read."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from obliviate.data.jsonlines import json_lines
from obliviate.errors import DataError
from obliviate.evaluation.results import SCHEMA_VERSION

RESULTS = "results.json"
RUN_INFO = "run.json"
STEPS = "steps.jsonl"
ATTACKS = "attack_results.json"


@dataclass
class RunData:
    """Everything one run contributes to a report. ``after`` holds the metrics of the run's
    model; ``before`` those of the original model (empty when not evaluated)."""

    name: str
    path: Path
    results: dict[str, Any]
    after: dict[str, dict[str, Any]]
    before: dict[str, dict[str, Any]] = field(default_factory=dict)
    samples_after: list[dict[str, Any]] = field(default_factory=list)
    samples_before: list[dict[str, Any]] = field(default_factory=list)
    run_info: dict[str, Any] = field(default_factory=dict)
    steps: list[dict[str, Any]] = field(default_factory=list)
    attacks: dict[str, Any] | None = None

    @property
    def method(self) -> str:
        config = self.results.get("config") or {}
        return str(self.run_info.get("method") or config.get("method") or "-")

    @property
    def model_id(self) -> str:
        """The model that was unlearned (run.json, the before block, the config), else the
        evaluated model's id."""
        for model in (self.run_info.get("model"), (self.results.get("before") or {}).get("model"),
                      (self.results.get("config") or {}).get("model"), self.results.get("model")):
            name = model.get("id") if isinstance(model, dict) else model
            if name:
                return str(name)
        return "-"


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DataError(f"cannot read {what} {path}: {error}") from error


def load_results_file(path: str | Path) -> dict[str, Any]:
    """A results.json, checked to hold a ``metrics`` object (and ``before.metrics`` if any)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path} does not exist; pass a run directory holding results.json "
                        "(written by `obliviate run` with evaluation) or a results.json path.")
    results = _read_json(path, "results file")
    if not isinstance(results, dict) or not isinstance(results.get("metrics"), dict):
        raise DataError(f"{path} has no 'metrics' object; is it a results.json written by "
                        "obliviate?")
    version = results.get("schema_version")
    if version != SCHEMA_VERSION:
        raise DataError(f"{path} has schema_version {version!r}; this obliviate reads "
                        f"{SCHEMA_VERSION!r}. Re-evaluate the model with this version "
                        "(obliviate eval) to get a results.json it can read.")
    before = results.get("before")
    if before is not None and not (isinstance(before, dict)
                                   and isinstance(before.get("metrics"), dict)):
        raise DataError(f"{path}: 'before' must be an object with a 'metrics' object.")
    return results


def read_steps(path: Path) -> list[dict[str, Any]]:
    """The step log's records; blank or broken lines (a run cut short) are skipped."""
    if not path.is_file():
        return []
    records = []
    for _, line in json_lines(path.read_text(encoding="utf-8", errors="replace")):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and isinstance(record.get("step"), (int, float)):
            records.append(record)
    return records


def _optional_json(path: Path, what: str) -> Any:
    return _read_json(path, what) if path.is_file() else None


def _samples(block: dict[str, Any]) -> list[dict[str, Any]]:
    samples = block.get("samples") or []
    return [s for s in samples if isinstance(s, dict)]


def load_run(source: str | Path, name: str | None = None) -> RunData:
    """Load a run directory (or a results.json path inside one)."""
    source = Path(source)
    folder = source.parent if source.suffix == ".json" else source
    results_path = source if source.suffix == ".json" else source / RESULTS
    if not folder.exists():
        raise DataError(f"run directory {folder} does not exist.")
    results = load_results_file(results_path)
    before = results.get("before") or {}
    info = _optional_json(folder / RUN_INFO, "run file")
    return RunData(
        name=name or folder.resolve().name, path=folder, results=results,
        after=results["metrics"], before=before.get("metrics") or {},
        samples_after=_samples(results), samples_before=_samples(before),
        run_info=info if isinstance(info, dict) else {},
        steps=read_steps(folder / STEPS),
        attacks=_optional_json(folder / ATTACKS, "attack results"))


def unique_names(runs: list[RunData]) -> None:
    """Make run names distinct (two runs called ``out`` become ``out``, ``out (2)``)."""
    seen: dict[str, int] = {}
    for run in runs:
        count = seen.get(run.name, 0) + 1
        seen[run.name] = count
        if count > 1:
            run.name = f"{run.name} ({count})"


def number(value: Any) -> float | None:
    """A finite float, or None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def metric_value(metrics: dict[str, Any], key: str) -> float | None:
    entry = metrics.get(key)
    return number(entry.get("value")) if isinstance(entry, dict) else None


def extra(entry: dict[str, Any] | None) -> dict[str, Any]:
    value = (entry or {}).get("extra")
    return value if isinstance(value, dict) else {}


def numbers(values: Any) -> list[float]:
    """The finite numbers of a list (anything else is dropped)."""
    if not isinstance(values, list):
        return []
    return [v for v in (number(x) for x in values) if v is not None]
