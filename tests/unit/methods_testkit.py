"""Shared helpers for the method tests: a tiny random Llama and hand-made batches.

Not a test module; test_methods_*.py import it (pytest puts tests/unit on sys.path).
"""
from __future__ import annotations

import copy
import math

import torch
from transformers import LlamaConfig, LlamaForCausalLM

from obliviate.methods import LossOutput, StepInputs
from obliviate.methods.losses import masked_nll, sequence_logprob

PAD = 0


def tiny_llama(layers: int = 2, seed: int = 0) -> LlamaForCausalLM:
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64,
                         num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=64, pad_token_id=PAD)
    return LlamaForCausalLM(config)


def make_batch(rows: list[tuple[list[int], list[int]]]) -> dict[str, torch.Tensor]:
    """Right-padded batch from (prompt ids, target ids); labels -100 on prompt and padding."""
    width = max(len(p) + len(t) for p, t in rows)
    ids, att, labels = [], [], []
    for prompt, target in rows:
        pad = width - len(prompt) - len(target)
        ids.append(prompt + target + [PAD] * pad)
        att.append([1] * (len(prompt) + len(target)) + [0] * pad)
        labels.append([-100] * len(prompt) + target + [-100] * pad)
    return {"input_ids": torch.tensor(ids), "attention_mask": torch.tensor(att),
            "labels": torch.tensor(labels)}


def left_padded(batch: dict[str, torch.Tensor], pad: int) -> dict[str, torch.Tensor]:
    """``batch`` with ``pad`` padding positions added on the left of every row."""
    fill = {"input_ids": PAD, "attention_mask": 0, "labels": -100}
    return {k: torch.cat([torch.full((v.shape[0], pad), fill[k]), v], dim=1)
            for k, v in batch.items()}


def forget_batch() -> dict[str, torch.Tensor]:
    return make_batch([([5, 6, 7], [8, 9, 10, 11]), ([12, 13], [14, 15])])


def retain_batch() -> dict[str, torch.Tensor]:
    return make_batch([([20, 21], [22, 23, 24]), ([25, 26, 27, 28], [29, 30])])


def idk_batch() -> dict[str, torch.Tensor]:
    return make_batch([([5, 6, 7], [40, 41, 42]), ([12, 13], [40, 43, 44, 45])])


def with_ref_logp(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Add "ref_logp" [B] = summed target log-prob under ``model``, as the engine does."""
    with torch.no_grad():
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    return {**batch, "ref_logp": sequence_logprob(logits, batch["labels"])[0]}


def frozen_copy(model: torch.nn.Module) -> torch.nn.Module:
    ref = copy.deepcopy(model).eval()
    ref.requires_grad_(False)
    return ref


def run_step(method, model: torch.nn.Module, inputs: StepInputs, seed: int = 0) -> LossOutput:
    """setup + loss + backward, with the checks every method must pass."""
    method.setup(model, torch.Generator().manual_seed(seed))
    out = method.loss(model, inputs)
    assert out.loss.dim() == 0 and math.isfinite(out.loss.item())
    assert "forget_nll" in out.parts
    assert all(isinstance(v, float) and math.isfinite(v) for v in out.parts.values())
    with torch.no_grad():
        logits = model(input_ids=inputs.forget["input_ids"],
                       attention_mask=inputs.forget["attention_mask"]).logits
    assert math.isclose(out.parts["forget_nll"], masked_nll(logits, inputs.forget["labels"]).item(),
                        rel_tol=1e-5)
    out.loss.backward()
    return out


def assert_all_trainable_have_grad(model: torch.nn.Module) -> None:
    for name, p in model.named_parameters():
        if p.requires_grad:
            assert p.grad is not None and p.grad.abs().sum() > 0, name
        else:
            assert p.grad is None, name


# --- gradient checks against written-out formulas ------------------------------------------------

def drift(model: torch.nn.Module, scale: float = 0.05, seed: int = 1) -> torch.nn.Module:
    """Move every weight by seeded noise, as a few training steps would: afterwards the model
    and a frozen copy taken before differ, so reference terms are no longer at their zero."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(scale * torch.randn(p.shape, generator=gen))
    return model


def gradients(model: torch.nn.Module, loss: torch.Tensor) -> dict[str, torch.Tensor]:
    params = {n: p for n, p in model.named_parameters() if p.requires_grad}
    grads = torch.autograd.grad(loss, list(params.values()), allow_unused=True)
    return {n: (g if g is not None else torch.zeros_like(p))
            for (n, p), g in zip(params.items(), grads)}


def assert_same_gradients(model: torch.nn.Module, method_loss: torch.Tensor,
                          formula_loss: torch.Tensor, rtol: float = 1e-4) -> None:
    """The method's loss and the test's transcription of the formula have the same value and
    the same gradient with respect to every trainable weight (and the gradient is not 0)."""
    assert math.isclose(method_loss.item(), formula_loss.item(), rel_tol=rtol, abs_tol=1e-7)
    got, want = gradients(model, method_loss), gradients(model, formula_loss)
    total = sum(g.abs().sum().item() for g in want.values())
    assert total > 0, "the formula's gradient is 0: the check would prove nothing"
    for name in want:
        assert torch.allclose(got[name], want[name], rtol=rtol, atol=1e-7 + 1e-5 * total), name


def token_logps(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> list[list[torch.Tensor]]:
    """Per row, the list of log pi(y_t | y_<t, x) of its target tokens, written out position by
    position (an independent transcription of what the losses compute)."""
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    out = []
    for b in range(logits.shape[0]):
        row = []
        for t in range(1, logits.shape[1]):
            y = int(batch["labels"][b, t])
            if y != -100:
                row.append(torch.log_softmax(logits[b, t - 1].float(), dim=-1)[y])
        out.append(row)
    return out


def seq_logp(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """[B] summed target log-probs, from :func:`token_logps`."""
    return torch.stack([torch.stack(row).sum() for row in token_logps(model, batch)])


def mean_nll(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Token-average NLL of the batch, from :func:`token_logps`."""
    flat = [lp for row in token_logps(model, batch) for lp in row]
    return -torch.stack(flat).mean()
