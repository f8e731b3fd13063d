"""Probing attacks: is the answer still readable inside the model even when its output hides it?

* **Logit lens** (nostalgebraist 2020, "interpreting GPT: the logit lens"; the tuned lens of
  Belrose et al. 2023, arXiv:2303.08112, for context): the residual stream after each decoder
  layer, at the last prompt position, goes through the model's final norm and output head; we
  report per layer the top-1 / top-k accuracy of the answer's first token and its rank. On the
  last layer this is exactly the model's own next-token prediction.
* **Linear probe** (Patil et al. 2023, "Can Sensitive Information Be Deleted From LLMs?
  Objectives for Defending Against Extraction Attacks", arXiv:2309.17410, whose head-projection
  and probing attacks read intermediate layers): a logistic regression per layer from the
  normalised hidden state at the last prompt position to the answer's first token, over the
  restricted vocabulary of first answer tokens (retain and forget), trained on the retain set
  only and applied to the forget questions. The probe starts at the logit lens (the output
  head's rows of those tokens), so tokens that never appear in the retain answers still have
  a meaningful score.

Headline numbers (best layer vs the model's own output): ``attacked`` = the best layer's
accuracy on the forget questions, ``unlearned`` = the unlearned model's own output (last-layer
lens), ``original`` = the original model's own output (needs the original model in memory).
Choosing the best layer on the evaluated questions is optimistic for the attacker; the report
keeps every layer.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from obliviate.attacks.base import AttackContext, AttackSkipped, AttackView, attack
from obliviate.data.tokenize import tokenize_examples
from obliviate.data.types import Example
from obliviate.evaluation.generation import pad_id, prompt_ids


def decoder_layers(model: nn.Module) -> nn.ModuleList:
    """The decoder's list of layers: the first ``ModuleList`` as long as the model's
    ``num_hidden_layers`` (Llama, Qwen, Mistral, GPT-2, GPT-NeoX ... all keep one)."""
    n = getattr(getattr(model, "config", None), "num_hidden_layers", None)
    for module in model.modules():
        if isinstance(module, nn.ModuleList) and len(module) == n:
            return module
    raise AttackSkipped("cannot find the decoder layers of this model for the logit lens.")


def final_norm(model: nn.Module) -> nn.Module:
    """The norm applied before the output head (``model.norm``, ``ln_f``,
    ``final_layer_norm``), or identity when the architecture has none that we know."""
    holders = [model]
    if hasattr(model, "get_decoder"):
        holders.insert(0, model.get_decoder())
    holders += [getattr(model, n) for n in ("model", "transformer", "gpt_neox")
                if hasattr(model, n)]
    for holder in holders:
        for name in ("norm", "final_layer_norm", "ln_f"):
            if isinstance(getattr(holder, name, None), nn.Module):
                return getattr(holder, name)
    return nn.Identity()


def first_answer_items(tokenizer: Any, examples: list[Example],
                       max_length: int) -> tuple[list[list[int]], list[int]]:
    """Prompt token ids and the first answer token of each QA example."""
    items = tokenize_examples(examples, tokenizer, max_length, "qa")
    prompts = [prompt_ids(item) for item in items]
    return prompts, [item.labels[len(p)] for item, p in zip(items, prompts)]


@torch.no_grad()
def layer_states(model: nn.Module, prompts: list[list[int]], pad: int,
                 batch_size: int = 8) -> torch.Tensor:
    """Residual stream after every decoder layer at each prompt's last token: [L, N, H]."""
    layers, captured = decoder_layers(model), []
    hooks = [layer.register_forward_hook(
        lambda mod, args, out: captured.append(out[0] if isinstance(out, tuple) else out))
        for layer in layers]
    device = next(model.parameters()).device
    rows = []
    was_training = model.training
    model.eval()
    try:
        for start in range(0, len(prompts), batch_size):
            batch = prompts[start:start + batch_size]
            width = max(len(p) for p in batch)
            ids = torch.tensor([p + [pad] * (width - len(p)) for p in batch], device=device)
            mask = torch.tensor([[1] * len(p) + [0] * (width - len(p)) for p in batch],
                                device=device)
            captured.clear()
            model(input_ids=ids, attention_mask=mask)
            last = torch.tensor([len(p) - 1 for p in batch], device=device)
            rows.append(torch.stack([h[torch.arange(len(batch)), last].float().cpu()
                                     for h in captured]))
    finally:
        for hook in hooks:
            hook.remove()
        model.train(was_training)
    return torch.cat(rows, dim=1)


@torch.no_grad()
def lens_logits(model: nn.Module, states: torch.Tensor) -> torch.Tensor:
    """Logit lens: final norm + output head on each layer's states: [L, N, V]."""
    norm, head = final_norm(model), model.get_output_embeddings()
    device, dtype = head.weight.device, head.weight.dtype
    return torch.stack([head(norm(s.to(device, dtype))).float().cpu() for s in states])


