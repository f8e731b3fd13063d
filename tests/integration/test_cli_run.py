"""`obliviate run` and `obliviate list` on a tiny model saved to disk, and their error paths."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from obliviate.cli import main
from tests.conftest import tree_hash




def _run_args(model_dir: Path, files: dict, out: Path, *extra: str) -> list[str]:
    return ["run", f"model={model_dir}", f"data.forget={files['forget']}",
            f"data.retain={files['retain']}", "method=graddiff", "train.max_steps=2",
            "train.batch_size=2", "train.lr=1e-3", f"output_dir={out}", *extra]


def test_run_writes_a_complete_output_dir(model_dir, data_files, tmp_path, capsys):
    before = tree_hash(model_dir)
    out = tmp_path / "run"
    assert main(_run_args(model_dir, data_files, out)) == 0
    names = {p.name for p in out.iterdir()}
    assert {"model.safetensors", "config.json", "tokenizer.json", "run_config.yaml",
            "steps.jsonl", "run.json"} <= names
    steps = [json.loads(line) for line in (out / "steps.jsonl").read_text().splitlines()]
    assert [s["step"] for s in steps] == [1, 2] and "retain_loss" in steps[0]
    run = json.loads((out / "run.json").read_text())
    for key in ("wall_time_s", "tokens_processed", "trainable_parameters", "peak_memory_mb"):
        assert run[key] > 0
    assert yaml.safe_load((out / "run_config.yaml").read_text())["method"] == "graddiff"
    assert tree_hash(model_dir) == before, "the input model's files were modified"
    assert not [p for p in tmp_path.iterdir() if ".partial" in p.name]
    assert str(out) in capsys.readouterr().out


def test_yaml_file_with_overrides(model_dir, data_files, tmp_path):
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(yaml.safe_dump({"model": str(model_dir), "method": "npo",
                                   "data": {"forget": {"path": str(data_files["forget"])}},
                                   "train": {"max_steps": 1, "lr": 1e-3}}))
    out = tmp_path / "npo-run"
    assert main(["run", str(cfg), "method_args.beta=0.2", f"output_dir={out}"]) == 0
    saved = yaml.safe_load((out / "run_config.yaml").read_text())
    assert saved["method_args"] == {"beta": 0.2} and saved["train"]["max_steps"] == 1


@pytest.mark.parametrize("extra, message", [
    (["method=nop"], "unknown method 'nop'. Did you mean 'npo'?"),
    (["train.lrr=1"], "unknown config key 'train.lrr'. Did you mean 'lr'?"),
    (["method_args.bta=1"], "no hyper-parameter 'bta'"),
    (["train.batch_size=0"], "train.batch_size must be positive"),
])
def test_user_errors_exit_2_with_one_line(extra, message, model_dir, data_files, tmp_path, capsys):
    assert main(_run_args(model_dir, data_files, tmp_path / "x", *extra)) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1


def test_missing_data_file_and_output_inside_model(model_dir, data_files, tmp_path, capsys):
    files = dict(data_files, forget=tmp_path / "nope.jsonl")
    assert main(_run_args(model_dir, files, tmp_path / "x")) == 2
    assert "nope.jsonl" in capsys.readouterr().err
    assert main(_run_args(model_dir, data_files, model_dir / "out")) == 2
    assert "inside the input model's directory" in capsys.readouterr().err


def test_existing_output_needs_overwrite(model_dir, data_files, tmp_path, capsys):
    out = tmp_path / "taken"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    assert main(_run_args(model_dir, data_files, out)) == 2
    assert "overwrite=true" in capsys.readouterr().err
    assert main(_run_args(model_dir, data_files, out, "overwrite=true")) == 0
    assert not (out / "keep.txt").exists() and (out / "run.json").exists()


def test_console_script_lists_methods_and_has_help():
    exe = Path(sys.executable).with_name("obliviate")
    listing = subprocess.run([exe, "list", "methods"], capture_output=True, text=True, check=True)
    for name in ("ga", "graddiff", "ga_kl", "npo", "simnpo", "idk", "dpo_idk", "rmu"):
        assert f"\n{name} " in listing.stdout
    for cmd in ([], ["run"], ["list"]):
        helped = subprocess.run([exe, *cmd, "--help"], capture_output=True, text=True)
        assert helped.returncode == 0 and "usage: obliviate" in helped.stdout
    bad = subprocess.run([exe, "run", "data.forget=missing.jsonl", "model=/nonexistent/model"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
