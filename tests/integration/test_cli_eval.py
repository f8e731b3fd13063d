"""`obliviate eval` on a tiny saved model: run sets, a benchmark folder, a prompt wrapper."""
from __future__ import annotations

import json
from pathlib import Path

from obliviate.cli import main

ROOT = Path(__file__).resolve().parents[2]



def _metrics(folder):
    return json.loads((folder / "results.json").read_text())["metrics"]


def test_eval_sets_and_guardrail_wrapper(model_dir, data_files, tmp_path, capsys):
    common = [str(model_dir), "--forget", str(data_files["forget"]), "--retain",
              str(data_files["retain"]), "--holdout", str(data_files["retain"]),
              "--max-new-tokens", "4"]
    assert main(["eval", *common, "--out", str(tmp_path / "plain")]) == 0
    assert main(["eval", *common, "--wrapper", "guardrail", "--out", str(tmp_path / "g")]) == 0
    plain, guarded = _metrics(tmp_path / "plain"), _metrics(tmp_path / "g")
    assert set(plain) == set(guarded) and "forget/mia_loss" in plain
    assert plain["forget/answer_prob"]["value"] != guarded["forget/answer_prob"]["value"]
    assert "forget/answer_prob" in capsys.readouterr().out


def test_eval_benchmark_folder_without_retain_results(model_dir, tmp_path, capsys):
    out = tmp_path / "tofu"
    code = main(["eval", str(model_dir), "--benchmark", "tofu", "--source",
                 str(ROOT / "tests" / "fixtures" / "tofu"), "--split", "forget05",
                 "--max-new-tokens", "4", "--out", str(out)])
    assert code == 0
    metrics = _metrics(out)
    assert "model_utility" in metrics and "forget_perturbed/truth_ratio" in metrics
    assert "forget_quality" not in metrics
    assert "no --retain-results" in capsys.readouterr().out


def test_eval_needs_data(model_dir, tmp_path, capsys):
    assert main(["eval", str(model_dir), "--out", str(tmp_path / "x")]) == 2
    assert "no data to evaluate on" in capsys.readouterr().err
