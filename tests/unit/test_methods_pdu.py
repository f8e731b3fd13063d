"""PDU: flattening loss plus lambda * (retain NLL - eps), the dual update and its warm-up."""
import math

import pytest
import torch
from methods_testkit import (assert_all_trainable_have_grad, assert_same_gradients, drift,
                             forget_batch, mean_nll, retain_batch, run_step, tiny_llama)

from obliviate.errors import ConfigError
from obliviate.methods import StepInputs, build_method


def _flattening(model, batch):
    """mean over positions t with labels[t] != -100 of (max z_t - mean z_t)^2, written out."""
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    terms = [(logits[b, t].max() - logits[b, t].mean()) ** 2
             for b in range(logits.shape[0]) for t in range(logits.shape[1])
             if int(batch["labels"][b, t]) != -100]
    return torch.stack(terms).mean()


def test_pdu_loss_and_gradient_match_the_formula():
    model = drift(tiny_llama())
    method = build_method("pdu", {"retain_loss_eps": 1.5, "forget_weight": 2.0,
                                  "dual_init": 3.0, "dual_warmup_epochs": 0})
    method.setup(model, torch.Generator().manual_seed(0))
    out = method.loss(model, StepInputs(forget=forget_batch(), retain=retain_batch()))
    retain = mean_nll(model, retain_batch())
    formula = 2.0 * _flattening(model, forget_batch()) + 3.0 * (retain - 1.5)
    assert_same_gradients(model, out.loss, formula)
    assert out.parts["dual"] == 3.0


def test_pdu_dual_ascends_on_the_violation_and_stays_non_negative():
    model = tiny_llama()
    nll = mean_nll(model, retain_batch()).item()
    method = build_method("pdu", {"retain_loss_eps": nll - 1.0, "dual_init": 2.0,
                                  "dual_step_size": 0.5, "dual_warmup_epochs": 1.0})
    method.setup(model, torch.Generator().manual_seed(0))
    inputs = StepInputs(forget=forget_batch(), retain=retain_batch(), epoch=0.5)
    method.loss(model, inputs)
    assert method.dual == 2.0  # warm-up: frozen during the first epoch
    inputs.epoch = 1.0
    out = method.loss(model, inputs)
    assert out.parts["dual"] == 2.0  # this step's loss used lambda before the update
    assert math.isclose(method.dual, 2.0 + 0.5 * 1.0, rel_tol=1e-5)  # violation = +1
    method.retain_loss_eps = nll + 10.0  # constraint met by a margin of 10: lambda -> 0
    method.loss(model, inputs)
    assert method.dual == 0.0
    method.setup(model, torch.Generator().manual_seed(0))
    assert method.dual == 2.0


def test_pdu_step_checks():
    model = tiny_llama()
    out = run_step(build_method("pdu", {}), model,
                   StepInputs(forget=forget_batch(), retain=retain_batch()))
    assert out.parts["forget_loss"] > 0
    assert_all_trainable_have_grad(model)
    for bad in ({"retain_loss_eps": -1}, {"dual_init": -1}, {"dual_step_size": -1},
                {"forget_weight": 0}, {"dual_warmup_epochs": -1}):
        with pytest.raises(ConfigError):
            build_method("pdu", bad)
    with pytest.raises(ConfigError, match="setup"):
        build_method("pdu", {}).loss(model, StepInputs(forget=forget_batch(),
                                                       retain=retain_batch()))
    method = build_method("pdu", {})
    method.setup(model, torch.Generator())
    with pytest.raises(ConfigError, match="retain"):
        method.loss(model, StepInputs(forget=forget_batch()))


def test_pdu_short_run_flattens_the_forget_logits():
    model = tiny_llama()
    method = build_method("pdu", {"dual_init": 0.0, "dual_step_size": 0.0})
    method.setup(model, torch.Generator())
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    inputs = StepInputs(forget=forget_batch(), retain=retain_batch())
    start = method.loss(model, inputs).parts["forget_loss"]
    for _ in range(10):
        out = method.loss(model, inputs)
        opt.zero_grad()
        out.loss.backward()
        opt.step()
    assert method.loss(model, inputs).parts["forget_loss"] < 0.5 * start


def test_pdu_logs_its_parts_and_names_what_is_missing():
    model = tiny_llama()
    out = run_step(build_method("pdu", {}), model,
                   StepInputs(forget=forget_batch(), retain=retain_batch()))
    assert list(out.parts)[:4] == ["forget_loss", "retain_loss", "dual", "forget_nll"]
    assert math.isclose(out.parts["retain_loss"], mean_nll(model, retain_batch()).item(),
                        rel_tol=1e-5)
    method = build_method("pdu", {})
    with pytest.raises(ConfigError, match=r"^pdu: setup\(model, generator\) must run before loss\(\)\.$"):
        method.loss(model, StepInputs(forget=forget_batch(), retain=retain_batch()))
    method.setup(model, torch.Generator())
    with pytest.raises(ConfigError, match=r"^method 'pdu' needs a retain batch every step"):
        method.loss(model, StepInputs(forget=forget_batch()))
