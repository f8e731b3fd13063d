"""Checkpoints and resume: a run killed with SIGKILL and resumed ends bit-identical to an
uninterrupted run with the same seed, with the same step log (``training/checkpoint.py``)."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from obliviate.cli import main

STEPS, EVERY = 24, 3


def _args(model_dir: Path, files: dict, out: Path, *extra: str) -> list[str]:
    return ["run", f"model={model_dir}", f"data.forget={files['forget']}",
            f"data.retain={files['retain']}", "method=graddiff", f"train.max_steps={STEPS}",
            "train.batch_size=2", "train.grad_accum=2", "train.lr=1e-3", "train.warmup_steps=4",
            "train.scheduler=cosine", f"train.save_every={EVERY}", f"output_dir={out}", *extra]


def _steps(out: Path) -> list[dict]:
    rows = [json.loads(line) for line in (out / "steps.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if k != "elapsed_s"} for r in rows]


def _checkpoint_step(parent: Path, name: str) -> int:
    for pointer in parent.glob(f".{name}.partial-*/checkpoints/latest.json"):
        try:
            return json.loads(pointer.read_text())["step"]
        except (ValueError, KeyError, OSError):
            return 0
    return 0


def _kill_at(cmd: list[str], parent: Path, name: str, step: int) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "obliviate.cli", *cmd], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while _checkpoint_step(parent, name) < step and proc.poll() is None:
        assert time.monotonic() < deadline, "the run never reached its checkpoint"
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()[-2000:]


def test_sigkill_then_resume_is_bit_identical(model_dir, data_files, tmp_path):
    straight = tmp_path / "straight"
    assert main(_args(model_dir, data_files, straight)) == 0
    out = tmp_path / "killed"
    kill_step = random.Random().randrange(EVERY, STEPS - EVERY, EVERY)
    _kill_at(_args(model_dir, data_files, out), tmp_path, out.name, kill_step)
    partial = next(tmp_path.glob(".killed.partial-*"))
    pointer = json.loads((partial / "checkpoints" / "latest.json").read_text())
    saved = json.loads((partial / "checkpoints" / pointer["dir"] / "state.json").read_text())
    assert not out.exists() and pointer["step"] >= kill_step
    assert main(_args(model_dir, data_files, out)) == 2, "a fresh run must not eat a checkpoint"
    assert main(_args(model_dir, data_files, out, "--resume")) == 0
    resumed = [json.loads(x) for x in (out / "steps.jsonl").read_text().splitlines()]
    assert resumed[:pointer["step"]] == saved["records"], "it restarted instead of resuming"
    assert (out / "model.safetensors").read_bytes() == (straight / "model.safetensors").read_bytes()
    assert _steps(out) == _steps(straight)
    assert not list(tmp_path.glob(".killed.partial-*")) and not (out / "checkpoints").exists()


def test_lr_logged_is_the_rate_the_step_used(model_dir, data_files, tmp_path):
    out = tmp_path / "lr"
    args = _args(model_dir, data_files, out)
    args[args.index(f"train.max_steps={STEPS}")] = "train.max_steps=4"
    args[args.index("train.scheduler=cosine")] = "train.scheduler=linear"
    args[args.index("train.warmup_steps=4")] = "train.warmup_steps=0"
    assert main(args) == 0
    # linear decay from 1e-3 over 4 steps: the steps use 1e-3, 7.5e-4, 5e-4, 2.5e-4
    assert [round(r["lr"], 8) for r in _steps(out)] == [1e-3, 7.5e-4, 5e-4, 2.5e-4]


def test_resume_refuses_a_checkpoint_of_another_config(model_dir, data_files, tmp_path, capsys,
                                                       monkeypatch):
    from tests.integration.test_signals_and_modes import terminate_at

    out = tmp_path / "other"
    terminate_at(monkeypatch, EVERY + 1)
    assert main(_args(model_dir, data_files, out)) == 143
    monkeypatch.undo()
    assert main(_args(model_dir, data_files, out, "train.lr=2e-3", "--resume")) == 2
    assert "belongs to another run" in capsys.readouterr().err
    assert list(tmp_path.glob(".other.partial-*/checkpoints/latest.json")), "checkpoint lost"


@pytest.mark.parametrize("extra", [
    ("method=npo", "lora.enabled=true", "lora.target_modules=all-linear"),
    ("method=npo", "localize.saliency=0.5", "optimizer=sgd", "optimizer_args.momentum=0.9"),
])
def test_resume_of_an_adapter_or_masked_run_is_bit_identical(model_dir, data_files, tmp_path,
                                                             monkeypatch, extra):
    from tests.integration.test_signals_and_modes import terminate_at

    straight, out = tmp_path / "straight", tmp_path / "stopped"
    short = [a.replace(f"max_steps={STEPS}", "max_steps=8") for a in
             _args(model_dir, data_files, straight, *extra)]
    assert main(short) == 0
    terminate_at(monkeypatch, 5)
    stopped = [a.replace(str(straight), str(out)) for a in short]
    assert main(stopped) == 143
    monkeypatch.undo()
    assert main([*stopped, "--resume"]) == 0
    weights = sorted(p.name for p in straight.glob("*.safetensors"))
    assert weights == sorted(p.name for p in out.glob("*.safetensors")) and weights
    for name in weights:
        assert (out / name).read_bytes() == (straight / name).read_bytes(), name
    assert _steps(out) == _steps(straight)


def test_resume_refuses_several_processes(model_dir, data_files, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert main(_args(model_dir, data_files, tmp_path / "multi", "--resume")) == 2
    assert "one process" in capsys.readouterr().err
