"""Losses worked out by hand on tiny tensors.

Building blocks used below (V = 2):
  logits [0, 0]     -> softmax [1/2, 1/2]  -> log p = [-ln 2, -ln 2]
  logits [ln 3, 0]  -> softmax [3/4, 1/4]  -> log p = [ln 3/4, -ln 4]
  log sigmoid(x) = -ln(1 + e^-x)
"""
from __future__ import annotations

import math

import torch

from obliviate.methods.losses import (dpo_loss, masked_nll, npo_loss, rmu_forget_loss,
                                      rmu_retain_loss, sequence_logprob, shift_logprobs,
                                      simnpo_loss, token_kl)

LN2, LN3, LN4 = math.log(2), math.log(3), math.log(4)


def _logits(rows: int = 1) -> torch.Tensor:
    """[rows, 3, 2]: position 0 uniform, position 1 = [ln 3, 0], position 2 (never used) junk."""
    one = torch.tensor([[0.0, 0.0], [LN3, 0.0], [7.0, -7.0]])
    return one.expand(rows, 3, 2).clone()


def test_shift_logprobs_picks_the_next_token():
    # labels[1] = 0 is predicted by position 0 (uniform): -ln 2;
    # labels[2] = 1 is predicted by position 1 ([3/4, 1/4]): -ln 4.
    logp, mask = shift_logprobs(_logits(), torch.tensor([[-100, 0, 1]]))
    assert mask.tolist() == [[True, True]]
    assert torch.allclose(logp, torch.tensor([[-LN2, -LN4]]))


def test_shift_logprobs_zero_at_prompt_and_masked_logits_ignored():
    labels = torch.tensor([[-100, -100, 1]])
    logp, mask = shift_logprobs(_logits(), labels)
    assert mask.tolist() == [[False, True]]
    assert torch.allclose(logp, torch.tensor([[0.0, -LN4]]))
    changed = _logits()
    changed[0, 0] = torch.tensor([50.0, -50.0])  # position 0 predicts a prompt token
    assert torch.equal(shift_logprobs(changed, labels)[0], logp)


def test_sequence_logprob_sums_targets_and_counts_them():
    # row 0: -ln 2 - ln 4 = -3 ln 2 over 2 tokens; row 1: only -ln 4 = -2 ln 2 over 1 token.
    total, n = sequence_logprob(_logits(2), torch.tensor([[-100, 0, 1], [-100, -100, 1]]))
    assert torch.allclose(total, torch.tensor([-3 * LN2, -2 * LN2]))
    assert n.tolist() == [2, 1]


def test_masked_nll_is_a_token_average_over_the_batch():
    # targets: ln 2, ln 4 (row 0) and ln 4 (row 1) -> (ln2 + 2 ln4)/3 = 5 ln2 / 3
    # (a per-row average would give ((3 ln2)/2 + 2 ln2)/2 = 1.75 ln2 instead).
    labels = torch.tensor([[-100, 0, 1], [-100, -100, 1]])
    logits = _logits(2).requires_grad_(True)
    loss = masked_nll(logits, labels)
    assert math.isclose(loss.item(), 5 * LN2 / 3, rel_tol=1e-6)
    loss.backward()
    assert torch.all(logits.grad[1, 0] == 0)  # prompt position of row 1 gets no gradient
    assert torch.all(logits.grad[:, 2] == 0)  # the last position predicts nothing


def test_masked_nll_without_targets_is_zero():
    assert masked_nll(_logits(), torch.tensor([[-100, -100, -100]])).item() == 0.0


def test_npo_loss_by_hand():
    # diffs logp - ref = [1, -1], beta = 0.1: terms 20 ln(1 + e^0.1) and 20 ln(1 + e^-0.1);
    # mean = 10 ln((1 + e^0.1)(1 + e^-0.1)) = 10 ln(2 + 2 cosh 0.1).
    loss = npo_loss(torch.tensor([-1.0, -3.0]), torch.tensor([-2.0, -2.0]), beta=0.1)
    assert math.isclose(loss.item(), 10 * math.log(2 + 2 * math.cosh(0.1)), rel_tol=1e-6)


def test_npo_loss_at_the_reference_is_two_ln2_over_beta():
    # logp == ref: -(2/beta) log sigmoid(0) = (2/beta) ln 2 = 4 ln 2 for beta = 0.5.
    loss = npo_loss(torch.tensor([-5.0]), torch.tensor([-5.0]), beta=0.5)
    assert math.isclose(loss.item(), 4 * LN2, rel_tol=1e-6)


