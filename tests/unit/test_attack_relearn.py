"""Relearning (Hu et al. 2024, arXiv:2406.13356): a fine-tuned copy's forget loss falls, the
input model is untouched, the default k leaves a held-out part."""
from __future__ import annotations

import pytest
import torch

from obliviate.attacks.base import AttackContext, AttackSettings, AttackSkipped
from obliviate.attacks.relearn import relearn, relearn_attack, relearn_count
from obliviate.data.tokenize import tokenize_examples
from obliviate.data.types import Example
from obliviate.evaluation.generation import pad_id
from obliviate.evaluation.scoring import score
from tests.conftest import FORGET_QA

FORGET = [Example(r["question"], r["answer"]) for r in FORGET_QA]


def _nll(model, tokenizer, examples) -> float:
    scores = score(model, tokenize_examples(examples, tokenizer, 128, "qa"), pad_id(tokenizer))
    return float(-scores.mean_logp().mean())


@pytest.mark.parametrize("n, k, fraction, want", [(100, None, 0.1, 10), (5, None, 0.1, 2),
                                                  (2, None, 0.1, 1), (10, 50, 0.1, 9),
                                                  (10, 3, 0.1, 3)])
def test_relearn_count(n, k, fraction, want):
    assert relearn_count(n, k, fraction) == want


def test_relearn_count_needs_two_rows():
    with pytest.raises(AttackSkipped):
        relearn_count(1, None, 0.1)


def test_relearned_copy_forget_loss_falls(tiny_model, tiny_tokenizer):
    before = {k: v.clone() for k, v in tiny_model.state_dict().items()}
    loss0 = _nll(tiny_model, tiny_tokenizer, FORGET[:2])
    twin = relearn(tiny_model, tiny_tokenizer, FORGET[:2], "qa", steps=8, lr=3e-3, batch_size=2)
    assert _nll(twin, tiny_tokenizer, FORGET[:2]) < loss0 - 0.1
    assert not twin.training
    for k, v in tiny_model.state_dict().items():
        assert torch.equal(v, before[k]), "relearning changed the input model"


def test_relearn_views_split_heldout(tiny_model, tiny_tokenizer):
    ctx = AttackContext(tiny_model, tiny_tokenizer, {"forget": FORGET},
                        AttackSettings(relearn_steps=1, relearn_lr=1e-3), max_length=128)
    whole, held = relearn_attack(ctx)
    used = whole.settings["relearned_rows"]
    assert len(used) == 2 and held.variant == "heldout"
    assert held.rows["forget"] == [i for i in range(5) if i not in used]
    wanted = [FORGET[i].prompt for i in held.rows["forget"]]
    assert [e.prompt for e in held.datasets["forget"]] == wanted
    assert whole.model is held.model and whole.model is not tiny_model
