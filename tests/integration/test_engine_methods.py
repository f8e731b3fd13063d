"""Every registered method runs 3 optimizer steps on a tiny Llama through the real engine."""
from __future__ import annotations

import math

import pytest
import torch

from obliviate.config import TrainConfig
from obliviate.data import Example, tokenize_examples
from obliviate.data.refusals import refusal_examples
from obliviate.methods import METHODS, build_method, hyperparameters
from obliviate.methods.base import is_one_shot
from obliviate.methods.losses import masked_nll
from obliviate.data.collate import collate
from obliviate.models.tiny import build_tiny_model
from obliviate.training import Engine, TrainingData
from tests.conftest import FORGET_QA, RETAIN_QA

# Methods whose objective pushes the forget answers' likelihood down.
RAISE_FORGET_NLL = {"ga", "graddiff", "ga_kl", "npo", "simnpo", "dpo_idk", "llmu", "undial", "wga",
                    "ce_u", "satimp", "pdu"}
TEST_ARGS = {"rmu": {"layer": 2, "steering_coeff": 2.0, "alpha": 10.0},
             "rmu_lat": {"layer": 2, "steering_coeff": 2.0, "alpha": 10.0, "adv_steps": 2},
             "satimp": {"beta1": 1.0}, "pdu": {"dual_init": 1.0, "dual_warmup_epochs": 0}}


def _examples(rows):
    return [Example(r["question"], r["answer"]) for r in rows]


def _data(tokenizer):
    forget = _examples(FORGET_QA)
    idk = refusal_examples(forget, ["I do not know.", "I cannot say."], seed=0)
    tok = lambda ex: tokenize_examples(ex, tokenizer, 128, "qa")  # noqa: E731
    return TrainingData(forget=tok(forget), retain=tok(_examples(RETAIN_QA)), idk=tok(idk))


@torch.no_grad()
def _forget_nll(model, data, pad_id, which: str = "forget") -> float:
    batch = collate(getattr(data, which), pad_id)
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    return masked_nll(logits, batch["labels"]).item()


@pytest.fixture(scope="module")
def learned_state(tiny_tokenizer):
    """A tiny model that has learned the forget and retain answers (40 SFT steps), so that
    unlearning has something to remove."""
    model = build_tiny_model(len(tiny_tokenizer), seed=0, num_hidden_layers=4,
                             pad_token_id=tiny_tokenizer.pad_token_id)
    data = _data(tiny_tokenizer)
    everything = TrainingData(forget=data.forget + data.retain)
    cfg = TrainConfig(lr=1e-2, max_steps=40, batch_size=4, warmup_steps=0, seed=0)
    Engine(build_method("sft"), cfg, progress=False).fit(model, everything,
                                                          tiny_tokenizer.pad_token_id)
    return {k: v.clone() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("name", [n for n in METHODS.names() if n != "sft"])
def test_three_steps_change_every_trainable_weight(name, tiny_model, tiny_tokenizer,
                                                   learned_state):
    method = build_method(name, TEST_ARGS.get(name, {}))
    if is_one_shot(method):
        pytest.skip("one-shot method (apply instead of loss steps): covered by "
                    "tests/integration/test_training_features.py")
    data = _data(tiny_tokenizer)
    tiny_model.load_state_dict(learned_state)
    for p in tiny_model.parameters():
        p.requires_grad_(True)
    pad = tiny_tokenizer.pad_token_id
    before_nll = _forget_nll(tiny_model, data, pad)
    before = {n: p.detach().clone() for n, p in tiny_model.named_parameters()}
    cfg = TrainConfig(lr=5e-3, max_steps=3, batch_size=2, weight_decay=0.0, seed=0)
    result = Engine(method, cfg, progress=False).fit(tiny_model, data, pad)

    assert result.steps == 3 and len(result.log) == 3
    assert all(math.isfinite(r["loss"]) for r in result.log)
    assert result.tokens_processed > 0 and result.trainable_parameters > 0
    trained = [n for n, p in tiny_model.named_parameters() if p.requires_grad]
    assert trained, "no trainable parameter"
    unchanged = [n for n in trained if torch.equal(before[n], dict(tiny_model.named_parameters())[n])]
    assert not unchanged, f"{name} left trainable weights unchanged: {unchanged[:5]}"
    frozen = [n for n, p in tiny_model.named_parameters() if not p.requires_grad]
    assert all(torch.equal(before[n], dict(tiny_model.named_parameters())[n]) for n in frozen)
    if name in RAISE_FORGET_NLL:
        assert _forget_nll(tiny_model, data, pad) > before_nll



def _retain_nll_after(name, args, model, tokenizer, state) -> float:
    data, pad = _data(tokenizer), tokenizer.pad_token_id
    model.load_state_dict(state)
    for p in model.parameters():
        p.requires_grad_(True)
    cfg = TrainConfig(lr=5e-3, max_steps=3, batch_size=2, weight_decay=0.0, seed=0)
    Engine(build_method(name, args), cfg, progress=False).fit(model, data, pad)
    return _forget_nll(model, data, pad, "retain")


@pytest.mark.parametrize("name", [n for n, cls in METHODS if n != "rmu_lat"  # rmu base: alpha
                                  and (hyperparameters(cls).get("retain_weight") or 0) > 0])
def test_the_retain_term_holds_the_retain_nll(name, tiny_model, tiny_tokenizer, learned_state):
    # Stated bound: after the short run the retain NLL is below that of the same run with
    # retain_weight = 0 (on this model 3 steps of the forget term alone take it from 2.64 to
    # 5.0-7.5; with the retain term it stays lower, e.g. graddiff 3.3, simnpo 2.6).
    args = TEST_ARGS.get(name, {})
    held = _retain_nll_after(name, args, tiny_model, tiny_tokenizer, learned_state)
    free = _retain_nll_after(name, {**args, "retain_weight": 0.0}, tiny_model, tiny_tokenizer,
                             learned_state)
    assert held < free
