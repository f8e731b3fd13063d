"""SatImp: value and gradient against the written-out formula, weights, retain term."""
import math

import pytest
import torch
from methods_testkit import (assert_all_trainable_have_grad, assert_same_gradients, drift,
                             forget_batch, mean_nll, retain_batch, run_step, tiny_llama,
                             token_logps)

from obliviate.errors import ConfigError
from obliviate.methods import StepInputs, build_method


def _formula(model, batch, beta1, beta2):
    """mean over target tokens of sg[p^beta1 (1-p)^beta2] * log p, written out."""
    terms = []
    for row in token_logps(model, batch):
        for lp in row:
            p = lp.detach().exp()
            terms.append(p ** beta1 * (1 - p) ** beta2 * lp)
    return torch.stack(terms).mean()


def test_satimp_defaults_are_the_papers():
    m = build_method("satimp", {})
    assert (m.beta1, m.beta2, m.forget_weight, m.retain_weight) == (5.0, 1.0, 1.0, 0.1)


def test_satimp_step_and_gradient_match_the_formula():
    model = drift(tiny_llama(), scale=0.3)  # spread the token probabilities
    args = {"beta1": 0.5, "beta2": 2.0, "forget_weight": 1.5, "retain_weight": 0.4}
    out = build_method("satimp", args).loss(
        model, StepInputs(forget=forget_batch(), retain=retain_batch()))
    formula = 1.5 * _formula(model, forget_batch(), 0.5, 2.0) + 0.4 * mean_nll(model, retain_batch())
    assert_same_gradients(model, out.loss, formula)


def test_satimp_step_checks():
    model = tiny_llama()
    out = run_step(build_method("satimp", {}), model, StepInputs(forget=forget_batch()))
    assert out.parts["forget_loss"] < 0 and "retain_loss" not in out.parts
    assert_all_trainable_have_grad(model)
    for bad in ({"beta1": -1}, {"beta2": -0.5}, {"forget_weight": 0}, {"retain_weight": -1}):
        with pytest.raises(ConfigError):
            build_method("satimp", bad)


def test_satimp_short_run_raises_the_forget_nll():
    model = tiny_llama()
    method = build_method("satimp", {"beta1": 1.0, "beta2": 1.0, "retain_weight": 0.0})
    opt = torch.optim.SGD(model.parameters(), lr=2.0)
    start = method.loss(model, StepInputs(forget=forget_batch())).parts["forget_nll"]
    for _ in range(5):
        out = method.loss(model, StepInputs(forget=forget_batch()))
        opt.zero_grad()
        out.loss.backward()
        opt.step()
    assert method.loss(model, StepInputs(forget=forget_batch())).parts["forget_nll"] > start
    assert math.isfinite(start)
