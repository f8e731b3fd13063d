"""CE-U: bounded loss on the forget targets, no reference model, optional retain NLL."""
import math

import pytest
import torch
from methods_testkit import (assert_all_trainable_have_grad, forget_batch, retain_batch, run_step,
                             tiny_llama)

from obliviate.errors import ConfigError
from obliviate.methods import StepInputs, build_method


def test_ce_u_step():
    model = tiny_llama()
    out = run_step(build_method("ce_u", {}), model, StepInputs(forget=forget_batch()))
    assert out.parts["forget_loss"] > 0 and "retain_loss" not in out.parts
    assert_all_trainable_have_grad(model)


def test_ce_u_lowers_the_true_token():
    model = tiny_llama()
    batch = forget_batch()
    method = build_method("ce_u", {})
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    before = None
    for _ in range(5):
        out = method.loss(model, StepInputs(forget=batch))
        before = before if before is not None else out.parts["forget_nll"]
        opt.zero_grad()
        out.loss.backward()
        opt.step()
    after = method.loss(model, StepInputs(forget=batch)).parts["forget_nll"]
    assert after > before


def test_ce_u_with_retain_and_errors():
    model = tiny_llama()
    out = run_step(build_method("ce_u", {"retain_weight": 2.0}), model,
                   StepInputs(forget=forget_batch(), retain=retain_batch()))
    assert math.isclose(out.loss.item(), out.parts["forget_loss"] + 2 * out.parts["retain_loss"],
                        rel_tol=1e-5)
    with pytest.raises(ConfigError):
        build_method("ce_u", {"retain_weight": -1})
