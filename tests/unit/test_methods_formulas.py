"""Each loss-based method against a written-out transcription of its paper's formula, at a point
where the model has moved away from its reference (so reference terms, signs and weights all
show): same value, same gradient in every weight. The transcriptions use only log_softmax and
loops (methods_testkit.token_logps), never obliviate's loss functions."""
import pytest
import torch
import torch.nn.functional as F
from methods_testkit import (assert_same_gradients, drift, forget_batch, frozen_copy, idk_batch,
                             mean_nll, retain_batch, seq_logp, tiny_llama, token_logps,
                             with_ref_logp)

from obliviate.methods import StepInputs, build_method


def _logits(model, batch):
    return model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits


def _kl_rows(model, reference, batch):
    """mean over target-predicting positions of KL(p_ref || p_model), written out."""
    z, z_ref = _logits(model, batch), _logits(reference, batch).detach()
    terms = []
    for b in range(z.shape[0]):
        for t in range(1, z.shape[1]):
            if int(batch["labels"][b, t]) != -100:
                lp, lq = F.log_softmax(z_ref[b, t - 1], -1), F.log_softmax(z[b, t - 1], -1)
                terms.append((lp.exp() * (lp - lq)).sum())
    return torch.stack(terms).mean()


def _setup():
    original = tiny_llama()
    reference = frozen_copy(original)
    forget = with_ref_logp(original, forget_batch())
    model = drift(original)
    return model, reference, forget


def test_npo_sign_and_weights():
    model, _, forget = _setup()
    beta, w = 0.3, 0.6
    out = build_method("npo", {"beta": beta, "retain_weight": w}).loss(
        model, StepInputs(forget=forget, retain=retain_batch()))
    ratio = seq_logp(model, forget) - forget["ref_logp"]
    formula = (-(2 / beta) * F.logsigmoid(-beta * ratio)).mean() + w * mean_nll(model, retain_batch())
    assert_same_gradients(model, out.loss, formula)
    flipped = (-(2 / beta) * F.logsigmoid(beta * ratio)).mean()
    assert abs(out.parts["forget_loss"] - flipped.item()) > 1e-3


def test_simnpo_two_over_beta_with_beta_not_two():
    model, _, forget = _setup()
    beta, gamma, fw, rw = 3.0, 0.5, 0.2, 0.7
    out = build_method("simnpo", {"beta": beta, "gamma": gamma, "forget_weight": fw,
                                  "retain_weight": rw}).loss(
        model, StepInputs(forget=forget, retain=retain_batch()))
    rows = token_logps(model, forget)
    terms = [-(2 / beta) * F.logsigmoid(-(beta / len(r)) * torch.stack(r).sum() - gamma)
             for r in rows]
    formula = fw * torch.stack(terms).mean() + rw * mean_nll(model, retain_batch())
    assert_same_gradients(model, out.loss, formula)


@pytest.mark.parametrize("name,args", [("ga", {}), ("graddiff", {"retain_weight": 0.4})])
def test_gradient_ascent_family(name, args):
    model, _, forget = _setup()
    out = build_method(name, args).loss(model, StepInputs(forget=forget, retain=retain_batch()))
    formula = -mean_nll(model, forget)
    if name == "graddiff":
        formula = formula + 0.4 * mean_nll(model, retain_batch())
    assert_same_gradients(model, out.loss, formula)


def test_ga_kl_weight_when_the_kl_is_not_zero():
    model, reference, forget = _setup()
    out = build_method("ga_kl", {"retain_weight": 3.0}).loss(
        model, StepInputs(forget=forget, retain=retain_batch(), reference=reference))
    formula = -mean_nll(model, forget) + 3.0 * _kl_rows(model, reference, retain_batch())
    assert_same_gradients(model, out.loss, formula)


def test_llmu_three_terms_with_the_kl_weight():
    model, reference, forget = _setup()
    args = {"forget_weight": 0.5, "random_weight": 1.5, "retain_weight": 2.5}
    out = build_method("llmu", args).loss(model, StepInputs(
        forget=forget, retain=retain_batch(), idk=idk_batch(), reference=reference))
    formula = (-0.5 * mean_nll(model, forget) + 1.5 * mean_nll(model, idk_batch())
               + 2.5 * _kl_rows(model, reference, retain_batch()))
    assert_same_gradients(model, out.loss, formula)


def test_undial_teacher_is_the_reference_not_the_model():
    model, reference, forget = _setup()
    gamma = 2.0
    out = build_method("undial", {"gamma": gamma}).loss(
        model, StepInputs(forget=forget, reference=reference))
    z, z_ref = _logits(model, forget), _logits(reference, forget).detach()
    terms = []
    for b in range(z.shape[0]):
        for t in range(1, z.shape[1]):
            y = int(forget["labels"][b, t])
            if y != -100:
                teacher = z_ref[b, t - 1].clone()
                teacher[y] -= gamma
                q = F.softmax(teacher, -1)
                terms.append(-(q * F.log_softmax(z[b, t - 1], -1)).sum())
    assert_same_gradients(model, out.loss, torch.stack(terms).mean())


def test_idk_and_wga():
    model, _, forget = _setup()
    out = build_method("idk", {"retain_weight": 0.3}).loss(
        model, StepInputs(forget=forget, idk=idk_batch(), retain=retain_batch()))
    assert_same_gradients(model, out.loss,
                          mean_nll(model, idk_batch()) + 0.3 * mean_nll(model, retain_batch()))
    out = build_method("wga", {"beta": 0.7, "retain_weight": 0.0}).loss(
        model, StepInputs(forget=forget))
    flat = [lp for r in token_logps(model, forget) for lp in r]
    formula = torch.stack([lp.detach().exp() ** 0.7 * lp for lp in flat]).mean()
    assert_same_gradients(model, out.loss, formula)
