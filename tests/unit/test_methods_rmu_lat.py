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


def test_project_l2_scales_short_vectors_onto_a_smaller_ball():
    from obliviate.methods.rmu_lat import project_l2
    delta = torch.tensor([[[0.3, 0.4], [0.03, 0.04]]])   # token norms 0.5 and 0.05
    assert torch.allclose(project_l2(delta, epsilon=0.1),
                          torch.tensor([[[0.06, 0.08], [0.03, 0.04]]]))


def test_rmu_lat_passes_its_hyper_parameters_to_the_base_objective():
    rmu = build_method("rmu_lat", {"layer": 3, "steering_coeff": 3.0, "alpha": 7.0,
                                   "trainable_layers": [1], "trainable_param_pattern": "mlp"})
    inner = rmu.inner
    assert (inner.name, inner.layer, inner.steering_coeff, inner.alpha) == ("rmu", 3, 3.0, 7.0)
    assert (inner.trainable_layers, inner.trainable_param_pattern) == ((1,), "mlp")
    assert rmu.trainable_parameter_filter("model.layers.1.mlp.up_proj.weight")
    npo = build_method("rmu_lat", {"base": "npo", "beta": 0.3, "retain_weight": 2.0})
    assert (npo.inner.name, npo.inner.beta, npo.inner.retain_weight) == ("npo", 0.3, 2.0)


def test_rmu_lat_smallest_values_and_the_default_adversary_layer():
    model = tiny_llama(layers=4)
    method = build_method("rmu_lat", {"layer": 1, "adv_steps": 1})
    method.setup(model, torch.Generator().manual_seed(0))
    assert method.adv_steps == 1 and method.attacked_layer == 0  # layer - 1
    method = build_method("rmu_lat", {"layer": 2, "adv_layer": 0})
    method.setup(model, torch.Generator().manual_seed(0))
    assert method.attacked_layer == 0
    with pytest.raises(ConfigError) as info:
        build_method("rmu_lat", {"base": "npo", "adv_layer": 4}).setup(
            model, torch.Generator().manual_seed(0))
    assert str(info.value) == ("rmu_lat: adv_layer 4 is out of range; the model has 4 decoder "
                               "layers (0..3).")


@pytest.mark.parametrize("args, message", [
    ({"base": "ga"}, "rmu_lat: base must be 'rmu' or 'npo', got 'ga'."),
    ({"adv_steps": 0}, "rmu_lat: adv_steps must be an integer >= 1, got 0."),
    ({"adv_layer": -1}, "rmu_lat: adv_layer must be an integer >= 0, got -1."),
    ({"layer": 2, "adv_layer": 2}, "rmu_lat: adv_layer (2) must be below the steered layer (2) "
                                   "to change its activations."),
])
def test_rmu_lat_error_messages(args, message):
    with pytest.raises(ConfigError) as info:
        build_method("rmu_lat", args)
    assert str(info.value) == message


def test_rmu_lat_step_messages():
    model = tiny_llama(layers=4)
    with pytest.raises(ConfigError, match=r"^rmu_lat: setup\(model, generator\) must run before "
                                          r"loss\(\)\.$"):
        build_method("rmu_lat", SMALL).loss(model, StepInputs(forget=forget_batch()))
    model.gradient_checkpointing_enable()
    with pytest.raises(ConfigError) as info:
        build_method("rmu_lat", SMALL).setup(model, torch.Generator().manual_seed(0))
    assert str(info.value) == (
        "rmu_lat cannot run with train.gradient_checkpointing=true: the adversary's perturbation "
        "lives inside a checkpointed layer and would be left out of the gradient. Turn gradient "
        "checkpointing off (or lower train.batch_size / use LoRA to save memory).")


def test_delta_norm_is_the_mean_token_norm_after_one_projected_step():
    """One sign step of 0.05 on each of the 32 coordinates has norm 0.05 sqrt(32) = 0.28 > 0.1,
    so every token that moves the forget NLL is projected to norm 0.1. Row 0 has 7 real tokens,
    row 1 has 4 (and 3 padding); the last real token of a row predicts nothing, so 6 + 3 tokens
    move, out of the 2 x 7 positions averaged."""
    model = tiny_llama(layers=4)
    method = build_method("rmu_lat", {**SMALL, "adv_steps": 1, "epsilon": 0.1, "adv_lr": 0.05})
    method.setup(model, torch.Generator().manual_seed(0))
    out = method.loss(model, StepInputs(forget=forget_batch(), retain=retain_batch(),
                                        reference=frozen_copy(model)))
    assert math.isclose(out.parts["delta_norm"], 9 * 0.1 / 14, rel_tol=1e-5)
