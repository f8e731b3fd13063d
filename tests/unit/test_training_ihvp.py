"""Inverse-Hessian-vector products on a quadratic with a known Hessian, worked by hand."""
import pytest
import torch

from obliviate.errors import TrainingError
from obliviate.training import ihvp

H = torch.tensor([[3.0, 1.0], [1.0, 2.0]])  # eigenvalues 2.5 +- sqrt(1.25): 1.38, 3.62
G = [torch.tensor([1.0, -1.0])]


def _hvp(v, j):
    return [H @ v[0]]


def test_lissa_converges_to_inverse_hessian_times_g():
    # H^-1 = [[2, -1], [-1, 3]] / 5, so H^-1 g = [3, -4] / 5
    out = ihvp.lissa(_hvp, G, depth=300, scale=5.0, damping=0.0)
    assert torch.allclose(out[0], torch.tensor([0.6, -0.8]), atol=1e-5)


def test_lissa_damping_adds_scale_times_damping():
    out = ihvp.lissa(_hvp, G, depth=300, scale=5.0, damping=0.2)
    expected = torch.linalg.solve(H + 5.0 * 0.2 * torch.eye(2), G[0])
    assert torch.allclose(out[0], expected, atol=1e-5)


def test_lissa_divergence_is_reported():
    with pytest.raises(TrainingError, match="lissa_scale"):
        ihvp.lissa(_hvp, G, depth=500, scale=1.0, damping=0.0)  # 3.62 / 1 > 2


def test_hvp_by_double_backward_on_a_quadratic():
    x = torch.nn.Parameter(torch.tensor([0.3, -0.7]))
    hv = ihvp.hvp_on(lambda: 0.5 * x @ H @ x, [x], [torch.tensor([1.0, 2.0])])
    assert torch.allclose(hv[0], torch.tensor([5.0, 5.0]))


def test_diagonal_by_hand():
    out = ihvp.diagonal([torch.tensor([1.0, 2.0, -3.0])], [torch.tensor([0.5, 1.0, 2.0])], 0.5)
    assert torch.allclose(out[0], torch.tensor([1.0, 2 / 1.5, -1.2]))
