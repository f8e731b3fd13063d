"""Loss building blocks on the shapes their contract allows beyond a 2-D batch, and edge cases.

The position functions of ``methods/losses.py`` take a batch ``[B, T, V]`` or one unbatched
sequence ``[T, V]``; the row functions take any ``[..., V]``. On the usual 2-D shapes a reduction
over ``dim=-1`` and one over ``dim=1`` agree, so only these shapes show that the reductions run
over the right axis. Values worked out by hand (V = 2 or 3):
  logits [0, 0]     -> log p = [-ln 2, -ln 2]
  logits [ln 3, 0]  -> log p = [ln 3/4, -ln 4]
"""
from __future__ import annotations

import math

import torch

from obliviate.methods.losses import (ceu_targets, drop_first_targets, log_probs, masked_nll,
                                      pdu_forget_loss, rmu_forget_loss, sequence_logprob,
                                      shift_logprobs, soft_cross_entropy, token_kl,
                                      undial_targets)

LN2, LN3 = math.log(2), math.log(3)


def test_a_target_token_zero_is_picked_from_a_non_uniform_row():
    # position 0 = [ln 3, 0] predicts token 0 (p = 3/4), position 1 = [ln 3, 0] predicts token 1
    logits = torch.tensor([[[LN3, 0.0], [LN3, 0.0], [0.0, 0.0]]])
    logp, mask = shift_logprobs(logits, torch.tensor([[-100, 0, 1]]))
    assert torch.allclose(logp, torch.tensor([[math.log(0.75), math.log(0.25)]]))
    assert mask.tolist() == [[True, True]]


def test_position_losses_of_one_unbatched_sequence():
    # [T = 3, V = 2]: position 0 predicts token 0 (p = 3/4), position 1 token 1 (p = 1/2)
    logits = torch.tensor([[LN3, 0.0], [0.0, 0.0], [9.0, -9.0]])
    labels = torch.tensor([-100, 0, 1])
    total, n = sequence_logprob(logits, labels)
    assert total.shape == () and math.isclose(total.item(), math.log(0.75) - LN2, rel_tol=1e-6)
    assert n.item() == 2
    assert math.isclose(masked_nll(logits, labels).item(), -(math.log(0.75) - LN2) / 2,
                        rel_tol=1e-6)
    # the reference is uniform at position 0 only: KL([1/2, 1/2] || [3/4, 1/4]) / 2 positions
    ref = torch.tensor([[0.0, 0.0], [0.0, 0.0], [1.0, 2.0]])
    expected = (0.5 * math.log(0.5 / 0.75) + 0.5 * math.log(0.5 / 0.25)) / 2
    assert math.isclose(token_kl(logits, ref, labels).item(), expected, rel_tol=1e-5)
    # PDU: positions whose input is a target (1 and 2): margins 0 and 9 -> (0 + 81) / 2
    assert math.isclose(pdu_forget_loss(logits, labels).item(), 40.5, rel_tol=1e-6)


def test_drop_first_targets_of_one_unbatched_sequence():
    labels = torch.tensor([-100, 5, 6, 7])
    assert drop_first_targets(labels, 2).tolist() == [-100, -100, -100, 7]
    assert drop_first_targets(labels, -1).tolist() == [-100, 5, 6, 7]


def test_rmu_forget_loss_of_one_unbatched_sequence():
    # c = [1, 1]; h0 = [1, 3] -> (0 + 4)/2 = 2; h1 = [0, 1] -> (1 + 0)/2 = 0.5
    h = torch.tensor([[1.0, 3.0], [0.0, 1.0]])
    control = torch.tensor([1.0, 1.0])
    assert math.isclose(rmu_forget_loss(h, control, torch.tensor([True, True])).item(), 1.25)
    assert math.isclose(rmu_forget_loss(h, control, torch.tensor([True, False])).item(), 2.0)


def test_log_probs_normalise_the_last_axis_of_3d_logits():
    logits = torch.tensor([[[LN3, 0.0], [0.0, 0.0]]])          # [1, 2, 2]
    expected = torch.tensor([[[math.log(0.75), math.log(0.25)], [-LN2, -LN2]]])
    assert torch.allclose(log_probs(logits), expected)
    assert log_probs(logits.half()).dtype == torch.float32


def test_soft_cross_entropy_means_over_every_leading_position():
    # [1, 2, V = 2]: position a [0, 0] with q = [1, 0] -> ln 2; position b [ln 3, 0] with
    # q = [0, 1] -> ln 4. Mean over the two positions: 1.5 ln 2.
    logits = torch.tensor([[[0.0, 0.0], [LN3, 0.0]]])
    q = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])
    assert math.isclose(soft_cross_entropy(logits, q).item(), 1.5 * LN2, rel_tol=1e-6)


def test_soft_cross_entropy_is_infinite_where_the_model_rules_out_a_target_token():
    logits = torch.tensor([[0.0, float("-inf")]])
    assert soft_cross_entropy(logits, torch.tensor([[0.5, 0.5]])).item() == math.inf


def test_undial_and_ceu_targets_on_3d_rows():
    # [1, 2, 3] rows with targets [[0, 1]]; UNDIAL gamma = 2 (as the 2-D test in
    # test_losses_families): row 0 [2, 0, 0] -> uniform; row 1 [ln 3, -2, 0] -> [3, e^-2, 1] / z
    ref = torch.tensor([[[2.0, 0.0, 0.0], [LN3, 0.0, 0.0]]])
    targets = torch.tensor([[0, 1]])
    q = undial_targets(ref, targets, gamma=2.0)
    z = 4 + math.exp(-2)
    expected = torch.tensor([[[1 / 3] * 3, [3 / z, math.exp(-2) / z, 1 / z]]])
    assert q.shape == (1, 2, 3) and torch.allclose(q, expected)
    # CE-U: the target token removed -> row 0 [0, 0] over tokens 1, 2; row 1 [3, 1]/4 over 0, 2
    c = ceu_targets(ref, targets)
    assert torch.allclose(c, torch.tensor([[[0.0, 0.5, 0.5], [0.75, 0.0, 0.25]]]))
