"""SimNPO: reference-free, weighted forget term plus optional retain NLL."""
import math

import pytest
from methods_testkit import (assert_all_trainable_have_grad, forget_batch, retain_batch, run_step,
                             tiny_llama)

from obliviate.errors import ConfigError
from obliviate.methods import StepInputs, build_method


def test_simnpo_defaults_are_the_tofu_forget05_ones():
    m = build_method("simnpo", {})
    assert (m.beta, m.gamma, m.forget_weight, m.retain_weight) == (2.5, 0.0, 0.1375, 1.0)


def test_simnpo_step():
    model = tiny_llama()
    out = run_step(build_method("simnpo", {}), model,
                   StepInputs(forget=forget_batch(), retain=retain_batch()))
    expected = 0.1375 * out.parts["forget_loss"] + out.parts["retain_loss"]
    assert math.isclose(out.loss.item(), expected, rel_tol=1e-5)
    assert_all_trainable_have_grad(model)


def test_simnpo_without_retain():
    out = run_step(build_method("simnpo", {"retain_weight": 0}), tiny_llama(),
                   StepInputs(forget=forget_batch(), retain=retain_batch()))
    assert "retain_loss" not in out.parts


def test_simnpo_errors():
    for bad in ({"beta": 0}, {"gamma": -1}, {"forget_weight": 0}, {"retain_weight": float("nan")}):
        with pytest.raises(ConfigError):
            build_method("simnpo", bad)


def test_simnpo_refuses_a_negative_retain_weight_and_accepts_zero():
    with pytest.raises(ConfigError, match=r"^simnpo: retain_weight must be >= 0, got -1\.$"):
        build_method("simnpo", {"retain_weight": -1})
    assert build_method("simnpo", {"retain_weight": 0}).retain_weight == 0.0
