"""Logit lens and linear probes (nostalgebraist 2020; Patil et al. 2023, arXiv:2309.17410)."""
from __future__ import annotations

import torch

from obliviate.attacks.probes import (
    decoder_layers, first_answer_items, layer_states, lens_logits, rank_stats, train_probe,
)
from obliviate.data.types import Example
from obliviate.evaluation.generation import pad_id

QA = [Example("Who guards the silver gate?", "Ilsa."), Example("Where?", "Calder Vale."),
      Example("What does Mira brew on cold nights?", "Ember tea.")]


def test_logit_lens_on_the_last_layer_is_the_models_output(tiny_model, tiny_tokenizer):
    prompts, first = first_answer_items(tiny_tokenizer, QA, 128)
    first_i = tiny_tokenizer("I", add_special_tokens=False)["input_ids"][0]
    assert len(prompts) == 3 and first[0] == first_i
    states = layer_states(tiny_model, prompts, pad_id(tiny_tokenizer), batch_size=2)
    assert states.shape == (len(decoder_layers(tiny_model)), 3, tiny_model.config.hidden_size)
    lens = lens_logits(tiny_model, states)
    with torch.no_grad():
        for i, p in enumerate(prompts):
            own = tiny_model(input_ids=torch.tensor([p])).logits[0, -1]
            assert torch.allclose(lens[-1, i], own, atol=1e-5)
            assert not torch.allclose(lens[0, i], own, atol=1e-3)


def test_rank_stats_by_hand():
    logits = torch.tensor([[[3.0, 1.0, 2.0], [0.0, 5.0, 1.0]]])  # one layer, two samples
    stats = rank_stats(logits, torch.tensor([[2, 1]]), k=2)
    assert stats["top1"] == [0.5] and stats["top2"] == [1.0]
    assert stats["mean_rank"] == [1.5]


def test_probe_learns_a_separable_problem():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(40, 4, generator=g)
    y = (x[:, 0] > 0).long()
    probe = train_probe(x, y, torch.zeros(2, 4), steps=200, lr=0.1)
    assert (probe(x).argmax(-1) == y).float().mean() > 0.9
