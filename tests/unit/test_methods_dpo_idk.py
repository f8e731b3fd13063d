"""DPO towards refusals: (2/beta) ln 2 at the reference, the open-unlearning retain term, and the
gradient of the written-out formula once the model has moved away from its reference."""
import math

import pytest
import torch
from methods_testkit import (assert_all_trainable_have_grad, assert_same_gradients, drift,
                             forget_batch, idk_batch, mean_nll, retain_batch,
                             run_step, seq_logp, tiny_llama, with_ref_logp)

from obliviate.errors import ConfigError
from obliviate.methods import StepInputs, build_method


def _inputs(model, **extra):
    return StepInputs(forget=with_ref_logp(model, forget_batch()),
                      idk=with_ref_logp(model, idk_batch()), **extra)


def test_dpo_idk_step_defaults():
    model = tiny_llama()
    out = run_step(build_method("dpo_idk", {}), model, _inputs(model, retain=retain_batch()))
    # both log-ratios are 0 at the start: -(2/0.1) log sigmoid(0) = 20 ln 2; retain weight 1
    assert math.isclose(out.parts["forget_loss"], 20 * math.log(2), rel_tol=1e-5)
    assert math.isclose(out.loss.item(), 20 * math.log(2) + out.parts["retain_loss"], rel_tol=1e-5)
    assert_all_trainable_have_grad(model)


def test_dpo_idk_without_retain_weight():
    model = tiny_llama()
    out = run_step(build_method("dpo_idk", {"retain_weight": 0.0, "beta": 0.5}), model,
                   _inputs(model, retain=retain_batch()))
    assert math.isclose(out.loss.item(), 4 * math.log(2), rel_tol=1e-5)
    assert "retain_loss" not in out.parts


def test_dpo_idk_gradient_matches_the_formula_after_drift():
    # The reference log-probs come from the original model; the model then moves, so chosen
    # and rejected log-ratios differ and swapping them changes the value.
    original = tiny_llama()
    forget = with_ref_logp(original, forget_batch())
    idk = with_ref_logp(original, idk_batch())
    model = drift(original)
    beta, w = 0.3, 0.7
    out = build_method("dpo_idk", {"beta": beta, "retain_weight": w}).loss(
        model, StepInputs(forget=forget, idk=idk, retain=retain_batch()))
    chosen = seq_logp(model, idk) - idk["ref_logp"]
    rejected = seq_logp(model, forget) - forget["ref_logp"]
    formula = (-(2 / beta) * torch.log(torch.sigmoid(beta * (chosen - rejected)))).mean() \
        + w * mean_nll(model, retain_batch())
    assert_same_gradients(model, out.loss, formula)
    swapped = (-(2 / beta) * torch.log(torch.sigmoid(beta * (rejected - chosen)))).mean()
    assert abs(out.parts["forget_loss"] - swapped.item()) > 1e-3


def test_dpo_idk_errors():
    with pytest.raises(ConfigError):
        build_method("dpo_idk", {"beta": 0})
    model = tiny_llama()
    with pytest.raises(ConfigError, match="ref_logp"):
        build_method("dpo_idk", {}).loss(model, StepInputs(forget=forget_batch(), idk=idk_batch()))
    with pytest.raises(ConfigError, match="idk"):
        build_method("dpo_idk", {}).loss(model, StepInputs(forget=with_ref_logp(model, forget_batch())))


def test_dpo_idk_checks_name_the_method_the_batch_and_the_rows():
    with pytest.raises(ConfigError, match=r"^dpo_idk: retain_weight must be >= 0, got -1\.$"):
        build_method("dpo_idk", {"retain_weight": -1})
    assert build_method("dpo_idk", {"retain_weight": 0}).retain_weight == 0.0
    model, method = tiny_llama(), build_method("dpo_idk", {})
    with pytest.raises(ConfigError, match=r"^method 'dpo_idk' needs an? idk batch every step"):
        method.loss(model, StepInputs(forget=with_ref_logp(model, forget_batch())))
    with pytest.raises(ConfigError, match=r"^method 'dpo_idk' needs 'ref_logp' on the forget batch"):
        method.loss(model, StepInputs(forget=forget_batch(), idk=with_ref_logp(model, idk_batch())))
    with pytest.raises(ConfigError, match=r"^method 'dpo_idk' needs 'ref_logp' on the idk batch"):
        method.loss(model, StepInputs(forget=with_ref_logp(model, forget_batch()), idk=idk_batch()))
    one_row = {k: v[:1] for k, v in with_ref_logp(model, idk_batch()).items()}
    with pytest.raises(ConfigError, match=r"^dpo_idk: the idk batch \(1 rows\) must be aligned row "
                                          r"for row with the forget batch \(2 rows\)\.$"):
        method.loss(model, StepInputs(forget=with_ref_logp(model, forget_batch()), idk=one_row))


def test_dpo_idk_logs_its_parts_and_keeps_float32_with_double_reference_logprobs():
    model = tiny_llama()
    inputs = _inputs(model)
    for batch in (inputs.forget, inputs.idk):
        batch["ref_logp"] = batch["ref_logp"].double()
    out = build_method("dpo_idk", {}).loss(model, inputs)
    assert out.loss.dtype == torch.float32
    assert list(out.parts) == ["forget_loss", "idk_nll", "forget_nll"]
    assert math.isclose(out.parts["idk_nll"], mean_nll(model, idk_batch()).item(), rel_tol=1e-5)