def rank_stats(logits: torch.Tensor, answers: torch.Tensor, k: int) -> dict[str, list[float]]:
    """Per layer: top-1 and top-k accuracy, mean and median rank (1 = top) of ``answers``."""
    target = logits.gather(-1, answers.expand(logits.shape[0], -1)[..., None])
    ranks = (logits > target).sum(-1).float() + 1  # [L, N]
    return {"top1": (ranks <= 1).float().mean(-1).tolist(),
            f"top{k}": (ranks <= k).float().mean(-1).tolist(),
            "mean_rank": ranks.mean(-1).tolist(), "median_rank": ranks.median(-1).values.tolist()}


def train_probe(features: torch.Tensor, labels: torch.Tensor, init: torch.Tensor,
                steps: int = 200, lr: float = 1e-2, seed: int = 0) -> nn.Linear:
    """Multinomial logistic regression ``features -> labels`` (class indices), full batch,
    Adam, weights started at ``init`` [C, H]."""
    torch.manual_seed(seed)
    probe = nn.Linear(features.shape[1], init.shape[0])
    with torch.no_grad():
        probe.weight.copy_(init)
        probe.bias.zero_()
    optimizer = torch.optim.Adam(probe.parameters(), lr=lr)
    for _ in range(steps):
        optimizer.zero_grad()
        nn.functional.cross_entropy(probe(features), labels).backward()
        optimizer.step()
    return probe.eval()


def probe_accuracy(model: nn.Module, train: torch.Tensor, train_y: list[int], test: torch.Tensor,
                   test_y: list[int], k: int, steps: int, lr: float,
                   seed: int) -> dict[str, Any]:
    """Per layer, a probe trained on ``train`` states and scored on ``test`` states."""
    classes = sorted(set(train_y) | set(test_y))
    index = {t: i for i, t in enumerate(classes)}
    norm, head = final_norm(model), model.get_output_embeddings()
    init = head.weight.detach().float().cpu()[classes]
    ytrain = torch.tensor([index[t] for t in train_y])
    ytest = torch.tensor([index[t] for t in test_y])
    stats: dict[str, list[float]] = {}
    for layer in range(train.shape[0]):
        with torch.no_grad():
            features = [norm(x.to(head.weight)).float().cpu() for x in (train[layer], test[layer])]
        probe = train_probe(features[0], ytrain, init, steps, lr, seed)
        with torch.no_grad():
            layer_stats = rank_stats(probe(features[1])[None], ytest[None], k)
        for name, values in layer_stats.items():
            stats.setdefault(name, []).extend(values)
    seen = sum(t in set(train_y) for t in test_y) / max(len(test_y), 1)
    return {"per_layer": stats, "classes": len(classes), "chance_top1": 1 / len(classes),
            "forget_tokens_seen_in_training": seen}


def _own(model: Any, prompts: list[list[int]], answers: torch.Tensor, ctx: AttackContext,
         k: int) -> dict[str, list[float]]:
    states = layer_states(model, prompts, pad_id(ctx.tokenizer), ctx.batch_size)
    return rank_stats(lens_logits(model, states), answers, k)


@attack("probes", "read the answer's first token from every layer: logit lens and a linear "
        "probe trained on retain data")
def probe_attack(ctx: AttackContext) -> list[AttackView]:
    """Views ``logit_lens`` and (with a QA retain set) ``linear_probe``, with ready metrics."""
    forget, s = ctx.qa_forget("probing"), ctx.settings
    k, pad = s.probe_top_k, pad_id(ctx.tokenizer)
    prompts, first = first_answer_items(ctx.tokenizer, forget, ctx.max_length)
    answers = torch.tensor(first)[None]
    states = layer_states(ctx.model, prompts, pad, ctx.batch_size)
    lens = rank_stats(lens_logits(ctx.model, states), answers, k)
    original = _own(ctx.original_model, prompts, answers, ctx, k) if ctx.original_model else None
    note = [] if original else ["the original model is not in memory (--original-results): "
                                "its own first-token accuracy is unknown, so recovery is null"]
    details = {"unlearned": lens, "original": original, "layers": len(lens["top1"])}

    def headline(per_layer: dict[str, list[float]]) -> dict[str, tuple]:
        return {f"forget/first_token_{m}": (original[m][-1] if original else None, lens[m][-1],
                                            max(per_layer[m])) for m in ("top1", f"top{k}")}

    views = [AttackView("logit_lens", None, settings={"top_k": k}, notes=list(note),
                        metrics=headline(lens), details=details)]
    retain = [e for e in ctx.datasets.get("retain") or [] if e.prompt]
    if not retain:
        views[0].notes.append("linear probe skipped: it trains on a QA retain set, none given")
        return views
    r_prompts, r_first = first_answer_items(ctx.tokenizer, retain, ctx.max_length)
    r_states = layer_states(ctx.model, r_prompts, pad, ctx.batch_size)
    probe = probe_accuracy(ctx.model, r_states, r_first, states, first, k, s.probe_steps,
                           s.probe_lr, s.seed)
    views.append(AttackView("linear_probe", None, settings={"top_k": k, "steps": s.probe_steps,
                            "lr": s.probe_lr, "trained_on": f"{len(retain)} retain questions"},
                            notes=note + ["restricted vocabulary: the probe picks among the "
                                          "first tokens of retain and forget answers"],
                            metrics=headline(probe["per_layer"]), details=probe))
    return views
