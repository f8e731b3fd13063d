"""RMU: control vector, layer checks, parameter filter, and a step on a 4-layer Llama."""
import math

import pytest
import torch
from methods_testkit import (assert_all_trainable_have_grad, forget_batch, frozen_copy,
                             retain_batch, run_step, tiny_llama)

from obliviate.errors import ConfigError
from obliviate.methods import StepInputs, build_method


def _frozen_by_filter(method, model):
    for name, p in model.named_parameters():
        p.requires_grad_(method.trainable_parameter_filter(name))
    return {n for n, p in model.named_parameters() if p.requires_grad}


def test_rmu_step_trains_only_mlps_up_to_layer():
    model = tiny_llama(layers=4)
    method = build_method("rmu", {"layer": 2, "steering_coeff": 2.0, "alpha": 10})
    trainable = _frozen_by_filter(method, model)
    assert trainable == {f"model.layers.{i}.mlp.{m}_proj.weight"
                         for i in (0, 1, 2) for m in ("gate", "up", "down")}
    inputs = StepInputs(forget=forget_batch(), retain=retain_batch(), reference=frozen_copy(model))
    out = run_step(method, model, inputs)
    assert math.isclose(method.control.norm().item(), 2.0, rel_tol=1e-5)
    assert bool((method.control >= 0).all())
    assert out.parts["retain_loss"] < 1e-10  # the model still equals its frozen copy
    assert math.isclose(out.loss.item(), out.parts["forget_loss"], rel_tol=1e-5)
    assert_all_trainable_have_grad(model)


def test_rmu_control_is_seeded():
    model = tiny_llama(layers=4)
    a, b = build_method("rmu", {"layer": 2}), build_method("rmu", {"layer": 2})
    a.setup(model, torch.Generator().manual_seed(3))
    b.setup(model, torch.Generator().manual_seed(3))
    assert torch.equal(a.control, b.control)


def test_rmu_explicit_layers_and_pattern():
    method = build_method("rmu", {"layer": 1, "trainable_layers": [1],
                                  "trainable_param_pattern": "mlp.down_proj"})
    assert method.trainable_parameter_filter("model.layers.1.mlp.down_proj.weight")
    assert not method.trainable_parameter_filter("model.layers.1.mlp.up_proj.weight")
    assert not method.trainable_parameter_filter("model.layers.11.mlp.down_proj.weight")
    assert not method.trainable_parameter_filter("lm_head.weight")


def test_rmu_errors():
    for bad in ({"layer": -1}, {"layer": 1.5}, {"steering_coeff": 0}, {"alpha": -1},
                {"trainable_layers": []}, {"trainable_param_pattern": ""}):
        with pytest.raises(ConfigError):
            build_method("rmu", bad)
    model = tiny_llama(layers=4)
    for bad in ({"layer": 4}, {"layer": 2, "trainable_layers": [5]}):
        with pytest.raises(ConfigError, match="out of range"):
            build_method("rmu", bad).setup(model, torch.Generator().manual_seed(0))
    with pytest.raises(ConfigError, match="setup"):
        build_method("rmu", {"layer": 2}).loss(model, StepInputs(forget=forget_batch()))
