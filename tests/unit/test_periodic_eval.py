"""PeriodicEval: evaluation steps, the kept checkpoint under the constraint (hand-made metric
sequences), early stopping and restoring the kept weights."""
from __future__ import annotations

import torch
from torch import nn

from obliviate.config import SelectConfig
from obliviate.training.periodic_eval import PeriodicEval


class Scripted:
    """An evaluator that returns the next metrics of a hand-written sequence."""

    def __init__(self, sequence: list[dict[str, float]]):
        self.sequence, self.calls = list(sequence), 0

    def __call__(self, model: nn.Module) -> dict[str, float]:
        self.calls += 1
        return self.sequence.pop(0)


def _train(periodic: PeriodicEval, model: nn.Linear, total: int) -> list[int]:
    """Set the weight to the step number after each 'step'; return the evaluated steps."""
    evaluated = []
    for step in range(1, total + 1):
        with torch.no_grad():
            model.weight.fill_(step)
        if periodic(model, step, total) is not None:
            evaluated.append(step)
        if periodic.should_stop:
            break
    return evaluated


def test_evaluates_every_n_steps_and_at_the_last():
    periodic = PeriodicEval(Scripted([{"m": 0.0}] * 3), every=2)
    assert _train(periodic, nn.Linear(1, 1), 5) == [2, 4, 5]
    assert [h["step"] for h in periodic.history] == [2, 4, 5]


def test_keeps_the_best_checkpoint_that_meets_the_constraint():
    # FQ rises then falls; utility drops below 90% of the original (0.5) at steps 6 and 8
    seq = [{"fq": 0.01, "mu": 0.50}, {"fq": 0.10, "mu": 0.47}, {"fq": 0.40, "mu": 0.44},
           {"fq": 0.30, "mu": 0.40}, {"fq": 0.05, "mu": 0.49}]
    select = SelectConfig(metric="fq", mode="max", constraint="mu >= 0.9 * original")
    periodic = PeriodicEval(Scripted(seq), every=2, select=select, original={"fq": 0.0, "mu": 0.5})
    model = nn.Linear(1, 1)
    _train(periodic, model, 10)
    # step 6 has the highest fq (0.40) but mu 0.44 < 0.45; the best allowed is step 4 (0.10)
    assert periodic.best_step == 4 and periodic.best_metrics == seq[1]
    assert periodic.restore_best(model)
    assert torch.equal(model.weight, torch.full((1, 1), 4.0))
    assert periodic.summary()["selected_step"] == 4


def test_min_mode_and_patience_stop_training():
    seq = [{"p": 0.5}, {"p": 0.2}, {"p": 0.3}, {"p": 0.25}, {"p": 0.1}]
    select = SelectConfig(metric="p", mode="min")
    periodic = PeriodicEval(Scripted(seq), every=1, select=select, patience=2)
    evaluated = _train(periodic, nn.Linear(1, 1), 5)
    # best at step 2; steps 3 and 4 are not better -> stop after step 4
    assert evaluated == [1, 2, 3, 4] and periodic.should_stop and periodic.best_step == 2


def test_nothing_meets_the_constraint_keeps_the_last_model():
    select = SelectConfig(metric="fq", constraint="mu > 1")
    periodic = PeriodicEval(Scripted([{"fq": 1.0, "mu": 0.5}] * 2), every=1, select=select)
    model = nn.Linear(1, 1)
    _train(periodic, model, 2)
    assert periodic.best_step is None and not periodic.restore_best(model)
    assert torch.equal(model.weight, torch.full((1, 1), 2.0))
    assert "no evaluated checkpoint met the constraint" in periodic.summary()["note"]
