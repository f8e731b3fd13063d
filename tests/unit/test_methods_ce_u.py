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


def _ceu_formula(model, batch, skip: int):
    """CE-U written out: at every target position after the first ``skip`` of its row,
    cross-entropy to sg[softmax(z with z_y = -inf)]; mean over those positions."""
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    terms = []
    for b in range(logits.shape[0]):
        seen = 0
        for t in range(1, logits.shape[1]):
            y = int(batch["labels"][b, t])
            if y == -100:
                continue
            seen += 1
            if seen <= skip:
                continue
            z = logits[b, t - 1].float()
            target = z.detach().clone()
            target[y] = float("-inf")
            q = torch.softmax(target, dim=-1)
            terms.append(-(q * torch.log_softmax(z, dim=-1)).sum())
    return torch.stack(terms).mean()


@pytest.mark.parametrize("skip", [1, 0, 2])
def test_ce_u_gradient_matches_the_formula_without_first_tokens(skip):
    from methods_testkit import assert_same_gradients, drift
    model = drift(tiny_llama())
    batch = forget_batch()
    method = build_method("ce_u", {"ignore_first_n_answer_tokens": skip})
    out = method.loss(model, StepInputs(forget=batch))
    assert_same_gradients(model, out.loss, _ceu_formula(model, batch, skip))


def test_ce_u_default_leaves_out_the_first_answer_token():
    assert build_method("ce_u", {}).ignore_first_n_answer_tokens == 1
    for bad in (-1, 1.5, True):
        with pytest.raises(ConfigError):
            build_method("ce_u", {"ignore_first_n_answer_tokens": bad})


def test_ce_u_names_the_bad_field():
    with pytest.raises(ConfigError, match=r"^ce_u: ignore_first_n_answer_tokens must be an integer "
                                          r">= 0, got -1\.$"):
        build_method("ce_u", {"ignore_first_n_answer_tokens": -1})
