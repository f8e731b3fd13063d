"""Hand-worked checks of the WHP, UNDIAL, CE-U, WGA losses, WHP's anchored-term alignment and
the LAT projection, on 2-3 element tensors."""
import math

import pytest
import torch

from obliviate.data.types import Example
from obliviate.methods._anchors import generic_sources, source_index, translate, translate_examples
from obliviate.methods.losses import (ceu_targets, soft_cross_entropy, target_rows,
                                      undial_targets, wga_loss, whp_generic_logits)
from obliviate.methods.rmu_lat import project_l2

LN2, LN3 = math.log(2.0), math.log(3.0)


def test_whp_generic_logits_by_hand():
    base = torch.tensor([1.0, 2.0, 3.0])
    reinforced = torch.tensor([1.0, 4.0, 2.0])
    # ReLU(reinforced - base) = [0, 2, 0]; v = base - 5 * [0, 2, 0] = [1, -8, 3]
    generic = whp_generic_logits(base, reinforced, alpha=5.0)
    assert torch.allclose(generic, torch.tensor([1.0, -8.0, 3.0]))
    assert generic.argmax().item() == 2          # the baseline's favourite (token 1) is gone
    assert torch.allclose(whp_generic_logits(base, reinforced, 0.0), base)


def test_target_rows_pick_predicting_positions_in_order():
    logits = torch.arange(2 * 3 * 2, dtype=torch.float).reshape(2, 3, 2)
    labels = torch.tensor([[-100, 1, 0], [-100, -100, 1]])
    rows, targets = target_rows(logits, labels)
    # (b=0, t=0) predicts labels[0,1]; (0,1) predicts labels[0,2]; (1,1) predicts labels[1,2]
    assert torch.equal(rows, torch.stack([logits[0, 0], logits[0, 1], logits[1, 1]]))
    assert targets.tolist() == [1, 0, 1]


def test_undial_targets_by_hand():
    ref = torch.tensor([[2.0, 0.0, 0.0], [LN3, 0.0, 0.0]])
    targets = torch.tensor([0, 1])
    q = undial_targets(ref, targets, gamma=2.0)
    # row 0: [2-2, 0, 0] -> uniform; row 1: [ln3, -2, 0] -> [3, e^-2, 1] / (4 + e^-2)
    assert torch.allclose(q[0], torch.full((3,), 1 / 3))
    z = 4 + math.exp(-2)
    assert torch.allclose(q[1], torch.tensor([3 / z, math.exp(-2) / z, 1 / z]))
    assert torch.equal(ref, torch.tensor([[2.0, 0.0, 0.0], [LN3, 0.0, 0.0]]))  # not modified


def test_ceu_targets_loss_and_gradient_by_hand():
    logits = torch.tensor([[0.0, LN2, 0.0]], requires_grad=True)   # p = [1/4, 1/2, 1/4]
    q = ceu_targets(logits, torch.tensor([1]))
    assert torch.allclose(q, torch.tensor([[0.5, 0.0, 0.5]]))
    loss = soft_cross_entropy(logits, q)
    # -(0.5 ln 1/4 + 0.5 ln 1/4) = ln 4
    assert math.isclose(loss.item(), math.log(4.0), rel_tol=1e-6)
    loss.backward()
    # d/dz of -sum q log softmax(z) = p - q
    assert torch.allclose(logits.grad, torch.tensor([[-0.25, 0.5, -0.25]]), atol=1e-6)


def test_soft_cross_entropy_empty_and_constant_targets():
    empty = torch.zeros(0, 3, requires_grad=True)
    assert soft_cross_entropy(empty, torch.zeros(0, 3)).item() == 0.0
    logits = torch.zeros(1, 2, requires_grad=True)
    target = torch.tensor([[1.0, 0.0]], requires_grad=True)
    soft_cross_entropy(logits, target).backward()
    assert target.grad is None                     # targets are constants


