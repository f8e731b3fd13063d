"""training/checkpoint.py on a small module: atomic layout, what a load restores, refusals."""
from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from obliviate.errors import ConfigError, TrainingError
from obliviate.training.checkpoint import LATEST, Checkpointer


class _Log:
    def __init__(self, records):
        self.records, self.tokens = records, 7 * len(records)


def _objects(seed: int = 0):
    torch.manual_seed(seed)
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.AdamW(model.parameters(), lr=0.1)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0 / (1 + s))
    return model, opt, sched


def _step(model, opt, sched) -> None:
    model(torch.randn(4, 3)).pow(2).sum().backward()
    opt.step()
    opt.zero_grad()
    sched.step()


def test_save_then_load_restores_everything(tmp_path):
    model, opt, sched = _objects()
    gen = torch.Generator().manual_seed(5)
    for _ in range(2):
        _step(model, opt, sched)
    ckpt = Checkpointer(tmp_path, every=2, fingerprint="run-a")
    ckpt.save(2, 4, model, opt, sched, gen, _Log([{"step": 1}, {"step": 2}]), 0)
    expected = (torch.rand(3), torch.rand(3, generator=gen), random.random(), np.random.rand())
    weights = {k: v.clone() for k, v in model.state_dict().items()}

    fresh, fresh_opt, fresh_sched = _objects(seed=1)
    fresh_gen = torch.Generator().manual_seed(99)
    skipped = []
    state = Checkpointer(tmp_path, 2, "run-a", resume=True).load(
        fresh, fresh_opt, fresh_sched, fresh_gen, skipped.append)
    assert (state.step, state.micro, state.tokens) == (2, 4, 14) and skipped == [4]
    for key, value in fresh.state_dict().items():
        assert torch.equal(value, weights[key])
    assert fresh_sched.last_epoch == sched.last_epoch == 2
    assert fresh_opt.state_dict()["state"][0]["step"] == opt.state_dict()["state"][0]["step"]
    again = (torch.rand(3), torch.rand(3, generator=fresh_gen), random.random(), np.random.rand())
    assert torch.equal(again[0], expected[0]) and torch.equal(again[1], expected[1])
    assert again[2:] == expected[2:]


def test_a_half_written_checkpoint_leaves_the_previous_one(tmp_path):
    model, opt, sched = _objects()
    ckpt = Checkpointer(tmp_path, every=2, fingerprint="run-a")
    ckpt.save(2, 2, model, opt, sched, None, _Log([]))
    (tmp_path / ".step-0000004.writing").mkdir()  # killed while writing step 4
    (tmp_path / ".step-0000004.writing" / "weights.safetensors").write_bytes(b"\0" * 10)
    assert ckpt.latest() == tmp_path / "step-0000002"
    ckpt.save(4, 4, model, opt, sched, None, _Log([]))
    assert ckpt.latest() == tmp_path / "step-0000004"
    assert not (tmp_path / "step-0000002").exists()


def test_refusals(tmp_path):
    model, opt, sched = _objects()
    Checkpointer(tmp_path, 1, "run-a").save(1, 1, model, opt, sched, None, _Log([]))
    with pytest.raises(ConfigError, match="belongs to another run"):
        Checkpointer(tmp_path, 1, "run-b", resume=True).load(model, opt, sched, None, print)
    assert Checkpointer(tmp_path, 1, "run-a").load(model, opt, sched, None, print) is None
    (tmp_path / LATEST).write_text("{broken")
    with pytest.raises(TrainingError, match="corrupt"):
        Checkpointer(tmp_path, 1, "run-a", resume=True).latest()


def test_due_never_at_the_last_step():
    ckpt = Checkpointer("unused", every=3, fingerprint="x")
    assert [s for s in range(1, 10) if ckpt.due(s, total=9)] == [3, 6]
    assert not Checkpointer("unused", None, "x").due(3, 9)
