"""GA + KL: the KL term is 0 against an identical reference and > 0 against another model."""
import math

import pytest
from methods_testkit import (assert_all_trainable_have_grad, forget_batch, frozen_copy,
                             retain_batch, run_step, tiny_llama)

from obliviate.errors import ConfigError
from obliviate.methods import StepInputs, build_method


def test_ga_kl_step_identical_reference():
    model = tiny_llama()
    inputs = StepInputs(forget=forget_batch(), retain=retain_batch(), reference=frozen_copy(model))
    out = run_step(build_method("ga_kl", {}), model, inputs)
    assert abs(out.parts["retain_kl"]) < 1e-6
    assert math.isclose(out.loss.item(), -out.parts["forget_nll"], rel_tol=1e-5)
    assert_all_trainable_have_grad(model)


def test_ga_kl_different_reference_has_positive_kl():
    model = tiny_llama()
    inputs = StepInputs(forget=forget_batch(), retain=retain_batch(),
                        reference=frozen_copy(tiny_llama(seed=1)))
    out = run_step(build_method("ga_kl", {"retain_weight": 0.5}), model, inputs)
    assert out.parts["retain_kl"] > 0
    expected = -out.parts["forget_nll"] + 0.5 * out.parts["retain_kl"]
    assert math.isclose(out.loss.item(), expected, rel_tol=1e-5)


def test_ga_kl_errors():
    with pytest.raises(ConfigError):
        build_method("ga_kl", {"retain_weight": "a lot"})
    with pytest.raises(ConfigError, match="reference"):
        build_method("ga_kl", {}).loss(tiny_llama(), StepInputs(forget=forget_batch(),
                                                               retain=retain_batch()))


def test_ga_kl_logs_its_parts_names_itself_and_refuses_a_negative_weight():
    model = tiny_llama()
    out = run_step(build_method("ga_kl", {}), model,
                   StepInputs(forget=forget_batch(), retain=retain_batch(),
                              reference=frozen_copy(model)))
    assert list(out.parts) == ["forget_loss", "retain_kl", "forget_nll"]
    assert out.parts["forget_nll"] > 0 and out.parts["forget_loss"] == -out.parts["forget_nll"]
    with pytest.raises(ConfigError, match=r"^ga_kl: retain_weight must be >= 0, got -0\.5\.$"):
        build_method("ga_kl", {"retain_weight": -0.5})
    with pytest.raises(ConfigError, match=r"^method 'ga_kl' needs a retain batch every step"):
        build_method("ga_kl", {}).loss(model, StepInputs(forget=forget_batch()))
    with pytest.raises(ConfigError, match=r"^method 'ga_kl' needs a frozen reference model"):
        build_method("ga_kl", {}).loss(model, StepInputs(forget=forget_batch(),
                                                         retain=retain_batch()))
