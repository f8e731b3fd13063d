"""The prompt format as a recorded setting: eval writes it (and TOFU's 200-token generation
budget) into results.json, forget quality / PrivLeak refuse a retain model's results made with
another prompt format (exit 2, one line), and run records it in run_config.yaml."""
from __future__ import annotations

import json
from pathlib import Path

import yaml

from obliviate.cli import main

ROOT = Path(__file__).resolve().parents[2]
TOFU = ["--benchmark", "tofu", "--source", str(ROOT / "tests" / "fixtures" / "tofu"),
        "--split", "forget05", "--limit", "3"]


def test_eval_records_prompt_and_budget_and_refuses_other_prompt(model_dir, tmp_path, capsys):
    system = ["--prompt-system", "You are a helpful assistant."]
    assert main(["eval", str(model_dir), *TOFU, *system, "--out", str(tmp_path / "r")]) == 0
    results = json.loads((tmp_path / "r" / "results.json").read_text())
    assert results["prompt"] == {"format": "chat", "system": "You are a helpful assistant."}
    assert results["generation"]["decoding"] == "greedy"
    assert results["generation"]["max_new_tokens"]["forget/rouge_l_recall"] == 200
    assert results["metrics"]["forget/rouge_l_recall"]["extra"]["max_new_tokens"] == 200
    assert set(results["eval_data"]) >= {"forget", "forget_perturbed", "holdout"}
    retain = str(tmp_path / "r" / "results.json")
    capsys.readouterr()
    code = main(["eval", str(model_dir), *TOFU, "--retain-results", retain,
                 "--out", str(tmp_path / "u")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1  # refused before the model loads
    assert "prompt format='chat', system='You are a helpful assistant.'" in err
    code = main(["eval", str(model_dir), *TOFU, *system, "--retain-results", retain,
                 "--out", str(tmp_path / "same")])
    err = capsys.readouterr().err
    if code != 0:  # 2 + 2 texts of a random tiny model may separate perfectly (retrain AUC 0)
        assert code == 2 and "PrivLeak divides by it" in err and "prompt" not in err
        return
    same = json.loads((tmp_path / "same" / "results.json").read_text())["metrics"]
    assert same["forget_quality"]["value"] == 1.0
    assert same["forget_quality"]["ci_low"] is None and same["forget_quality"]["ci_high"] is None


def test_bad_prompt_format_is_a_user_error(model_dir, tmp_path, capsys):
    code = main(["eval", str(model_dir), *TOFU, "--prompt-format", "Q: {q}",
                 "--out", str(tmp_path / "x")])
    assert code == 2 and "{question}" in capsys.readouterr().err


def test_run_records_prompt_format(model_dir, data_files, tmp_path):
    out = tmp_path / "run"
    assert main(["run", f"model={model_dir}", f"data.forget={data_files['forget']}",
                 "method=ga", "train.max_steps=1", f"output_dir={out}",
                 "--prompt-format", "[INST] {question} [/INST]"]) == 0
    config = yaml.safe_load((out / "run_config.yaml").read_text())
    assert config["prompt"] == {"format": "[INST] {question} [/INST]", "system": None}


def test_list_metrics_says_which_side_of_privleak_is_which(capsys):
    assert main(["list", "metrics"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("privleak "))
    assert "under-unlearning" in line and "over-unlearning" in line and "%" in line
