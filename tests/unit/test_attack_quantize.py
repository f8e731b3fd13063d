"""Simulated quantisation (Zhang et al. 2024, arXiv:2410.16454): each weight moves by at most
one quantisation step, grids are hit exactly, the output head and the input model stay."""
from __future__ import annotations

import torch
from torch import nn

from obliviate.attacks.quantize import (
    quantize_int4, quantize_int8, quantize_model, quantize_weight,
)


def _weights(rows: int = 6, cols: int = 300, seed: int = 0) -> torch.Tensor:
    return torch.randn(rows, cols, generator=torch.Generator().manual_seed(seed))


def test_int8_by_hand():
    w = torch.tensor([[1.27, -0.635, 0.004], [0.0, 0.0, 0.0]])
    deq, step = quantize_int8(w)
    assert torch.allclose(step[0], torch.tensor([0.01]))
    assert torch.allclose(deq[0], torch.tensor([1.27, -0.64, 0.0]), atol=1e-6)  # -63.5 -> -64
    assert torch.equal(deq[1], w[1])  # an all-zero row stays zero (no division by zero)


def test_int8_moves_each_weight_at_most_half_a_step():
    w = _weights()
    deq, step = quantize_int8(w)
    assert ((deq - w).abs() <= step / 2 + 1e-7).all()
    levels = deq / step
    assert torch.allclose(levels, levels.round(), atol=1e-4)
    assert levels.round().abs().max() <= 127


def test_int4_symmetric_groups_and_bound():
    w = _weights()  # 300 columns: groups of 128, 128 and a short one of 44
    deq, step = quantize_int4(w, group_size=128, symmetric=True)
    assert deq.shape == w.shape
    assert ((deq - w).abs() <= step / 2 + 1e-6).all()
    first = w[0, :128].abs().max() / 7
    assert torch.allclose(step[0, :128], first.expand(128))
    levels = deq[0, :128] / first
    assert torch.allclose(levels, levels.round(), atol=1e-4)
    assert len(torch.unique(levels.round())) <= 16


def test_int4_asymmetric_at_most_one_step_and_16_levels():
    w = _weights() + 0.5  # not centred on zero: the zero point matters
    deq, step = quantize_int4(w, group_size=128, symmetric=False)
    assert ((deq - w).abs() <= step + 1e-6).all()
    for row in range(w.shape[0]):
        assert len(torch.unique(deq[row, :128])) <= 16


def test_int4_by_hand_symmetric():
    w = torch.tensor([[0.7, -0.35, 0.1, 0.0]])
    deq = quantize_weight(w, "int4_sym", group_size=4)  # step 0.1
    assert torch.allclose(deq, torch.tensor([[0.7, -0.4, 0.1, 0.0]]), atol=1e-6)


def test_quantize_model_changes_linear_layers_only(tiny_model):
    before = {k: v.clone() for k, v in tiny_model.state_dict().items()}
    twin, count = quantize_model(tiny_model, "int4_sym", group_size=16)
    linear = [n for n, m in tiny_model.named_modules() if isinstance(m, nn.Linear)]
    assert count == len(linear) - 1  # all but lm_head
    after = twin.state_dict()
    assert torch.equal(after["lm_head.weight"], before["lm_head.weight"])
    assert torch.equal(after["model.embed_tokens.weight"], before["model.embed_tokens.weight"])
    assert not torch.equal(after["model.layers.0.mlp.up_proj.weight"],
                           before["model.layers.0.mlp.up_proj.weight"])
    for k, v in tiny_model.state_dict().items():
        assert torch.equal(v, before[k]), f"the input model's {k} changed"
