"""NPO: at the reference the forget term is (2/beta) ln 2; retain term optional."""
import math

import pytest
import torch
from methods_testkit import (assert_all_trainable_have_grad, forget_batch, retain_batch, run_step,
                             tiny_llama, with_ref_logp)

from obliviate.errors import ConfigError
from obliviate.methods import StepInputs, build_method


def test_npo_step_without_retain():
    model = tiny_llama()
    out = run_step(build_method("npo", {}), model,
                   StepInputs(forget=with_ref_logp(model, forget_batch())))
    # logp == ref_logp at the start: -(2/0.1) log sigmoid(0) = 20 ln 2
    assert math.isclose(out.parts["forget_loss"], 20 * math.log(2), rel_tol=1e-5)
    assert "retain_loss" not in out.parts
    assert_all_trainable_have_grad(model)


def test_npo_step_with_retain():
    model = tiny_llama()
    inputs = StepInputs(forget=with_ref_logp(model, forget_batch()), retain=retain_batch())
    out = run_step(build_method("npo", {"beta": 0.5, "retain_weight": 2.0}), model, inputs)
    assert math.isclose(out.parts["forget_loss"], 4 * math.log(2), rel_tol=1e-5)
    expected = out.parts["forget_loss"] + 2.0 * out.parts["retain_loss"]
    assert math.isclose(out.loss.item(), expected, rel_tol=1e-5)


def test_npo_errors():
    for bad in ({"beta": 0}, {"beta": -1.0}, {"retain_weight": -0.1}, {"beta": True}):
        with pytest.raises(ConfigError):
            build_method("npo", bad)
    with pytest.raises(ConfigError, match="ref_logp"):
        build_method("npo", {}).loss(tiny_llama(), StepInputs(forget=forget_batch()))


def test_npo_names_itself_and_the_forget_batch_and_keeps_float32_with_double_ref_logp():
    model = tiny_llama()
    with pytest.raises(ConfigError, match=r"^method 'npo' needs 'ref_logp' on the forget batch;"):
        build_method("npo", {}).loss(model, StepInputs(forget=forget_batch()))
    forget = with_ref_logp(model, forget_batch())
    forget["ref_logp"] = forget["ref_logp"].double()  # e.g. precomputed in double precision
    out = build_method("npo", {}).loss(model, StepInputs(forget=forget))
    assert out.loss.dtype == torch.float32
    assert math.isclose(out.parts["forget_loss"], 20 * math.log(2), rel_tol=1e-5)
