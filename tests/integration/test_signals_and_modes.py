"""SIGTERM cleans up like Ctrl-C (and keeps a resumable checkpoint); every output file a run
writes has the modes the umask gives (0644 under the default umask)."""
from __future__ import annotations

import json
import os
import signal
import stat
from pathlib import Path

import pytest

from obliviate.cli import main


def _args(model_dir: Path, files: dict, out: Path, *extra: str) -> list[str]:
    return ["run", f"model={model_dir}", f"data.forget={files['forget']}",
            f"data.retain={files['retain']}", "method=graddiff", "train.batch_size=2",
            "train.lr=1e-3", f"output_dir={out}", *extra]


def terminate_at(monkeypatch, step: int) -> None:
    """Deliver a real SIGTERM to this process when the step log closes ``step``."""
    from obliviate.training.logging import StepLog

    end_step = StepLog.end_step

    def end_then_signal(self, number, lr, evals=None):
        shown = end_step(self, number, lr, evals)
        if number == step:
            os.kill(os.getpid(), signal.SIGTERM)
        return shown

    monkeypatch.setattr(StepLog, "end_step", end_then_signal)


@pytest.fixture(autouse=True)
def restore_sigterm():
    """main() installs the SIGTERM clean-up; give pytest its own handler back afterwards."""
    previous = signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGTERM, previous)


def test_sigterm_leaves_no_partial_folder(model_dir, data_files, tmp_path, capsys,
                                          monkeypatch):
    out = tmp_path / "run"
    terminate_at(monkeypatch, 2)
    assert main(_args(model_dir, data_files, out, "train.max_steps=50")) == 143
    err = capsys.readouterr().err
    assert "terminated" in err and "Traceback" not in err
    assert not out.exists() and not list(tmp_path.glob(".run.partial-*"))


def test_sigterm_keeps_the_checkpoint_and_resume_finishes(model_dir, data_files, tmp_path,
                                                          monkeypatch):
    out = tmp_path / "run"
    args = _args(model_dir, data_files, out, "train.max_steps=8", "train.save_every=2")
    terminate_at(monkeypatch, 5)
    assert main(args) == 143 and not out.exists()
    pointer = next(tmp_path.glob(".run.partial-*/checkpoints/latest.json"))
    assert json.loads(pointer.read_text())["step"] == 4
    saved = json.loads((pointer.parent / "step-0000004" / "state.json").read_text())["records"]
    monkeypatch.undo()
    assert main([*args, "--resume"]) == 0
    records = [json.loads(x) for x in (out / "steps.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == list(range(1, 9))
    assert records[:4] == saved, "the resumed run did not continue the checkpoint's log"


def test_every_output_file_honours_the_umask(model_dir, data_files, tmp_path):
    out = tmp_path / "run"
    old = os.umask(0o022)
    try:
        assert main(_args(model_dir, data_files, out, "train.max_steps=1", "eval=after",
                          "eval_max_new_tokens=2")) == 0
    finally:
        os.umask(old)
    modes = {str(p.relative_to(out)): stat.S_IMODE(p.stat().st_mode) for p in out.rglob("*")}
    assert {"model.safetensors", "results.json", "ledger.jsonl", "steps.jsonl"} <= set(modes)
    for name, mode in modes.items():
        assert mode == (0o755 if (out / name).is_dir() else 0o644), (name, oct(mode))
