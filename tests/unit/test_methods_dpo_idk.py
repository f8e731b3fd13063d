"""DPO towards refusals: at the reference the preference loss is ln 2."""
import math

import pytest
from methods_testkit import (assert_all_trainable_have_grad, forget_batch, idk_batch,
                             retain_batch, run_step, tiny_llama, with_ref_logp)

from obliviate.errors import ConfigError
from obliviate.methods import StepInputs, build_method


def _inputs(model, **extra):
    return StepInputs(forget=with_ref_logp(model, forget_batch()),
                      idk=with_ref_logp(model, idk_batch()), **extra)


def test_dpo_idk_step():
    model = tiny_llama()
    out = run_step(build_method("dpo_idk", {}), model, _inputs(model, retain=retain_batch()))
    # both log-ratios are 0 at the start: -log sigmoid(0) = ln 2; retain_weight 0 -> no term
    assert math.isclose(out.loss.item(), math.log(2), rel_tol=1e-5)
    assert "retain_loss" not in out.parts
    assert_all_trainable_have_grad(model)


def test_dpo_idk_with_retain():
    model = tiny_llama()
    out = run_step(build_method("dpo_idk", {"retain_weight": 1.0}), model,
                   _inputs(model, retain=retain_batch()))
    assert math.isclose(out.loss.item(), math.log(2) + out.parts["retain_loss"], rel_tol=1e-5)


def test_dpo_idk_errors():
    with pytest.raises(ConfigError):
        build_method("dpo_idk", {"beta": 0})
    model = tiny_llama()
    with pytest.raises(ConfigError, match="ref_logp"):
        build_method("dpo_idk", {}).loss(model, StepInputs(forget=forget_batch(), idk=idk_batch()))
    with pytest.raises(ConfigError, match="idk"):
        build_method("dpo_idk", {}).loss(model, StepInputs(forget=with_ref_logp(model, forget_batch())))
