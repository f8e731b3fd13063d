"""Experiment trackers through accelerate's tracker API: TensorBoard offline (the event file
exists and holds the step log's scalars and the final metrics), clear errors for the others."""
from __future__ import annotations

import importlib.util
import json

import pytest

from obliviate.cli import main
from obliviate.config import TrainConfig
from obliviate.errors import ConfigError
from obliviate.training.trackers import Trackers, flat_settings

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402


def scalars(folder) -> dict[str, list[tuple[int, float]]]:
    events = list(folder.rglob("events.out.tfevents.*"))
    assert events, f"no TensorBoard event file under {folder}"
    acc = EventAccumulator(str(events[0].parent))
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def test_run_logs_steps_and_metrics_to_tensorboard(model_dir, data_files, tmp_path):
    out = tmp_path / "tb-run"
    assert main(["run", f"model={model_dir}", f"data.forget={data_files['forget']}",
                 f"data.retain={data_files['retain']}", "method=graddiff", "train.max_steps=3",
                 "train.batch_size=2", "train.lr=1e-3", "train.report_to=[tensorboard]",
                 "eval=before_after", f"output_dir={out}"]) == 0
    assert (out / "logs" / "tb-run").is_dir(), "logged under the run name"
    tags = scalars(out / "logs")
    steps = [json.loads(line) for line in (out / "steps.jsonl").read_text().splitlines()]
    for part in ("loss", "retain_loss", "lr"):
        assert [s for s, _ in tags[f"train/{part}"]] == [1, 2, 3]
        assert [v for _, v in tags[f"train/{part}"]] == pytest.approx(
            [r[part] for r in steps], rel=1e-6)
    results = json.loads((out / "results.json").read_text())
    after = results["metrics"]["forget/answer_prob"]["value"]
    before = results["before"]["metrics"]["forget/answer_prob"]["value"]
    assert tags["eval/forget/answer_prob"] == [(0, pytest.approx(before, rel=1e-6)),
                                              (3, pytest.approx(after, rel=1e-6))]


def test_every_numeric_field_of_a_step_record_is_logged(tmp_path):
    trackers = Trackers(["tensorboard"], "r", tmp_path, {"train": {"lr": 1e-3, "tags": [1]}})
    trackers.log_record({"step": 1, "loss": 0.5, "forget/mc_accuracy": 0.25, "note": "x",
                         "nan": float("nan"), "flag": True})
    trackers.finish()
    tags = scalars(tmp_path)
    assert set(tags) == {"train/loss", "train/forget/mc_accuracy"}
    assert tags["train/forget/mc_accuracy"] == [(1, 0.25)]


def test_flat_settings():
    assert flat_settings({"a": {"b": 1, "c": None}, "d": [1, 2], "e": "x"}) == {
        "a.b": 1, "a.c": "null", "d": "[1, 2]", "e": "x"}


def test_unknown_tracker_is_a_config_error():
    with pytest.raises(ConfigError, match="tensorboard, wandb, mlflow"):
        TrainConfig(report_to=["neptune"])


@pytest.mark.parametrize("name", ["wandb", "mlflow"])
def test_missing_tracker_package_fails_before_loading(name, data_files, tmp_path, capsys):
    if importlib.util.find_spec(name) is not None:
        pytest.skip(f"{name} is installed here")
    code = main(["run", "model=does-not-matter", f"data.forget={data_files['forget']}",
                 f"train.report_to=[{name}]", f"output_dir={tmp_path / 'x'}"])
    err = capsys.readouterr().err
    assert code == 2 and f"pip install {name}" in err and "Traceback" not in err
