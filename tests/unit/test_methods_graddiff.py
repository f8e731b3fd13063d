"""Gradient difference: -NLL(forget) + w * NLL(retain)."""
import math

import pytest
from methods_testkit import (assert_all_trainable_have_grad, forget_batch, retain_batch, run_step,
                             tiny_llama)

from obliviate.errors import ConfigError
from obliviate.methods import StepInputs, build_method


def test_graddiff_step():
    model = tiny_llama()
    method = build_method("graddiff", {"retain_weight": 2})
    out = run_step(method, model, StepInputs(forget=forget_batch(), retain=retain_batch()))
    expected = -out.parts["forget_nll"] + 2 * out.parts["retain_loss"]
    assert math.isclose(out.loss.item(), expected, rel_tol=1e-6)
    assert_all_trainable_have_grad(model)


def test_graddiff_errors():
    with pytest.raises(ConfigError):
        build_method("graddiff", {"retain_weight": -1})
    with pytest.raises(ConfigError, match="retain"):
        build_method("graddiff", {}).loss(tiny_llama(), StepInputs(forget=forget_batch()))


def test_graddiff_logs_its_parts_and_names_itself_when_the_retain_batch_is_missing():
    out = run_step(build_method("graddiff", {}), tiny_llama(),
                   StepInputs(forget=forget_batch(), retain=retain_batch()))
    assert list(out.parts) == ["forget_loss", "retain_loss", "forget_nll"]
    assert out.parts["forget_nll"] > 0 and out.parts["forget_loss"] == -out.parts["forget_nll"]
    with pytest.raises(ConfigError, match=r"^method 'graddiff' needs a retain batch every step"):
        build_method("graddiff", {}).loss(tiny_llama(), StepInputs(forget=forget_batch()))
