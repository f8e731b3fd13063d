"""IDK: NLL on refusals (+ retain NLL); forget NLL is only logged."""
import math

import pytest
from methods_testkit import (assert_all_trainable_have_grad, forget_batch, idk_batch,
                             retain_batch, run_step, tiny_llama)

from obliviate.errors import ConfigError
from obliviate.methods import StepInputs, build_method


def test_idk_step():
    model = tiny_llama()
    inputs = StepInputs(forget=forget_batch(), retain=retain_batch(), idk=idk_batch())
    out = run_step(build_method("idk", {}), model, inputs)
    expected = out.parts["idk_loss"] + out.parts["retain_loss"]
    assert math.isclose(out.loss.item(), expected, rel_tol=1e-5)
    assert_all_trainable_have_grad(model)


def test_idk_errors():
    with pytest.raises(ConfigError):
        build_method("idk", {"retain_weight": -2})
    with pytest.raises(ConfigError, match="idk"):
        build_method("idk", {}).loss(tiny_llama(), StepInputs(forget=forget_batch()))


def test_idk_names_itself_when_the_refusals_are_missing():
    with pytest.raises(ConfigError, match=r"^method 'idk' needs an? idk batch every step"):
        build_method("idk", {}).loss(tiny_llama(), StepInputs(forget=forget_batch()))