def test_simnpo_loss_by_hand():
    # beta = 2: -(beta/|y|) logp = -(2/2)(-4) = 4 and -(2/3)(-6) = 4 for both rows;
    # term = -(2/2) log sigmoid(4 - gamma) = ln(1 + e^-(4 - gamma)).
    logp, n = torch.tensor([-4.0, -6.0]), torch.tensor([2, 3])
    assert math.isclose(simnpo_loss(logp, n, 2.0, 0.0).item(), math.log1p(math.exp(-4)),
                        rel_tol=1e-6)
    assert math.isclose(simnpo_loss(logp, n, 2.0, 1.0).item(), math.log1p(math.exp(-3)),
                        rel_tol=1e-6)


def test_dpo_loss_by_hand():
    # row 0: (-1 - -2) - (-2 - -1) = 2, beta 0.5 -> (2/0.5) ln(1 + e^-1); row 1: margin 0 ->
    # (2/0.5) ln 2. Without the 2/beta factor the value would be 4 times smaller.
    loss = dpo_loss(torch.tensor([-1.0, -3.0]), torch.tensor([-2.0, -3.0]),
                    torch.tensor([-2.0, -3.0]), torch.tensor([-1.0, -3.0]), beta=0.5)
    assert math.isclose(loss.item(), 4 * (math.log1p(math.exp(-1)) + LN2) / 2, rel_tol=1e-6)


def test_dpo_loss_prefers_chosen_asymmetric():
    # chosen gained 1 over the reference, rejected gained 0.5: margin 0.5, beta 0.3:
    # (2/0.3) ln(1 + e^-0.15). Swapping chosen and rejected gives margin -0.5: ln(1 + e^0.15).
    chosen, rejected = torch.tensor([-1.0]), torch.tensor([-2.5])
    ref_c, ref_r = torch.tensor([-2.0]), torch.tensor([-3.0])
    loss = dpo_loss(chosen, rejected, ref_c, ref_r, beta=0.3)
    assert math.isclose(loss.item(), (2 / 0.3) * math.log1p(math.exp(-0.15)), rel_tol=1e-6)
    swapped = dpo_loss(rejected, chosen, ref_r, ref_c, beta=0.3)
    assert math.isclose(swapped.item(), (2 / 0.3) * math.log1p(math.exp(0.15)), rel_tol=1e-6)


def test_token_kl_by_hand_and_masked():
    # position 0: p_ref = [3/4, 1/4], p_model = [1/2, 1/2]:
    #   KL = 3/4 ln(3/2) + 1/4 ln(1/2); position 1: identical logits, KL = 0. Mean of the two.
    model = _logits()
    ref = model.clone()
    ref[0, 0] = torch.tensor([LN3, 0.0])
    labels = torch.tensor([[-100, 0, 1]])
    expected = (0.75 * math.log(1.5) + 0.25 * math.log(0.5)) / 2
    assert math.isclose(token_kl(model, ref, labels).item(), expected, rel_tol=1e-5)
    # with position 0 masked (a prompt token) only the zero-KL position is left
    assert abs(token_kl(model, ref, torch.tensor([[-100, -100, 1]])).item()) < 1e-7
    assert abs(token_kl(ref, ref, labels).item()) < 1e-7


def test_rmu_forget_loss_by_hand():
    # c = [1, 1]; h0 = [1, 3] -> (0 + 4)/2 = 2; h1 = [0, 1] -> (1 + 0)/2 = 0.5.
    h = torch.tensor([[[1.0, 3.0], [0.0, 1.0]]])
    control = torch.tensor([1.0, 1.0])
    assert math.isclose(rmu_forget_loss(h, control, torch.tensor([[True, True]])).item(), 1.25)
    # masking position 1 (padding) leaves 2, whatever h1 is
    h[0, 1] = torch.tensor([100.0, -100.0])
    assert math.isclose(rmu_forget_loss(h, control, torch.tensor([[True, False]])).item(), 2.0)


def test_rmu_loss_averages_each_sequence_then_the_batch():
    # row 0 keeps positions 0, 1 (values 2 and 0.5 -> 1.25); row 1 keeps position 0 only (4).
    # Per sequence then batch: (1.25 + 4)/2 = 2.625 (a pooled token mean would give 6.5/3).
    h = torch.tensor([[[1.0, 3.0], [0.0, 1.0]], [[3.0, -1.0], [9.0, 9.0]]])
    mask = torch.tensor([[True, True], [True, False]])
    assert math.isclose(rmu_forget_loss(h, torch.tensor([1.0, 1.0]), mask).item(), 2.625)


def test_rmu_retain_loss_by_hand():
    # h - h_ref = [0, 2] -> 2 and [3, 0] -> 4.5; mean 3.25; with position 1 masked: 2.
    h = torch.tensor([[[1.0, 2.0], [3.0, 4.0]]])
    h_ref = torch.tensor([[[1.0, 0.0], [0.0, 4.0]]])
    assert math.isclose(rmu_retain_loss(h, h_ref, torch.tensor([[1, 1]])).item(), 3.25)
    assert math.isclose(rmu_retain_loss(h, h_ref, torch.tensor([[1, 0]])).item(), 2.0)
