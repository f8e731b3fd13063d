"""Influence: the diagonal solver's Fisher is the per-example (empirical) Fisher."""
import math

import pytest
import torch
from methods_testkit import forget_batch, idk_batch, make_batch, retain_batch, tiny_llama

from obliviate.errors import ConfigError
from obliviate.methods import build_method
from obliviate.methods.base import OneShotContext
from obliviate.methods.influence import empirical_fisher


def _row_grad(model, params, batch, i):
    row = {k: v[i:i + 1] for k, v in batch.items()}
    logits = model(input_ids=row["input_ids"], attention_mask=row["attention_mask"]).logits
    logp = torch.log_softmax(logits[0, :-1].float(), dim=-1)
    targets = row["labels"][0, 1:]
    keep = targets != -100
    nll = -logp[keep].gather(-1, targets[keep].unsqueeze(-1)).mean()
    return torch.autograd.grad(nll, params)


def test_empirical_fisher_is_the_mean_of_per_example_squared_gradients():
    model = tiny_llama()
    params = [model.model.layers[1].mlp.down_proj.weight]
    batches = [retain_batch(), forget_batch()]
    fisher = empirical_fisher(model, params, batches)
    squares = [_row_grad(model, params, b, i)[0] ** 2 for b in batches for i in range(2)]
    expected = torch.stack(squares).mean(dim=0)
    assert torch.allclose(fisher[0], expected, rtol=1e-4, atol=1e-10)
    # the old estimate (squared batch-mean gradients, averaged over batches) is smaller
    old = torch.stack([((_row_grad(model, params, b, 0)[0] + _row_grad(model, params, b, 1)[0])
                        / 2) ** 2 for b in batches]).mean(dim=0)
    assert fisher[0].sum() > 1.2 * old.sum()


def test_diagonal_step_uses_the_empirical_fisher():
    model = tiny_llama()
    name = "model.layers.1.mlp.down_proj.weight"
    param = dict(model.named_parameters())[name]
    forget, retain = forget_batch(), retain_batch()
    # expected step, written out at the original weights: theta + w * g / (F + damping) with g the
    # forget batch's mean-token NLL gradient and F the per-example squared retain gradients
    logits = model(input_ids=forget["input_ids"], attention_mask=forget["attention_mask"]).logits
    logp = torch.log_softmax(logits[:, :-1].float(), dim=-1)
    t = forget["labels"][:, 1:]
    keep = t != -100
    (g,) = torch.autograd.grad(-logp[keep].gather(-1, t[keep].unsqueeze(-1)).mean(), [param])
    fisher = torch.stack([_row_grad(model, [param], retain, i)[0] ** 2 for i in range(2)]).mean(0)
    expected = param.detach() + 0.5 * g / (fisher + 0.01)
    ctx = OneShotContext(params={name: param}, forget_batches=lambda: iter([forget]),
                         retain_batches=lambda: iter([retain]), n_forget=2, n_retain=2)
    build_method("influence", {"solver": "diagonal", "weight": 0.5, "damping": 0.01}).apply(
        model, ctx)
    assert torch.allclose(param.detach(), expected, rtol=1e-3, atol=1e-6)


def _nll_grad(model, params, batch, create_graph=False):
    """Gradient of the batch's mean token NLL, written out."""
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    logp = torch.log_softmax(logits[:, :-1].float(), dim=-1)
    t = batch["labels"][:, 1:]
    keep = t != -100
    nll = -logp[keep].gather(-1, t[keep].unsqueeze(-1)).mean()
    return torch.autograd.grad(nll, params, create_graph=create_graph)


def test_lissa_step_follows_the_recursion_with_the_default_weight():
    """Two forget batches (2 rows and 1) give g = (2 g_a + g_b) / 3; three LiSSA steps cycle
    through the two retain batches: h_j = g + (1 - d) h_{j-1} - H_j h_{j-1} / s, step = h / s;
    the default weight is n_forget / (n_forget + n_retain) = 2 / 8."""
    model = tiny_llama()
    name = "lm_head.weight"
    param = dict(model.named_parameters())[name]
    forget_a, forget_b = forget_batch(), make_batch([([12, 13], [14, 15, 16])])
    retain = [retain_batch(), idk_batch()]
    ga, gb = _nll_grad(model, [param], forget_a)[0], _nll_grad(model, [param], forget_b)[0]
    g = (2 * ga + gb) / 3
    h = g.clone()
    for j in range(3):
        (grad,) = _nll_grad(model, [param], retain[j % 2], create_graph=True)
        (hv,) = torch.autograd.grad((grad * h).sum(), [param])
        h = g + (1 - 0.05) * h - hv / 4.0
    step = h / 4.0
    expected = param.detach() + 0.25 * step
    ctx = OneShotContext(params={name: param}, forget_batches=lambda: iter([forget_a, forget_b]),
                         retain_batches=lambda: iter(retain), n_forget=2, n_retain=6)
    method = build_method("influence", {"lissa_depth": 3, "lissa_scale": 4.0, "damping": 0.05})
    info = method.apply(model, ctx)
    assert info["weight"] == 0.25 and set(info) == {"weight", "update_norm"}
    assert math.isclose(info["update_norm"], 0.25 * step.norm().item(), rel_tol=1e-4)
    assert torch.allclose(param.detach(), expected, rtol=1e-4, atol=1e-7)


def test_diagonal_step_on_one_row_each():
    model = tiny_llama()
    name = "model.layers.1.mlp.down_proj.weight"
    param = dict(model.named_parameters())[name]
    forget, retain = make_batch([([5, 6], [7, 8])]), make_batch([([20], [21, 22])])
    (g,) = _nll_grad(model, [param], forget)
    (r,) = _nll_grad(model, [param], retain)
    expected = param.detach() + 2.0 * g / (r * r + 0.1)
    ctx = OneShotContext(params={name: param}, forget_batches=lambda: iter([forget]),
                         retain_batches=lambda: iter([retain]), n_forget=1, n_retain=1)
    build_method("influence", {"solver": "diagonal", "weight": 2, "damping": 0.1}).apply(model, ctx)
    assert torch.allclose(param.detach(), expected, rtol=1e-3, atol=1e-6)


@pytest.mark.parametrize("args, message", [
    ({"solver": "LISSA"}, "influence: solver must be 'lissa' or 'diagonal', got 'LISSA'."),
    ({"weight": 0}, "influence: weight must be > 0, got 0."),
    ({"lissa_depth": 0}, "influence: lissa_depth must be an integer >= 1, got 0."),
    ({"lissa_scale": 0}, "influence: lissa_scale must be > 0, got 0."),
    ({"damping": -1}, "influence: damping must be >= 0, got -1."),
])
def test_influence_hyper_parameter_errors(args, message):
    with pytest.raises(ConfigError) as info:
        build_method("influence", args)
    assert str(info.value) == message


def test_influence_smallest_values_and_the_missing_retain_set():
    method = build_method("influence", {"weight": 2, "lissa_depth": 1, "damping": 0})
    assert (method.weight, method.lissa_depth, method.damping) == (2.0, 1, 0.0)
    assert isinstance(method.weight, float) and build_method("influence", {}).weight is None
    model = tiny_llama()
    ctx = OneShotContext(params=dict(model.named_parameters()), forget_batches=lambda: iter(()))
    with pytest.raises(ConfigError) as info:
        method.apply(model, ctx)
    assert str(info.value) == "influence needs a retain set (its Hessian): set data.retain."
