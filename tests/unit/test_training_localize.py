"""Parameter-name selection and SalUn's global saliency threshold (Fan et al. 2024)."""
import torch

from obliviate.training.localize import SaliencyMask, name_filter, top_fraction


def test_name_filter_searches_the_regex():
    keep = name_filter(r".*layers\.[23]\..*mlp.*")
    assert keep("model.layers.2.mlp.up_proj.weight")
    assert not keep("model.layers.1.mlp.up_proj.weight")
    assert not keep("model.layers.3.self_attn.q_proj.weight")
    assert name_filter(None) is None


def test_global_threshold_by_hand():
    grads = [torch.tensor([0.1, -0.5, 0.0]), torch.tensor([0.3, -0.2])]
    # 5 entries, fraction 0.4 -> k = 2 -> threshold 0.3 (second largest |g|), across both tensors
    a, b = top_fraction(grads, 0.4)
    assert a.tolist() == [False, True, False] and b.tolist() == [True, False]
    # fraction 1 keeps every non-zero gradient, never a zero one
    a, b = top_fraction(grads, 1.0)
    assert a.tolist() == [True, True, False] and b.tolist() == [True, True]


def test_mask_zeroes_grads_and_restores_exactly():
    p = torch.nn.Parameter(torch.tensor([1.0, 2.0, 3.0]))
    mask = SaliencyMask([p], [torch.tensor([True, False, True])])
    p.grad = torch.tensor([1.0, float("nan"), 1.0])
    mask.zero_masked_grads()
    assert p.grad.tolist() == [1.0, 0.0, 1.0]
    with torch.no_grad():
        p.mul_(0.9).sub_(0.1)
    mask.restore()
    assert p[1].item() == 2.0 and p[0].item() != 1.0 and mask.kept == 2
