"""Engine options: gradient accumulation, gradient checkpointing, epochs, warm-up schedule."""
from __future__ import annotations

import math

from obliviate.config import TrainConfig
from obliviate.data import Example, tokenize_examples
from obliviate.methods import build_method
from obliviate.training import Engine, TrainingData
from tests.conftest import FORGET_QA, RETAIN_QA


def _data(tokenizer) -> TrainingData:
    tok = lambda rows: tokenize_examples([Example(r["question"], r["answer"]) for r in rows],  # noqa: E731
                                         tokenizer, 128, "qa")
    return TrainingData(forget=tok(FORGET_QA), retain=tok(RETAIN_QA))


def test_accumulation_counts_optimizer_steps(tiny_model, tiny_tokenizer):
    cfg = TrainConfig(lr=1e-3, max_steps=2, batch_size=2, grad_accum=2, warmup_steps=1,
                      scheduler="linear")
    result = Engine(build_method("graddiff"), cfg, progress=False).fit(
        tiny_model, _data(tiny_tokenizer), tiny_tokenizer.pad_token_id)
    assert [r["step"] for r in result.log] == [1, 2]
    # linear warm-up over 1 step, then linear decay to 0 over the remaining 1 step: step 1
    # runs at the warm-up's start (0), step 2 at the peak; the log records the rate each step
    # used (it used to record the rate after the scheduler step: 1e-3, then 0.0)
    assert result.log[0]["lr"] == 0.0 and result.log[1]["lr"] == 1e-3
    assert all(math.isfinite(r["retain_loss"]) for r in result.log)


def test_epochs_walk_the_forget_set_and_checkpointing_runs(tiny_model, tiny_tokenizer):
    # 5 forget rows and 4 retain rows at batch 2: 3 and 2 batches; one epoch = 3 steps (the
    # forget batches), the retain set cycles.
    cfg = TrainConfig(lr=1e-3, epochs=1.0, batch_size=2, gradient_checkpointing=True)
    result = Engine(build_method("graddiff"), cfg, progress=False).fit(
        tiny_model, _data(tiny_tokenizer), tiny_tokenizer.pad_token_id)
    assert result.steps == 3 and len(result.log) == 3
    assert any(getattr(m, "gradient_checkpointing", False) for m in tiny_model.modules())


def test_an_epoch_is_one_pass_over_the_forget_set(tiny_model, tiny_tokenizer):
    # 2 forget rows and 4 retain rows at batch 1: one epoch = 2 steps (TOFU / open-unlearning),
    # not max(2, 4) = 4; the retain batches come from the retain stream, a new one each step.
    data = _data(tiny_tokenizer)
    data = TrainingData(forget=data.forget[:2], retain=data.retain)
    cfg = TrainConfig(lr=1e-3, epochs=1.0, batch_size=1)
    result = Engine(build_method("graddiff"), cfg, progress=False).fit(
        tiny_model, data, tiny_tokenizer.pad_token_id)
    assert result.steps == 2 and len(result.log) == 2
    two = TrainConfig(lr=1e-3, epochs=2.0, batch_size=1)
    assert Engine(build_method("ga"), two, progress=False).fit(
        tiny_model, data, tiny_tokenizer.pad_token_id).steps == 4
