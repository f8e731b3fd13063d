"""A NaN loss stops the run with a clear message and leaves no model that looks finished."""
from __future__ import annotations

import torch

from obliviate.cli import main
from obliviate.methods.base import LossOutput
from obliviate.methods.ga import GradientAscent


def test_nan_loss_stops_the_run_and_saves_nothing(monkeypatch, tmp_path, tiny_model,
                                                  tiny_tokenizer, data_files, capsys):
    model_dir = tmp_path / "model"
    tiny_model.save_pretrained(model_dir)
    tiny_tokenizer.save_pretrained(model_dir)
    calls = []

    def nan_on_second_step(self, model, inputs):
        calls.append(inputs.step)
        logits = model(input_ids=inputs.forget["input_ids"]).logits
        loss = logits.mean() * (float("nan") if inputs.step >= 1 else 1.0)
        return LossOutput(loss, {"forget_nll": 0.0})

    monkeypatch.setattr(GradientAscent, "loss", nan_on_second_step)
    out = tmp_path / "run"
    code = main(["run", f"model={model_dir}", f"data.forget={data_files['forget']}",
                 "method=ga", "train.max_steps=3", "train.batch_size=2", f"output_dir={out}"])
    err = capsys.readouterr().err
    assert code == 2 and "the loss became nan at step 2; nothing was saved" in err
    assert calls == [0, 1]
    assert not out.exists() and not [p for p in tmp_path.iterdir() if ".partial" in p.name]
    assert torch.isfinite(next(tiny_model.parameters())).all()
