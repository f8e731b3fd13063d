"""Influence: the diagonal solver's Fisher is the per-example (empirical) Fisher."""
import torch
from methods_testkit import forget_batch, retain_batch, tiny_llama

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
