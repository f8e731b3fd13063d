"""`obliviate run` with train.eval_every / train.select / train.patience on a tiny model."""
from __future__ import annotations

import json

from obliviate.cli import main
from obliviate.data import load_examples
from obliviate.data.spec import DataSpec
from obliviate.evaluation import evaluate
from obliviate.models import load_model

_EVAL = "forget/answer_prob"


def _args(model_dir, files, out, *extra):
    return ["run", f"model={model_dir}", f"data.forget={files['forget']}",
            f"data.retain={files['retain']}", "method=graddiff", "train.max_steps=5",
            "train.batch_size=2", "train.lr=3e-3", "train.eval_every=2", f"output_dir={out}",
            *extra]


def _steps(out):
    return [json.loads(line) for line in (out / "steps.jsonl").read_text().splitlines()]


def test_eval_every_logs_teacher_forced_metrics_at_the_right_steps(model_dir, data_files,
                                                                    tmp_path):
    out = tmp_path / "run"
    assert main(_args(model_dir, data_files, out)) == 0
    steps = _steps(out)
    logged = [s["step"] for s in steps if f"eval/{_EVAL}" in s]
    assert logged == [2, 4, 5]
    # the default suite's generation metrics (ROUGE) are not run unless asked for
    assert not any("rouge" in key for s in steps for key in s)
    run = json.loads((out / "run.json").read_text())
    during = run["eval_during_training"]
    assert [e["step"] for e in during["evaluations"]] == [2, 4, 5]
    assert set(during["original"]) == {e for e in during["evaluations"][0] if e != "step"}
    # the logged number is the saved (last-step) model's own forget probability
    loaded = load_model(str(out))
    again = evaluate(loaded.model, loaded.tokenizer,
                     {"forget": load_examples(DataSpec(str(data_files["forget"])))},
                     [("answer_prob", "forget")], max_length=512)
    assert abs(again[_EVAL].value - steps[-1][f"eval/{_EVAL}"]) < 1e-6


def test_select_keeps_the_best_checkpoint_under_the_constraint(model_dir, data_files, tmp_path):
    out = tmp_path / "best"
    assert main(_args(model_dir, data_files, out, "train.eval_every=1",
                      "train.select.metric=retain/answer_prob", "train.select.mode=max",
                      f"train.select.constraint={_EVAL} <= original", "eval=after")) == 0
    run = json.loads((out / "run.json").read_text())
    report = (out / "report.md").read_text()
    assert "Evaluation during training" in report
    assert f"kept checkpoint is step {run['selected_step']}" in report
    evals = run["eval_during_training"]["evaluations"]
    original = run["eval_during_training"]["original"]
    allowed = [e for e in evals if e[_EVAL] <= original[_EVAL]]
    best = max(allowed, key=lambda e: e["retain/answer_prob"])  # first of ties, as kept
    assert run["selected_step"] == best["step"]
    # the saved model is that checkpoint (its retain probability is the kept one's)
    saved = load_model(str(out))
    sets = {"retain": load_examples(DataSpec(str(data_files["retain"])))}
    got = evaluate(saved.model, saved.tokenizer, sets, [("answer_prob", "retain")])
    assert abs(got["retain/answer_prob"].value - best["retain/answer_prob"]) < 1e-6


def test_patience_stops_early(model_dir, data_files, tmp_path):
    out = tmp_path / "early"
    # forget probability only falls under gradient difference at this lr: "max" never improves
    assert main(_args(model_dir, data_files, out, "train.eval_every=1", "train.patience=1",
                      f"train.select.metric={_EVAL}", "train.select.mode=max",
                      "train.lr=1e-2", "train.max_steps=6")) == 0
    run = json.loads((out / "run.json").read_text())
    assert run["eval_during_training"]["stopped_early"] is True
    assert run["steps"] < 6 and len(_steps(out)) == run["steps"]


def test_invalid_constraint_is_one_line_exit_2(model_dir, data_files, tmp_path, capsys):
    code = main(_args(model_dir, data_files, tmp_path / "x",
                      "train.select.constraint=model_utility >= 0.9 *"))
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "cannot read constraint" in err
    assert not (tmp_path / "x").exists()


def test_unknown_select_metric_fails_before_training(model_dir, data_files, tmp_path, capsys):
    code = main(_args(model_dir, data_files, tmp_path / "y", "train.select.metric=forget_quality"))
    err = capsys.readouterr().err
    assert code == 2 and "forget_quality" in err and "forget/answer_prob" in err
