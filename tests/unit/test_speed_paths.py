"""The fast paths give the numbers of the plain ones: logits only at kept positions, target
log-probs without full logits, and greedy generation that drops finished rows."""
from __future__ import annotations

import torch
from torch import nn

from obliviate.data.types import IGNORE_INDEX
from obliviate.evaluation.generation import greedy_tokens
from obliviate.methods._common import logits_of, target_logprobs, target_stats
from obliviate.methods.losses import sequence_logprob, shift_logprobs
from obliviate.models.head import logits_at, next_token_positions


def _batch(vocab: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(3, vocab, (3, 9), generator=g)
    mask = torch.ones_like(ids)
    mask[1, 7:] = 0
    mask[2, 5:] = 0
    labels = ids.clone()
    labels[:, :4] = IGNORE_INDEX
    labels[mask == 0] = IGNORE_INDEX
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


class _NoHead(nn.Module):
    """A model wrapper that does not expose its output layer (the fallback path)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.inner = model

    def forward(self, **inputs):
        return self.inner(**inputs)


def test_next_token_positions_by_hand() -> None:
    labels = torch.tensor([[-100, -100, 5, 6], [-100, 7, -100, -100]])
    expected = torch.tensor([[False, True, True, False], [True, False, False, False]])
    assert torch.equal(next_token_positions(labels), expected)


def test_logits_at_equals_full_logits_rows(tiny_model, tiny_tokenizer) -> None:
    batch = _batch(len(tiny_tokenizer))
    keep = next_token_positions(batch["labels"])
    inputs = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}
    with torch.no_grad():
        full = tiny_model(**inputs).logits[keep]
        rows = logits_at(tiny_model, keep, **inputs)
        fallback = logits_at(_NoHead(tiny_model), keep, **inputs)
    assert rows.shape == (int(keep.sum()), tiny_model.config.vocab_size)
    torch.testing.assert_close(rows, full, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(fallback, full)


def test_output_layer_sees_only_kept_rows(tiny_model, tiny_tokenizer) -> None:
    batch = _batch(len(tiny_tokenizer))
    keep = next_token_positions(batch["labels"])
    seen = []
    handle = tiny_model.lm_head.register_forward_hook(lambda m, a, o: seen.append(a[0].shape))
    logits_at(tiny_model, keep, input_ids=batch["input_ids"],
              attention_mask=batch["attention_mask"])
    handle.remove()
    assert seen == [torch.Size([1, int(keep.sum()), tiny_model.config.hidden_size])]


def test_target_logprobs_values_and_gradients(tiny_model, tiny_tokenizer) -> None:
    batch = _batch(len(tiny_tokenizer))
    tiny_model.train()
    ref_logp, ref_mask = shift_logprobs(logits_of(tiny_model, batch), batch["labels"])
    ref_logp.sum().backward()
    ref_grads = [p.grad.clone() for p in tiny_model.parameters()]
    tiny_model.zero_grad()
    logp, mask = target_logprobs(tiny_model, batch)
    logp.sum().backward()
    assert torch.equal(mask, ref_mask)
    torch.testing.assert_close(logp, ref_logp, rtol=1e-5, atol=1e-5)
    for got, want in zip((p.grad for p in tiny_model.parameters()), ref_grads):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-6)
    total, count, nll = target_stats(tiny_model, batch)
    want_total, want_count = sequence_logprob(logits_of(tiny_model, batch), batch["labels"])
    torch.testing.assert_close(total, want_total, rtol=1e-5, atol=1e-5)
    assert torch.equal(count, want_count)
    torch.testing.assert_close(nll, -want_total.sum() / want_count.sum())


def _hf_greedy(model, prompts, max_new, pad, eos):
    out = []
    for p in prompts:  # one at a time: no padding, the plainest reference
        ids = torch.tensor([p])
        gen = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids),
                             do_sample=False, max_new_tokens=max_new, pad_token_id=pad,
                             eos_token_id=eos)[0, len(p):].tolist()
        out.append(gen[:gen.index(eos)] if eos in gen else gen)
    return out


def test_greedy_matches_generate_and_drops_finished_rows(tiny_model, tiny_tokenizer) -> None:
    pad = tiny_tokenizer.pad_token_id
    prompts = [[5, 9, 13, 22, 40], [7, 8], [30, 31, 32], [11, 50, 12, 60]]
    free = _hf_greedy(tiny_model, prompts, 10, pad, eos=-5)
    eos = free[1][2]  # the third token of row 1 becomes the stop token
    expected = _hf_greedy(tiny_model, prompts, 10, pad, eos)
    rows_seen = []
    handle = tiny_model.register_forward_pre_hook(
        lambda m, a, kw: rows_seen.append(kw["input_ids"].shape[0]), with_kwargs=True)
    got = greedy_tokens(tiny_model, prompts, 10, pad, {eos})
    handle.remove()
    assert got == expected
    assert len(got[1]) <= 2
    n_done = sum(len(r) < 10 for r in expected)
    assert rows_seen[0] == 4 and rows_seen[-1] <= 4 - n_done < 4


def test_adamw_is_fused_unless_asked_otherwise(tiny_model) -> None:
    from obliviate.training.optim import build_optimizer
    params = list(tiny_model.parameters())
    assert build_optimizer("adamw", params, 1e-3, 0.01, {}).defaults["fused"] is True
    plain = build_optimizer("adamw", params, 1e-3, 0.01, {"foreach": True})
    assert not plain.defaults.get("fused")
    a = [p.detach().clone().requires_grad_() for p in params[:3]]
    b = [p.detach().clone().requires_grad_() for p in params[:3]]
    for group, args in ((a, {}), (b, {"foreach": False})):
        opt = build_optimizer("adamw", group, 1e-2, 0.01, args)
        for _ in range(3):
            for p in group:
                p.grad = torch.full_like(p, 0.5) + p.detach()
            opt.step()
    for x, y in zip(a, b):  # the same update rule
        torch.testing.assert_close(x, y, rtol=1e-5, atol=1e-6)
