"""WGA: weighted ascent term, beta = 0 is gradient ascent, optional retain NLL."""
import math

import pytest
from methods_testkit import (assert_all_trainable_have_grad, forget_batch, retain_batch, run_step,
                             tiny_llama)

from obliviate.errors import ConfigError
from obliviate.methods import StepInputs, build_method


def test_wga_step_with_retain():
    model = tiny_llama()
    out = run_step(build_method("wga", {}), model,
                   StepInputs(forget=forget_batch(), retain=retain_batch()))
    # |weighted log p| <= |log p| since p^beta <= 1; negative since log p < 0
    assert -out.parts["forget_nll"] <= out.parts["forget_loss"] < 0
    assert math.isclose(out.loss.item(), out.parts["forget_loss"] + out.parts["retain_loss"],
                        rel_tol=1e-5)
    assert_all_trainable_have_grad(model)


def test_wga_beta_zero_is_gradient_ascent():
    model = tiny_llama()
    out = run_step(build_method("wga", {"beta": 0, "retain_weight": 0}), model,
                   StepInputs(forget=forget_batch(), retain=retain_batch()))
    assert math.isclose(out.parts["forget_loss"], -out.parts["forget_nll"], rel_tol=1e-5)
    assert "retain_loss" not in out.parts


def test_wga_errors():
    for bad in ({"beta": -1}, {"retain_weight": -1}, {"beta": "x"}, {"gamma": 1}):
        with pytest.raises(ConfigError):
            build_method("wga", bad)
