"""Engine features on a tiny Llama: reinforced stage, localisation (regex + SalUn saliency),
LoRA with the disabled-adapter reference, Sophia's Hessian hook, task vectors and influence."""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import ClassVar

import pytest
import torch

from obliviate.config import LocalizeConfig, LoraSettings, TrainConfig
from obliviate.data import Example, tokenize_examples
from obliviate.data.collate import collate
from obliviate.methods import LossOutput, Needs, build_method
from obliviate.methods._common import logits_of
from obliviate.methods.base import OneShotContext
from obliviate.methods.losses import masked_nll
from obliviate.training import Engine, TrainingData
from obliviate.training.localize import forget_gradient, top_fraction
from obliviate.training.lora import AdapterDisabledReference, wrap_lora
from obliviate.training.sophia import Sophia
from tests.conftest import FORGET_QA, RETAIN_QA

CFG = TrainConfig(lr=1e-2, max_steps=3, batch_size=2, weight_decay=0.0, seed=0)


def _data(tokenizer) -> TrainingData:
    tok = lambda rows: tokenize_examples([Example(r["question"], r["answer"]) for r in rows],  # noqa: E731
                                         tokenizer, 128, "qa")
    return TrainingData(forget=tok(FORGET_QA), retain=tok(RETAIN_QA))


@torch.no_grad()
def _nll(model, examples, pad) -> float:
    batch = collate([{"input_ids": e.input_ids, "labels": e.labels} for e in examples], pad)
    return masked_nll(logits_of(model, batch), batch["labels"]).item()


def _snapshot(model) -> dict[str, torch.Tensor]:
    return {n: p.detach().clone() for n, p in model.named_parameters()}


@dataclass
class _ReinforcedProbe:
    """A test method that needs a reinforced model and records what it receives."""

    reinforce_steps: int = 4
    reinforce_lr: float = 1e-2
    seen: list = field(default_factory=list)
    name: ClassVar[str] = "probe"
    needs: ClassVar[Needs] = Needs(reinforced_model=True)

    def setup(self, model, generator) -> None:
        """Nothing to prepare."""

    def loss(self, model, inputs) -> LossOutput:
        self.seen.append(inputs.reinforced)
        nll = masked_nll(logits_of(model, inputs.forget), inputs.forget["labels"])
        return LossOutput(-nll, {})


class _Recorder:
    """Delegates to a method and records the reference model of every step."""

    def __init__(self, inner):
        self.inner, self.references = inner, []

    def __getattr__(self, key):
        return getattr(self.inner, key)

    def loss(self, model, inputs):
        self.references.append(inputs.reference)
        return self.inner.loss(model, inputs)


def test_reinforced_stage_fine_tunes_a_frozen_copy(tiny_model, tiny_tokenizer):
    data, pad = _data(tiny_tokenizer), tiny_tokenizer.pad_token_id
    before = _nll(tiny_model, data.forget, pad)
    probe = _ReinforcedProbe()
    result = Engine(probe, CFG, progress=False).fit(tiny_model, data, pad)
    assert result.reinforce_steps == 4 and result.steps == 3 and len(probe.seen) == 3
    reinforced = probe.seen[0]
    assert all(r is reinforced for r in probe.seen) and reinforced is not tiny_model
    assert not reinforced.training and not any(p.requires_grad for p in reinforced.parameters())
    assert _nll(reinforced, data.forget, pad) < before  # it learned the forget data


def test_regex_and_saliency_leave_other_weights_bit_identical(tiny_model, tiny_tokenizer):
    data, pad = _data(tiny_tokenizer), tiny_tokenizer.pad_token_id
    regex = r".*layers\.[23]\..*mlp.*"
    selected = [n for n, _ in tiny_model.named_parameters() if "mlp" in n and
                (".layers.2." in n or ".layers.3." in n)]
    named = dict(tiny_model.named_parameters())
    grads = forget_gradient(tiny_model, [named[n] for n in selected], data.forget, pad, 2)
    expected = dict(zip(selected, top_fraction(grads, 0.1)))
    before = _snapshot(tiny_model)
    cfg = TrainConfig(lr=1e-2, max_steps=3, batch_size=2, weight_decay=0.1, seed=0)
    result = Engine(build_method("graddiff"), cfg, progress=False,
                    localize=LocalizeConfig(modules=regex, saliency=0.1)).fit(tiny_model, data, pad)
    after = _snapshot(tiny_model)
    assert result.masked_kept == sum(int(m.sum()) for m in expected.values()) > 0
    for name in before:
        if name not in expected:
            assert torch.equal(before[name], after[name]), name
        else:
            mask = expected[name]
            assert torch.equal(before[name][~mask], after[name][~mask]), name
    assert any(not torch.equal(before[n][m], after[n][m]) for n, m in expected.items())


