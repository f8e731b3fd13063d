"""train.compile: the decoder body is compiled in place and training computes the same losses."""
from __future__ import annotations

import copy

import pytest

from obliviate.config import TrainConfig
from obliviate.data import Example, tokenize_examples
from obliviate.methods import build_method
from obliviate.training import Engine, TrainingData
from obliviate.training import compile as compile_mod
from tests.conftest import FORGET_QA, RETAIN_QA


def _data(tokenizer) -> TrainingData:
    tok = lambda rows: tokenize_examples([Example(r["question"], r["answer"]) for r in rows],  # noqa: E731
                                         tokenizer, 128, "qa")
    return TrainingData(forget=tok(FORGET_QA), retain=tok(RETAIN_QA))


def test_compiled_body_trains_like_eager(tiny_model, tiny_tokenizer, monkeypatch) -> None:
    monkeypatch.setattr(compile_mod, "BACKEND", "eager")  # dynamo tracing without codegen
    twin = copy.deepcopy(tiny_model)
    runs = []
    for model, flag in ((tiny_model, False), (twin, True)):
        cfg = TrainConfig(lr=1e-3, max_steps=2, batch_size=2, compile=flag, seed=0)
        result = Engine(build_method("npo"), cfg, progress=False).fit(
            model, _data(tiny_tokenizer), tiny_tokenizer.pad_token_id)
        runs.append([r["loss"] for r in result.log])
    assert twin.model._compiled_call_impl is not None
    assert tiny_model.model._compiled_call_impl is None
    assert twin.lm_head._compiled_call_impl is None  # logits_at still sees an eager head
    assert runs[1] == pytest.approx(runs[0], rel=1e-5)