def test_wga_loss_by_hand():
    # position 0 predicts token 0 with p = 1/2; position 1 predicts token 1 with p = 3/4
    logits = torch.tensor([[[0.0, 0.0], [0.0, LN3], [5.0, 5.0]]], requires_grad=True)
    labels = torch.tensor([[-100, 0, 1]])
    loss = wga_loss(logits, labels, beta=1.0)
    expected = (0.5 * math.log(0.5) + 0.75 * math.log(0.75)) / 2
    assert math.isclose(loss.item(), expected, rel_tol=1e-6)
    plain = wga_loss(logits, labels, beta=0.0)     # beta = 0 is gradient ascent: mean log p
    assert math.isclose(plain.item(), (math.log(0.5) + math.log(0.75)) / 2, rel_tol=1e-6)
    loss.backward()
    # the weight is constant: d/dz0 of 0.5 * log softmax(z0)[0] / 2 = 0.25 * (onehot - p)
    assert torch.allclose(logits.grad[0, 0], torch.tensor([0.125, -0.125]), atol=1e-6)
    assert torch.all(logits.grad[0, 2] == 0)


def test_translate_whole_words_longest_first():
    anchors = {"Harry Potter": "Tom Baker", "Harry": "Tom", "Hogwarts": "the Academy",
               "Ron": "Ben"}
    text = "Harry Potter met Harry at Hogwarts with Ron; Ronald stayed."
    assert translate(text, anchors) == "Tom Baker met Tom at the Academy with Ben; Ronald stayed."
    out = translate_examples([Example("Who is Ron?", "Ron is Harry's friend.")], anchors)
    assert (out[0].prompt, out[0].target) == ("Who is Ben?", "Ben is Tom's friend.")


def test_generic_sources_by_hand():
    # the anchored term is the two tokens 9 9, its generic translation the single token 7
    original, translated = [1, 2, 9, 9, 3, 4], [1, 2, 7, 3, 4]
    # token 0: nothing predicts it; 1 <- pos 0; 9 (first of term) <- pos 1, where the
    # translation predicts 7; second 9: not trained; 3 <- pos 2 (after 7); 4 <- pos 3
    assert generic_sources(original, translated) == [-1, 0, 1, -1, 2, 3]
    assert generic_sources([1, 2, 3], [1, 2, 3]) == [-1, 0, 1]
    # a longer generic term shifts everything after it
    assert generic_sources([1, 9, 3], [1, 7, 8, 3]) == [-1, 0, 2]


def test_source_index_on_padded_batches():
    forget = {"input_ids": torch.tensor([[1, 2, 9, 9, 3], [1, 2, 3, 0, 0]]),
              "attention_mask": torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])}
    generic = {"input_ids": torch.tensor([[1, 2, 7, 3], [1, 2, 3, 0]]),
               "attention_mask": torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]])}
    # logits position t of the forget batch predicts token t+1
    assert source_index(forget, generic).tolist() == [[0, 1, -1, 2], [0, 1, -1, -1]]


def test_project_l2_by_hand():
    delta = torch.tensor([[[3.0, 4.0], [0.3, 0.4]]])   # token norms 5 and 0.5
    out = project_l2(delta, epsilon=1.0)
    assert torch.allclose(out, torch.tensor([[[0.6, 0.8], [0.3, 0.4]]]))
    assert torch.equal(project_l2(torch.zeros(1, 1, 2), 1.0), torch.zeros(1, 1, 2))


@pytest.mark.parametrize("gamma", [0.0, 1e3])
def test_undial_extremes(gamma):
    ref = torch.tensor([[1.0, 0.0, -1.0]])
    q = undial_targets(ref, torch.tensor([0]), gamma)
    if gamma == 0:
        assert torch.allclose(q, torch.softmax(ref, -1))
    else:
        assert q[0, 0].item() < 1e-12 and math.isclose(q.sum().item(), 1.0, rel_tol=1e-6)