def test_lora_reference_is_the_same_model_with_the_adapter_disabled(tiny_model, tiny_tokenizer):
    data, pad = _data(tiny_tokenizer), tiny_tokenizer.pad_token_id
    original = copy.deepcopy(tiny_model)
    model = wrap_lora(tiny_model, LoraSettings(enabled=True, r=4, dropout=0.0))
    base_before = {n: p.detach().clone() for n, p in model.named_parameters() if "lora_" not in n}
    method = _Recorder(build_method("ga_kl"))
    Engine(method, CFG, progress=False).fit(model, data, pad)
    ref = method.references[0]
    assert all(r is ref for r in method.references) and isinstance(ref, AdapterDisabledReference)
    assert ref.peft_model is model and not list(ref.parameters())  # no copy of any weight
    for n, p in model.named_parameters():
        if "lora_" in n:
            assert p.requires_grad
        else:
            assert torch.equal(p, base_before[n]), n
    batch = collate([{"input_ids": e.input_ids, "labels": e.labels} for e in data.retain], pad)
    with torch.no_grad():
        assert torch.allclose(logits_of(ref, batch), logits_of(original, batch), atol=1e-5)
        assert not torch.allclose(logits_of(model, batch), logits_of(original, batch), atol=1e-4)
    assert model.training  # the reference's eval() did not leak into the trained model


def test_sophia_hessian_hook_runs_every_k_steps(tiny_model, tiny_tokenizer, monkeypatch):
    calls = []
    original = Sophia.update_hessian
    monkeypatch.setattr(Sophia, "update_hessian",
                        lambda self, closure: (calls.append(1), original(self, closure))[1])
    data, pad = _data(tiny_tokenizer), tiny_tokenizer.pad_token_id
    result = Engine(build_method("npo"), CFG, optimizer="sophia",
                    optimizer_args={"update_interval": 2}, progress=False).fit(tiny_model, data, pad)
    assert len(calls) == 2 and result.steps == 3  # after steps 1 and 3


def test_task_vector_search_keeps_retain_nll_within_tolerance(tiny_model, tiny_tokenizer):
    data, pad = _data(tiny_tokenizer), tiny_tokenizer.pad_token_id
    method = build_method("task_vector", {"search": True, "reinforce_steps": 4,
                                          "reinforce_lr": 1e-2, "retain_tolerance": 1.1})
    result = Engine(method, CFG, progress=False).fit(tiny_model, data, pad)
    info = result.method_info
    assert result.steps == 0 and result.reinforce_steps == 4 and info["within_tolerance"] == 1
    good = [g for g in method.grid if info[f"retain_nll_at_{g:g}"] <= 1.1 * info["retain_nll_before"]]
    assert info["scale"] == max(good)
    assert info["retain_nll_after"] <= 1.1 * info["retain_nll_before"]
    assert _nll(tiny_model, data.retain, pad) == pytest.approx(info["retain_nll_after"], rel=1e-4)


def test_task_vector_negates_a_lora_adapter(tiny_model, tiny_tokenizer):
    model = wrap_lora(tiny_model, LoraSettings(enabled=True, r=4, dropout=0.0))
    tuned = copy.deepcopy(model)
    with torch.no_grad():
        for n, p in tuned.named_parameters():
            if "lora_" in n:
                p.normal_(0, 0.1)
    base = copy.deepcopy(model).merge_and_unload().state_dict()
    fine = copy.deepcopy(tuned).merge_and_unload().state_dict()
    params = {n: p for n, p in model.named_parameters() if p.requires_grad}
    build_method("task_vector", {"scale": 2.0}).apply(
        model, OneShotContext(params=params, forget_batches=lambda: iter(()), reinforced=tuned))
    edited = copy.deepcopy(model).merge_and_unload().state_dict()
    for key in base:
        assert torch.allclose(edited[key], base[key] - 2.0 * (fine[key] - base[key]), atol=1e-6)


@pytest.mark.parametrize("args", [{"solver": "diagonal", "weight": 1e-3},
                                  {"lissa_depth": 5, "lissa_scale": 50.0, "damping": 0.1}])
def test_influence_moves_only_the_selected_weights(args, tiny_model, tiny_tokenizer):
    data, pad = _data(tiny_tokenizer), tiny_tokenizer.pad_token_id
    before, nll = _snapshot(tiny_model), _nll(tiny_model, data.forget, pad)
    result = Engine(build_method("influence", args), CFG, progress=False,
                    localize=LocalizeConfig(modules=r"layers\.3\.mlp\.down_proj")
                    ).fit(tiny_model, data, pad)
    after = _snapshot(tiny_model)
    changed = {n for n in before if not torch.equal(before[n], after[n])}
    assert changed == {"model.layers.3.mlp.down_proj.weight"} and result.steps == 0
    assert result.method_info["update_norm"] > 0
    if args.get("solver") == "diagonal":
        assert _nll(tiny_model, data.forget, pad) > nll  # a preconditioned ascent step
