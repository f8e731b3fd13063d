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


def test_rmu_step_trains_only_down_proj_up_to_layer():
    model = tiny_llama(layers=4)
    method = build_method("rmu", {"layer": 2, "steering_coeff": 2.0, "alpha": 10})
    trainable = _frozen_by_filter(method, model)
    # the WMDP reference trains mlp.down_proj of layers L-2..L only
    assert trainable == {f"model.layers.{i}.mlp.down_proj.weight" for i in (0, 1, 2)}
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


def test_rmu_whole_mlp_is_an_option():
    method = build_method("rmu", {"layer": 1, "trainable_param_pattern": "mlp"})
    assert _frozen_by_filter(method, tiny_llama(layers=4)) == {
        f"model.layers.{i}.mlp.{m}_proj.weight" for i in (0, 1) for m in ("gate", "up", "down")}


def _layer_out(model, batch, layer):
    out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                output_hidden_states=True)
    return out.hidden_states[layer + 1].float()


def _rmu_formula(model, reference, forget, retain, control, layer, alpha):
    """RMU written out: per sequence, mean over its ANSWER positions (labels != -100) of
    mean_d (h - target)^2, then the mean over sequences; forget target c, retain target the
    frozen model's state."""
    def term(h, target, labels):
        rows = []
        for b in range(h.shape[0]):
            keep = [t for t in range(h.shape[1]) if int(labels[b, t]) != -100]
            rows.append(torch.stack([((h[b, t] - target[b, t]) ** 2).mean() for t in keep]).mean())
        return torch.stack(rows).mean()

    h_f = _layer_out(model, forget, layer)
    h_r = _layer_out(model, retain, layer)
    with torch.no_grad():
        h_ref = _layer_out(reference, retain, layer)
    return term(h_f, control.expand_as(h_f), forget["labels"]) \
        + alpha * term(h_r, h_ref, retain["labels"])


def test_rmu_gradient_matches_the_formula_on_answer_tokens_after_drift():
    from methods_testkit import assert_same_gradients, drift
    model = tiny_llama(layers=4)
    reference = frozen_copy(model)
    drift(model)  # the retain term is no longer 0, so alpha shows in the gradient
    method = build_method("rmu", {"layer": 2, "steering_coeff": 3.0, "alpha": 7.0})
    _frozen_by_filter(method, model)
    method.setup(model, torch.Generator().manual_seed(0))
    inputs = StepInputs(forget=forget_batch(), retain=retain_batch(), reference=reference)
    out = method.loss(model, inputs)
    assert out.parts["retain_loss"] > 1e-6
    formula = _rmu_formula(model, reference, forget_batch(), retain_batch(), method.control, 2, 7.0)
    assert_same_gradients(model, out.loss, formula)


def test_rmu_prompt_tokens_are_neither_steered_nor_pinned():
    # The forget term averages over the answer tokens only: it differs from the average over
    # every attended token (prompt and template included), which the old code steered.
    model = tiny_llama(layers=4)
    method = build_method("rmu", {"layer": 2, "steering_coeff": 3.0, "alpha": 0.0})
    method.setup(model, torch.Generator().manual_seed(0))
    batch = forget_batch()
    out = method.loss(model, StepInputs(forget=batch, retain=retain_batch(),
                                        reference=frozen_copy(model)))
    h = _layer_out(model, batch, 2).detach()
    every = batch["attention_mask"].bool()
    per_pos = ((h - method.control) ** 2).mean(dim=-1)
    all_tokens = torch.stack([per_pos[b][every[b]].mean() for b in range(2)]).mean()
    assert not math.isclose(out.parts["forget_loss"], all_tokens.item(), rel_tol=1e-4)


def test_rmu_layer_zero_and_trainable_layer_zero_are_allowed():
    assert build_method("rmu", {"layer": 0}).selected_layers() == (0,)
    assert build_method("rmu", {"layer": 1}).selected_layers() == (0, 1)
    method = build_method("rmu", {"layer": 2, "trainable_layers": [0, 2]})
    assert method.selected_layers() == (0, 2)
    assert method.trainable_parameter_filter("model.layers.0.mlp.down_proj.weight")


@pytest.mark.parametrize("layers", [[], [True], [1.5], ["a"], [-1]])
def test_rmu_trainable_layers_must_be_non_negative_integers(layers):
    with pytest.raises(ConfigError, match=r"^rmu: trainable_layers must be a non-empty list of "
                                          rf"integers >= 0, got {layers!r}\.$".replace("[", r"\[")):
        build_method("rmu", {"trainable_layers": layers})


def test_rmu_error_messages_name_the_field_and_the_range():
    with pytest.raises(ConfigError, match=r"^rmu: layer must be an integer >= 0, got -1\.$"):
        build_method("rmu", {"layer": -1})
    with pytest.raises(ConfigError,
                       match=r"^rmu: trainable_param_pattern must be a non-empty string\.$"):
        build_method("rmu", {"trainable_param_pattern": ""})
    model = tiny_llama(layers=4)
    with pytest.raises(ConfigError, match=r"^rmu: layer 4 is out of range; the model has 4 "
                                          r"decoder layers \(0\.\.3\)\. Set layer/trainable_layers\.$"):
        build_method("rmu", {"layer": 4}).setup(model, torch.Generator().manual_seed(0))
    method = build_method("rmu", {"layer": 2})
    with pytest.raises(ConfigError, match=r"^rmu: setup\(model, generator\) must run before loss\(\)\.$"):
        method.loss(model, StepInputs(forget=forget_batch()))
    method.setup(model, torch.Generator().manual_seed(0))
    with pytest.raises(ConfigError, match=r"^method 'rmu' needs a retain batch every step"):
        method.loss(model, StepInputs(forget=forget_batch()))
    with pytest.raises(ConfigError, match=r"^method 'rmu' needs a frozen reference model"):
        method.loss(model, StepInputs(forget=forget_batch(), retain=retain_batch()))


def test_rmu_masks_left_padding_out_of_the_hidden_states():
    """With the attention mask passed, left padding leaves both terms as they were."""
    from methods_testkit import drift, left_padded
    model = tiny_llama(layers=4)
    reference = frozen_copy(model)
    drift(model)
    method = build_method("rmu", {"layer": 2, "steering_coeff": 2.0, "alpha": 10})
    method.setup(model, torch.Generator().manual_seed(0))
    plain = method.loss(model, StepInputs(forget=forget_batch(), retain=retain_batch(),
                                          reference=reference))
    padded = method.loss(model, StepInputs(forget=left_padded(forget_batch(), 2),
                                           retain=left_padded(retain_batch(), 2),
                                           reference=reference))
    for key in ("forget_loss", "retain_loss"):
        assert plain.parts[key] > 0
        assert math.isclose(padded.parts[key], plain.parts[key], rel_tol=1e-4), key
