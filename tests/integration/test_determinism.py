"""The same config and seed on CPU give the same weights, step log and results.json metrics."""
from __future__ import annotations

import json
from pathlib import Path

from obliviate.cli import main


def _run(model_dir: Path, files: dict, out: Path, seed: int = 3) -> dict:
    assert main(["run", f"model={model_dir}", f"data.forget={files['forget']}",
                 f"data.retain={files['retain']}", "method=npo", "train.max_steps=3",
                 "train.batch_size=2", "train.lr=1e-3", f"train.seed={seed}", "eval=after",
                 "eval_max_new_tokens=3", f"output_dir={out}"]) == 0
    return json.loads((out / "results.json").read_text())


def _metrics(results: dict) -> dict:
    """Every metric but run/efficiency, which measures wall time (never reproducible)."""
    return {k: v for k, v in results["metrics"].items() if k != "run/efficiency"}


def _log(out: Path) -> list[dict]:
    rows = [json.loads(x) for x in (out / "steps.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if k != "elapsed_s"} for r in rows]


def test_same_seed_same_results(model_dir, data_files, tmp_path):
    first = _run(model_dir, data_files, tmp_path / "a")
    second = _run(model_dir, data_files, tmp_path / "b")
    assert len(_metrics(first)) >= 5 and _metrics(first) == _metrics(second)
    assert first["samples"] == second["samples"]
    a, b = (tmp_path / n / "model.safetensors" for n in "ab")
    assert a.read_bytes() == b.read_bytes()
    assert _log(tmp_path / "a") == _log(tmp_path / "b")
    other = _run(model_dir, data_files, tmp_path / "c", seed=4)
    assert (tmp_path / "c" / "model.safetensors").read_bytes() != a.read_bytes()
    assert _metrics(other) != _metrics(first)
