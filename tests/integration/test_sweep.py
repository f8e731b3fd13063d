"""`obliviate sweep`: a 4-trial Optuna sweep on a tiny model, its Pareto front, resuming."""
from __future__ import annotations

import csv

import pytest

from obliviate.cli import main
from obliviate.sweep.front import Objective, dominates, pareto_front

OBJECTIVES = "forget/answer_prob:min,retain/answer_prob:max"
GOALS = [Objective("forget/answer_prob", "minimize"), Objective("retain/answer_prob", "maximize")]


@pytest.fixture
def sweep_args(model_dir, data_files, tmp_path):
    space = tmp_path / "space.yaml"
    space.write_text("train.lr: loguniform(1e-4, 3e-2)\ntrain.max_steps: int(1, 3)\n"
                     "method_args.retain_weight: [0.5, 1.0, 2.0]\n")
    out = tmp_path / "sweep"
    base = ["sweep", f"model={model_dir}", f"data.forget={data_files['forget']}",
            f"data.retain={data_files['retain']}", "method=graddiff", "train.batch_size=2",
            "--space", str(space), "--out", str(out), "--objectives", OBJECTIVES,
            "--no-progress"]
    return base, out


def _rows(path):
    return list(csv.DictReader(path.open()))


def _values(row):
    return [float(row[g.key]) for g in GOALS]


def test_sweep_front_dominates_no_trial_wrongly_and_resumes(sweep_args):
    base, out = sweep_args
    assert main([*base, "--trials", "4"]) == 0
    trials, front = _rows(out / "trials.csv"), _rows(out / "pareto.csv")
    assert [int(r["trial"]) for r in trials] == [0, 1, 2, 3]
    assert front and {r["trial"] for r in front} == {r["trial"] for r in trials
                                                      if r["on_front"] == "True"}
    for f in front:  # nothing on the front is dominated by any trial
        assert not any(dominates(_values(t), _values(f), GOALS) for t in trials)
    for t in trials:  # every trial off the front is dominated by one on it
        if t["trial"] not in {f["trial"] for f in front}:
            assert any(dominates(_values(f), _values(t), GOALS) for f in front)
    assert (out / "pareto.png").read_bytes()[:4] == b"\x89PNG"
    report = (out / "report.md").read_text()
    assert "original model" in report and "pareto.png" in report
    assert "| trial |" in (out / "pareto.md").read_text()
    first = {r["trial"]: (r["train.lr"], r["train.max_steps"]) for r in trials}
    # resuming: finished trials are kept, not repeated; only the missing ones run
    assert main([*base, "--trials", "6"]) == 0
    again = _rows(out / "trials.csv")
    assert [int(r["trial"]) for r in again] == [0, 1, 2, 3, 4, 5]
    assert {r["trial"]: (r["train.lr"], r["train.max_steps"]) for r in again[:4]} == first
    assert main([*base, "--trials", "6"]) == 0
    assert len(_rows(out / "trials.csv")) == 6


def test_a_trial_killed_mid_run_is_run_again_once(sweep_args):
    import optuna

    base, out = sweep_args
    assert main([*base, "--trials", "1"]) == 0
    storage = f"sqlite:///{out / 'study.db'}"
    study = optuna.load_study(study_name="obliviate-sweep", storage=storage)
    killed = study.ask({"train.lr": optuna.distributions.FloatDistribution(1e-4, 3e-2, log=True),
                        "train.max_steps": optuna.distributions.IntDistribution(1, 3)})
    params = dict(killed.params)  # left RUNNING, as a killed process leaves it
    assert main([*base, "--trials", "2"]) == 0
    rows = _rows(out / "trials.csv")
    assert len(rows) == 2 and all(r["state"] == "complete" for r in rows)
    assert float(rows[1]["train.lr"]) == pytest.approx(params["train.lr"])
    states = [t.state.name for t in optuna.load_study(study_name="obliviate-sweep",
                                                      storage=storage).trials]
    assert states == ["COMPLETE", "FAIL", "COMPLETE"]


def test_pareto_front_by_hand():
    rows = [{"trial": 0, "f": 0.1, "u": 0.5}, {"trial": 1, "f": 0.2, "u": 0.9},
            {"trial": 2, "f": 0.3, "u": 0.95}, {"trial": 3, "f": 0.05, "u": 0.4},
            {"trial": 4, "f": 0.2, "u": 0.9}, {"trial": 5, "f": float("nan"), "u": 1.0}]
    goals = [Objective("f", "minimize"), Objective("u", "maximize")]
    # 0 is dominated by nothing (lowest f among u>=0.5 others? 3 has lower f, lower u)
    assert [r["trial"] for r in pareto_front(rows, goals)] == [3, 0, 1, 4, 2]
    goals = [Objective("f", "maximize"), Objective("u", "maximize")]
    assert [r["trial"] for r in pareto_front(rows, goals)] == [2]


def test_sweep_errors_are_one_line(sweep_args, tmp_path, capsys):
    base, out = sweep_args
    bad = tmp_path / "bad.yaml"
    with_bad = [*base[:base.index("--space") + 1], str(bad), *base[base.index("--space") + 2:],
                "--trials", "1"]
    bad.write_text("train.lr: gaussian(1, 2)\n")
    assert main(with_bad) == 2
    assert "not a distribution" in capsys.readouterr().err
    bad.write_text("train.lrr: [1e-3]\n")
    assert main(with_bad) == 2
    assert "unknown config key 'train.lrr'" in capsys.readouterr().err
    assert main([*base, "--trials", "1", "--objectives", "forget_quality:max"]) == 2
    err = capsys.readouterr().err
    assert "forget_quality" in err and "forget/answer_prob" in err
    assert not (out / "study.db").exists()


def test_shipped_space_parses():
    from pathlib import Path

    from obliviate.sweep.space import load_space

    root = Path(__file__).resolve().parents[2]
    for path in sorted((root / "configs" / "spaces").glob("*.yaml")):
        assert load_space(path), path
