"""Task arithmetic on dense weights: theta - scale * (theta_ft - theta), sign and scale pinned."""
import torch
from methods_testkit import drift, frozen_copy, tiny_llama

from obliviate.methods import build_method
from obliviate.methods.base import OneShotContext


def test_dense_task_vector_subtracts_the_scaled_difference():
    model = tiny_llama()
    original = {n: p.detach().clone() for n, p in model.named_parameters()}
    tuned = drift(frozen_copy(model), scale=0.1, seed=5)
    params = {n: p for n, p in model.named_parameters() if "mlp" in n}
    info = build_method("task_vector", {"scale": 0.7}).apply(
        model, OneShotContext(params=params, forget_batches=lambda: iter(()), reinforced=tuned))
    assert info == {"scale": 0.7}
    fine = dict(tuned.named_parameters())
    for name, p in model.named_parameters():
        if name in params:  # moved away from the fine-tuned weights, by 0.7 of the difference
            want = original[name] - 0.7 * (fine[name] - original[name])
            assert torch.allclose(p, want, atol=1e-6), name
            assert (p - original[name]).abs().sum() > 0
        else:
            assert torch.equal(p, original[name]), name
