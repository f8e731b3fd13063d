"""Task arithmetic on dense weights: theta - scale * (theta_ft - theta), sign and scale pinned."""
import pytest
import torch
from methods_testkit import drift, frozen_copy, tiny_llama

from obliviate.errors import ConfigError
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


class _Toy(torch.nn.Module):
    """One dense weight and the two factors of a LoRA linear and of a LoRA embedding."""

    def __init__(self, dense, a, b, emb_a, emb_b):
        super().__init__()
        for name, value in (("dense", dense), ("lora_A", a), ("lora_B", b),
                            ("lora_embedding_A", emb_a), ("lora_embedding_B", emb_b)):
            setattr(self, name, torch.nn.Parameter(torch.tensor(value)))


def _apply(method, model, tuned, retain_nll=None):
    return method.apply(model, OneShotContext(params=dict(model.named_parameters()),
                                              forget_batches=lambda: iter(()),
                                              retain_nll=retain_nll, reinforced=tuned))


def test_lora_factors_take_a_from_the_tuned_model_and_negate_b():
    model = _Toy([1.0], [0.5], [0.0], [0.25], [0.0])
    tuned = _Toy([3.0], [2.0], [4.0], [6.0], [8.0])
    assert _apply(build_method("task_vector", {"scale": 0.5}), model, tuned) == {"scale": 0.5}
    got = {n: p.item() for n, p in model.named_parameters()}
    # dense: 1 - 0.5 (3 - 1); A <- A_ft; B <- -0.5 B_ft
    assert got == {"dense": 0.0, "lora_A": 2.0, "lora_B": -2.0, "lora_embedding_A": 6.0,
                   "lora_embedding_B": -4.0}


def test_lora_needs_a_fresh_adapter():
    model = _Toy([1.0], [0.5], [0.1], [0.25], [0.0])
    with pytest.raises(ConfigError, match=r"^task_vector with LoRA needs a fresh adapter"):
        _apply(build_method("task_vector", {}), model, _Toy([3.0], [2.0], [4.0], [6.0], [8.0]))


def _nll_of_dense(model):
    """A stand-in retain NLL: 2 + |w - 1| for the dense weight w (1 before the edit, so 2)."""
    return 2.0 + abs(model.dense.item() - 1.0)


def _fresh():
    """theta = 1, theta_ft = 2 for the dense weight (tau = 1); LoRA factors all 0."""
    return _Toy([1.0], [0.0], [0.0], [0.0], [0.0]), _Toy([2.0], [0.0], [0.0], [0.0], [0.0])


def test_search_takes_the_largest_scale_within_the_tolerance():
    # w(lambda) = 1 - lambda; NLL 2.25, 2.5, 3, 4, 6 on the grid 0.25 .. 4; limit 1.3 x 2 = 2.6
    model, tuned = _fresh()
    method = build_method("task_vector", {"search": True, "retain_tolerance": 1.3})
    info = _apply(method, model, tuned, _nll_of_dense)
    assert info == {"scale": 0.5, "retain_nll_before": 2.0, "retain_nll_after": 2.5,
                    "within_tolerance": 1.0, "retain_nll_at_0.25": 2.25, "retain_nll_at_0.5": 2.5,
                    "retain_nll_at_1": 3.0, "retain_nll_at_2": 4.0, "retain_nll_at_4": 6.0}
    assert model.dense.item() == 0.5
    # the limit itself is within the tolerance: 1.25 x 2 = 2.5 keeps lambda = 0.5
    model, tuned = _fresh()
    method = build_method("task_vector", {"search": True, "retain_tolerance": 1.25})
    assert _apply(method, model, tuned, _nll_of_dense)["scale"] == 0.5


def test_search_falls_back_to_the_smallest_scale_when_none_is_within_the_tolerance():
    model, tuned = _fresh()
    method = build_method("task_vector", {"search": True, "grid": [3.0, 0.5, 1.0],
                                          "retain_tolerance": 1.05})
    assert method.grid == (0.5, 1.0, 3.0)
    info = _apply(method, model, tuned, _nll_of_dense)  # limit 2.1; NLL 2.5, 3, 4
    assert (info["scale"], info["within_tolerance"], info["retain_nll_after"]) == (0.5, 0.0, 2.5)
    assert model.dense.item() == 0.5
    with pytest.raises(ConfigError, match=r"^task_vector: search=true needs a retain set"):
        _apply(method, model, tuned)
    with pytest.raises(ConfigError, match=r"^task_vector needs the reinforced"):
        _apply(method, model, None)


@pytest.mark.parametrize("args, message", [
    ({"scale": 0}, "scale must be > 0, got 0"),
    ({"retain_tolerance": -1}, "retain_tolerance must be > 0, got -1"),
    ({"reinforce_lr": 0.0}, "reinforce_lr must be > 0, got 0.0"),
    ({"search": 1}, "search must be true or false, got 1"),
    ({"reinforce_steps": 0}, "reinforce_steps must be an integer >= 1, got 0"),
    ({"grid": []}, "grid must be a non-empty list, got []"),
    ({"grid": 2.0}, "grid must be a non-empty list, got 2.0"),
    ({"grid": [1.0, 0]}, "grid must be > 0, got 0"),
])
def test_task_vector_hyper_parameter_errors(args, message):
    with pytest.raises(ConfigError) as info:
        build_method("task_vector", args)
    assert str(info.value) == f"task_vector: {message}."


def test_task_vector_accepts_the_smallest_values():
    method = build_method("task_vector", {"reinforce_steps": 1, "grid": (2, 1)})
    assert (method.reinforce_steps, method.grid) == (1, (1.0, 2.0))
