"""Hand-worked values of the SatImp and PDU losses, CE-U's first-token mask, and checks that
kill mutants of the shared losses (single-token batches, prompt positions, zero target mass)."""
import math

import torch

from obliviate.methods.losses import (drop_first_targets, masked_nll, pdu_forget_loss,
                                      satimp_loss, simnpo_loss, soft_cross_entropy,
                                      token_kl, wga_loss)

LN3 = math.log(3.0)


def test_drop_first_targets_per_row():
    labels = torch.tensor([[-100, 5, 6, 7], [-100, -100, 8, -100]])
    assert drop_first_targets(labels, 1).tolist() == [[-100, -100, 6, 7], [-100, -100, -100, -100]]
    assert drop_first_targets(labels, 2).tolist() == [[-100, -100, -100, 7], [-100] * 4]
    assert torch.equal(drop_first_targets(labels, 0), labels)


def test_satimp_loss_by_hand():
    # position 0 predicts token 0 with p = 3/4 ([ln 3, 0]); position 1 predicts token 1 with
    # p = 1/2 ([0, 0]). beta1 = 2, beta2 = 3:
    #   w0 = (3/4)^2 (1/4)^3 = 9/1024, term w0 ln(3/4);  w1 = (1/2)^2 (1/2)^3 = 1/32, term w1 ln(1/2)
    logits = torch.tensor([[[LN3, 0.0], [0.0, 0.0], [5.0, -5.0]]], requires_grad=True)
    labels = torch.tensor([[-100, 0, 1]])
    w0, w1 = 9 / 1024, 1 / 32
    expected = (w0 * math.log(0.75) + w1 * math.log(0.5)) / 2
    loss = satimp_loss(logits, labels, beta1=2.0, beta2=3.0)
    assert math.isclose(loss.item(), expected, rel_tol=1e-5)
    # the weights are constants: d loss / d z(target) = w (1 - p) / N for each position
    loss.backward()
    assert math.isclose(logits.grad[0, 0, 0].item(), w0 * 0.25 / 2, rel_tol=1e-4)
    assert math.isclose(logits.grad[0, 1, 1].item(), w1 * 0.5 / 2, rel_tol=1e-4)
    assert torch.all(logits.grad[0, 2] == 0)


def test_satimp_loss_with_beta_zero_is_gradient_ascent():
    logits = torch.tensor([[[LN3, 0.0], [0.0, 0.0], [5.0, -5.0]]])
    labels = torch.tensor([[-100, 0, 1]])
    assert math.isclose(satimp_loss(logits, labels, 0.0, 0.0).item(),
                        (math.log(0.75) + math.log(0.5)) / 2, rel_tol=1e-6)


def test_pdu_forget_loss_by_hand_at_input_target_positions():
    # V = 3. Position 0 (a prompt token) [9, 0, 0] is ignored; position 1 [3, 0, 0]: max 3,
    # mean 1 -> 4; position 2 [2, 2, -1]: max 2, mean 1 -> 1. labels[1] and labels[2] are
    # targets, so positions 1 and 2 count: (4 + 1) / 2.
    logits = torch.tensor([[[9.0, 0.0, 0.0], [3.0, 0.0, 0.0], [2.0, 2.0, -1.0]]])
    labels = torch.tensor([[-100, 1, 2]])
    assert math.isclose(pdu_forget_loss(logits, labels).item(), 2.5, rel_tol=1e-6)
    uniform = torch.full((1, 3, 3), 0.7)
    assert pdu_forget_loss(uniform, labels).item() == 0.0


def test_masked_nll_of_a_single_target_token():
    # one target token (position 1 predicts token 1 from [ln 3, 0]: p = 1/4): NLL = ln 4
    logits = torch.tensor([[[0.0, 0.0], [LN3, 0.0], [7.0, -7.0]]])
    assert math.isclose(masked_nll(logits, torch.tensor([[-100, -100, 1]])).item(),
                        math.log(4), rel_tol=1e-6)


def test_token_weighted_losses_ignore_prompt_positions():
    # position 0 predicts a prompt token and must not count; position 1 predicts token 0 with
    # p = 3/4. WGA (beta 1): 3/4 ln 3/4; SatImp (2, 1): (3/4)^2 (1/4) ln 3/4; gradients stay
    # finite and are 0 at the prompt position.
    logits = torch.tensor([[[9.0, -9.0], [LN3, 0.0], [0.0, 0.0]]], requires_grad=True)
    labels = torch.tensor([[-100, -100, 0]])
    w = wga_loss(logits, labels, 1.0)
    assert math.isclose(w.item(), 0.75 * math.log(0.75), rel_tol=1e-5)
    s = satimp_loss(logits, labels, 2.0, 1.0)
    assert math.isclose(s.item(), 0.5625 * 0.25 * math.log(0.75), rel_tol=1e-5)
    (w + s).backward()
    assert torch.isfinite(logits.grad).all() and torch.all(logits.grad[0, 0] == 0)


def test_soft_cross_entropy_by_hand_with_a_zero_target_mass():
    # rows [N=2, V=3]: row 0 logits 0 -> log p = -ln 3 everywhere, q = [1/2, 1/2, 0] -> ln 3;
    # row 1 logits [0, ln 3, -inf]: p = [1/4, 3/4, 0], q = [0, 1, 0] -> -ln 3/4 (the q = 0,
    # log p = -inf entry adds nothing). Mean: (ln 3 + ln 4/3) / 2 = ln 2.
    logits = torch.tensor([[0.0, 0.0, 0.0], [0.0, LN3, float("-inf")]])
    q = torch.tensor([[0.5, 0.5, 0.0], [0.0, 1.0, 0.0]])
    assert math.isclose(soft_cross_entropy(logits, q).item(), math.log(2), rel_tol=1e-6)


def test_simnpo_loss_of_a_one_token_answer():
    # |y| = 1, log pi = -3, beta = 2: -(2/2) log sigmoid(6) = ln(1 + e^-6)
    loss = simnpo_loss(torch.tensor([-3.0]), torch.tensor([1]), 2.0, 0.0)
    assert math.isclose(loss.item(), math.log1p(math.exp(-6)), rel_tol=1e-6)


def test_token_kl_and_pdu_loss_with_a_single_target_position():
    # one target position: KL([3/4, 1/4] || [1/2, 1/2]) = 3/4 ln 3/2 + 1/4 ln 1/2, not halved
    model = torch.tensor([[[0.0, 0.0], [7.0, 7.0]]])
    ref = torch.tensor([[[LN3, 0.0], [1.0, -1.0]]])
    labels = torch.tensor([[-100, 1]])
    expected = 0.75 * math.log(1.5) + 0.25 * math.log(0.5)
    assert math.isclose(token_kl(model, ref, labels).item(), expected, rel_tol=1e-5)
    # PDU counts the position whose input is the target: [3, 0, 0] -> (3 - 1)^2 = 4
    logits = torch.tensor([[[9.0, 0.0, 0.0], [3.0, 0.0, 0.0]]])
    assert math.isclose(pdu_forget_loss(logits, labels).item(), 4.0, rel_tol=1e-6)
