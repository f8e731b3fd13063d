"""Sophia (Liu et al. 2023, arXiv:2305.14342): one hand-worked step and the GNB estimator."""
import pytest
import torch

from obliviate.errors import ConfigError
from obliviate.models.tiny import build_tiny_model
from obliviate.training.optim import OPTIMIZERS, build_optimizer
from obliviate.training.sophia import Sophia, gnb_closure


def test_one_step_by_hand():
    theta = torch.nn.Parameter(torch.tensor([1.0, -2.0, 0.5]))
    opt = Sophia([theta], lr=0.1, betas=(0.9, 0.99), rho=0.5, weight_decay=0.1, eps=1e-12)
    opt.state[theta]["exp_avg"] = torch.tensor([0.1, -0.3, 0.05])
    opt.state[theta]["hessian"] = torch.tensor([1.0, 0.5, 0.0])
    theta.grad = torch.tensor([0.2, -0.4, 0.0])
    opt.step()
    # m = 0.9 m + 0.1 g = [0.11, -0.31, 0.045]; rho h = [0.5, 0.25, 0 -> eps]
    # ratio = clip([0.22, -1.24, 4.5e10], -1, 1) = [0.22, -1, 1]
    # theta = theta * (1 - 0.1 * 0.1) - 0.1 * ratio = [0.968, -1.88, 0.395]
    assert torch.allclose(opt.state[theta]["exp_avg"], torch.tensor([0.11, -0.31, 0.045]))
    assert torch.allclose(theta.detach(), torch.tensor([0.968, -1.88, 0.395]), atol=1e-6)


def test_hessian_update_is_b_times_grad_squared():
    w = torch.nn.Parameter(torch.tensor([1.0, 2.0, 3.0]))
    x = torch.tensor([0.5, -1.0, 2.0])
    opt = Sophia([w], betas=(0.9, 0.75))
    opt.update_hessian(lambda: ((w * x).sum(), 4))
    # h = 0.75 * 0 + 0.25 * 4 * x^2
    assert torch.allclose(opt.state[w]["hessian"], x * x)
    assert w.grad is None


def test_gnb_on_tiny_model_is_non_negative(tiny_tokenizer):
    model = build_tiny_model(len(tiny_tokenizer), seed=0)
    opt = Sophia(model.parameters())
    batch = {"input_ids": torch.tensor([[5, 6, 7, 8], [9, 10, 11, 0]]),
             "attention_mask": torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]])}
    torch.manual_seed(0)
    opt.update_hessian(gnb_closure(model, batch))
    hs = [opt.state[p]["hessian"] for p in model.parameters()]
    assert all((h >= 0).all() for h in hs)
    assert sum(float(h.sum()) for h in hs) > 0
    assert all(p.grad is None for p in model.parameters())


def test_update_schedule_registry_and_errors():
    w = torch.nn.Parameter(torch.zeros(2))
    opt = build_optimizer("sophia", [w], 1e-3, 0.0, {"update_interval": 3, "rho": 0.1})
    assert isinstance(opt, Sophia) and "sophia" in OPTIMIZERS
    assert [s for s in range(1, 9) if opt.needs_hessian_update(s)] == [1, 4, 7]
    with pytest.raises(ConfigError, match="update_interval"):
        build_optimizer("sophia", [w], 1e-3, 0.0, {"update_interval": 0})
    with pytest.raises(ConfigError, match="bad optimizer_args"):
        build_optimizer("sophia", [w], 1e-3, 0.0, {"gamma": 1})
