"""AltPO's alternate-answers stage on a tiny model: forget rows repeated, alternates aligned,
cached and reused, then trained through the engine; and the loss against its formula."""
from __future__ import annotations

import json

import pytest
import torch

from types import SimpleNamespace

from obliviate.config import TrainConfig
from obliviate.data import Example
from obliviate.errors import ConfigError
from obliviate.methods import StepInputs, build_method
from obliviate.pipeline import RunSets, training_data
from obliviate.training import Engine, alternates as stage
from tests.conftest import FORGET_QA, RETAIN_QA


def _sets(rows=FORGET_QA[:2]) -> RunSets:
    ex = lambda rs: [Example(r["question"], r["answer"]) for r in rs]  # noqa: E731
    return RunSets(forget=ex(rows), forget_format="qa", retain=ex(RETAIN_QA))


def test_alternates_are_generated_aligned_cached_and_trained(tiny_model, tiny_tokenizer,
                                                             tmp_path, monkeypatch):
    monkeypatch.setenv("OBLIVIATE_HOME", str(tmp_path))
    config = SimpleNamespace(train=TrainConfig(max_length=96, seed=3))  # what training_data reads
    method = build_method("altpo", {"alternates": 2, "alt_max_new_tokens": 4})
    data = training_data(config, _sets(), tiny_tokenizer, False, method, tiny_model)
    assert len(data.forget) == len(data.idk) == 4  # 2 questions x 2 alternates
    for forget, alt in zip(data.forget, data.idk):  # same prompt tokens, row for row
        n = forget.labels.index(next(x for x in forget.labels if x != -100))
        assert alt.input_ids[:n] == forget.input_ids[:n]
    cached = list((tmp_path / "alternates").glob("*.jsonl"))
    assert len(cached) == 1
    rows = [json.loads(line) for line in cached[0].read_text().splitlines()]
    assert [len(r["alternates"]) for r in rows] == [2, 2]
    assert method.alternates_file == str(cached[0])  # unlearn() copies it into the run folder
    # the same run again reads the cache and generates nothing
    monkeypatch.setattr(stage, "generate_alternates", lambda *a: pytest.fail("regenerated"))
    again = training_data(config, _sets(), tiny_tokenizer, False, method, tiny_model)
    assert [e.input_ids for e in again.idk] == [e.input_ids for e in data.idk]
    cfg = TrainConfig(lr=1e-3, max_steps=2, batch_size=2, seed=0)
    result = Engine(method, cfg, progress=False).fit(tiny_model, data,
                                                     tiny_tokenizer.pad_token_id)
    assert result.steps == 2 and "alternate_nll" in result.log[0]


def test_altpo_needs_qa_data_and_the_model(tiny_tokenizer):
    method = build_method("altpo", {})
    with pytest.raises(ConfigError, match="model"):
        training_data(SimpleNamespace(train=TrainConfig()), _sets(), tiny_tokenizer, False, method)
    text = RunSets(forget=_sets().forget, forget_format="text")
    with pytest.raises(ConfigError, match="QA"):
        training_data(SimpleNamespace(train=TrainConfig()), text, tiny_tokenizer, False, method, object())
    for bad in ({"alternates": 0}, {"alt_max_new_tokens": 1.5}, {"alt_temperature": 0},
                {"beta": 0}):
        with pytest.raises(ConfigError):
            build_method("altpo", bad)


def test_altpo_loss_matches_the_formula_after_drift():
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
    from methods_testkit import (assert_same_gradients, drift, forget_batch, idk_batch,
                                 mean_nll, retain_batch, seq_logp, tiny_llama, with_ref_logp)
    original = tiny_llama()
    forget = with_ref_logp(original, forget_batch())
    alt = with_ref_logp(original, idk_batch())
    model = drift(original)
    out = build_method("altpo", {"beta": 0.4, "retain_weight": 2.0}).loss(
        model, StepInputs(forget=forget, idk=alt, retain=retain_batch()))
    margin = (seq_logp(model, alt) - alt["ref_logp"]) - (seq_logp(model, forget) - forget["ref_logp"])
    formula = (-(2 / 0.4) * torch.nn.functional.logsigmoid(0.4 * margin)).mean() \
        + 2.0 * mean_nll(model, retain_batch())
    assert_same_gradients(model, out.loss, formula)


def test_altpo_run_keeps_its_alternates_in_the_run_folder(model_dir, data_files, tmp_path,
                                                          monkeypatch):
    from obliviate.cli import main
    monkeypatch.setenv("OBLIVIATE_HOME", str(tmp_path / "home"))
    out = tmp_path / "run"
    assert main(["run", f"model={model_dir}", f"data.forget={data_files['forget']}",
                 f"data.retain={data_files['retain']}", "method=altpo",
                 "method_args.alternates=1", "method_args.alt_max_new_tokens=3",
                 "train.max_steps=1", "train.batch_size=2", f"output_dir={out}"]) == 0
    rows = [json.loads(line) for line in (out / "alternates.jsonl").read_text().splitlines()]
    assert len(rows) == len(FORGET_QA) and all(len(r["alternates"]) == 1 for r in rows)
