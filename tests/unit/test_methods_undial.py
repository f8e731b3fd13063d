"""UNDIAL: distillation from the frozen original with the true token's logit lowered."""
import math

import pytest
import torch
from methods_testkit import (assert_all_trainable_have_grad, forget_batch, frozen_copy,
                             retain_batch, run_step, tiny_llama)

from obliviate.errors import ConfigError
from obliviate.methods import StepInputs, build_method


def test_undial_step():
    model = tiny_llama()
    out = run_step(build_method("undial", {}), model,
                   StepInputs(forget=forget_batch(), reference=frozen_copy(model)))
    assert out.parts["forget_loss"] > 0 and "retain_loss" not in out.parts
    assert_all_trainable_have_grad(model)


def test_undial_gamma_zero_is_self_distillation():
    # with gamma = 0 the teacher is the model itself: the loss is its own entropy and the
    # gradient at the starting point is zero
    model = tiny_llama()
    out = build_method("undial", {"gamma": 0}).loss(
        model, StepInputs(forget=forget_batch(), reference=frozen_copy(model)))
    out.loss.backward()
    assert max(p.grad.abs().max().item() for p in model.parameters()) < 1e-5


def test_undial_retain_and_errors():
    model = tiny_llama()
    out = run_step(build_method("undial", {"gamma": 3, "retain_weight": 1.0}), model,
                   StepInputs(forget=forget_batch(), retain=retain_batch(),
                              reference=frozen_copy(model)))
    assert math.isclose(out.loss.item(), out.parts["forget_loss"] + out.parts["retain_loss"],
                        rel_tol=1e-5)
    for bad in ({"gamma": -1}, {"gamma": float("nan")}, {"retain_weight": -2}):
        with pytest.raises(ConfigError):
            build_method("undial", bad)
    with pytest.raises(ConfigError, match="reference"):
        build_method("undial", {}).loss(model, StepInputs(forget=forget_batch()))
    assert torch.isfinite(out.loss)


def test_undial_names_itself_when_the_reference_is_missing():
    with pytest.raises(ConfigError, match=r"^method 'undial' needs a frozen reference model"):
        build_method("undial", {}).loss(tiny_llama(), StepInputs(forget=forget_batch()))
