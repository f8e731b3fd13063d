"""RMU-LAT / NPO-LAT: the adversary, the perturbation's scope, and a step with each base."""
import math

import pytest
import torch
from methods_testkit import (assert_all_trainable_have_grad, forget_batch, frozen_copy,
                             retain_batch, run_step, tiny_llama, with_ref_logp)

from obliviate.errors import ConfigError
from obliviate.methods import StepInputs, build_method
from obliviate.methods._common import decoder_layers
from obliviate.methods.rmu_lat import perturbed

SMALL = {"layer": 2, "steering_coeff": 2.0, "alpha": 10.0, "adv_steps": 3, "epsilon": 1.0}


def _trainable(method, model):
    for name, p in model.named_parameters():
        p.requires_grad_(method.trainable_parameter_filter(name))


def test_rmu_lat_step():
    model = tiny_llama(layers=4)
    method = build_method("rmu_lat", SMALL)
    _trainable(method, model)
    inputs = StepInputs(forget=forget_batch(), retain=retain_batch(), reference=frozen_copy(model))
    out = run_step(method, model, inputs)
    assert method.attacked_layer == 1
    assert 0 < out.parts["delta_norm"] <= 1.0 + 1e-5
    # the adversary lowers the forget NLL (brings the knowledge back)
    assert out.parts["attacked_forget_nll"] < out.parts["forget_nll"]
    assert out.parts["retain_loss"] < 1e-10   # the retain pass is never perturbed
    assert_all_trainable_have_grad(model)


def test_npo_lat_step():
    model = tiny_llama(layers=4)
    method = build_method("rmu_lat", {"base": "npo", "adv_steps": 2, "epsilon": 0.5})
    inputs = StepInputs(forget=with_ref_logp(model, forget_batch()), retain=retain_batch(),
                        reference=frozen_copy(model))
    out = run_step(method, model, inputs)
    assert method.attacked_layer == 2
    # under attack log pi > log pi_ref, so the NPO term is above its starting value 20 ln 2
    assert out.parts["forget_loss"] > 20 * math.log(2)
    assert "retain_loss" in out.parts
    assert_all_trainable_have_grad(model)


def test_perturbation_only_touches_the_forget_batch():
    model = tiny_llama(layers=2)
    forget, retain = forget_batch(), retain_batch()
    layer = decoder_layers(model)[0]
    delta = torch.ones(*forget["input_ids"].shape, 32)
    run = lambda b: model(input_ids=b["input_ids"],  # noqa: E731
                          attention_mask=b["attention_mask"]).logits
    with torch.no_grad():
        clean_f, clean_r = run(forget), run(retain)
        with perturbed(model, layer, forget["input_ids"], delta):
            moved_f, same_r = run(forget), run(retain)
        after_f = run(forget)
    assert not torch.allclose(moved_f, clean_f)
    assert torch.equal(same_r, clean_r) and torch.equal(after_f, clean_f)


def test_no_parameter_gradient_from_the_attack():
    model = tiny_llama(layers=4)
    method = build_method("rmu_lat", SMALL)
    method.setup(model, torch.Generator().manual_seed(0))
    method._attack(model, decoder_layers(model)[1], forget_batch())
    assert all(p.grad is None for p in model.parameters())


def test_rmu_lat_errors():
    for bad in ({"base": "ga"}, {"epsilon": 0}, {"adv_steps": 0}, {"adv_lr": -1},
                {"adv_layer": -1}, {"adv_layer": 7}, {"adv_steps": 1.5}, {"layer": -1}):
        with pytest.raises(ConfigError):
            build_method("rmu_lat", bad)
    model = tiny_llama(layers=4)
    with pytest.raises(ConfigError, match="out of range"):
        build_method("rmu_lat", {"base": "npo", "adv_layer": 9}).setup(
            model, torch.Generator().manual_seed(0))
    with pytest.raises(ConfigError, match="setup"):
        build_method("rmu_lat", SMALL).loss(model, StepInputs(forget=forget_batch()))


def test_rmu_lat_refuses_gradient_checkpointing():
    model = tiny_llama(layers=4)
    model.gradient_checkpointing_enable()
    method = build_method("rmu_lat", {"layer": 2, "steering_coeff": 2.0, "alpha": 10.0,
                                      "adv_steps": 2})
    with pytest.raises(ConfigError, match="gradient_checkpointing"):
        method.setup(model, torch.Generator().manual_seed(0))
