"""The lm-evaluation-harness bridge, offline: local task YAML files that read JSON-lines files,
a tiny model built here, and the parity of obliviate's ``mc_accuracy`` with lm-eval's ``acc``
on lm-eval's own WMDP task definition."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

pytest.importorskip("lm_eval")

from obliviate.cli import main  # noqa: E402
from obliviate.config import LmEvalConfig  # noqa: E402
from obliviate.data.benchmarks.wmdp import load_wmdp_config  # noqa: E402
from obliviate.errors import ConfigError  # noqa: E402
from obliviate.evaluation import evaluate  # noqa: E402
from obliviate.evaluation.lm_eval_bridge import add_lm_eval, task_manager  # noqa: E402
from obliviate.models.tiny import build_tiny_model  # noqa: E402

QUESTIONS = [
    ("Which organ pumps blood?", ["Heart", "Lung", "Skin", "Bone"], 0),
    ("What do bees make?", ["Silk", "Honey", "Wax paper", "Milk"], 1),
    ("Which cell part holds DNA?", ["Wall", "Vacuole", "Nucleus", "Pore"], 2),
    ("What do gills absorb?", ["Salt", "Light", "Sugar", "Oxygen"], 3),
    ("Which is a virus?", ["Influenza", "Yeast", "Moss", "Fern"], 0),
    ("What carries oxygen in blood?", ["Plasma", "Haemoglobin", "Bile", "Lymph"], 1),
    ("Where is insulin made?", ["Liver", "Spleen", "Pancreas", "Kidney"], 2),
    ("Which germ makes bread rise?", ["Mould", "Algae", "Virus", "Yeast"], 3),
    ("What do antibodies bind?", ["Antigens", "Lipids", "Minerals", "Water"], 0),
    ("Which sugar is in DNA?", ["Glucose", "Deoxyribose", "Lactose", "Sucrose"], 1),
]


def write_rows(path: Path) -> Path:
    rows = [{"question": q, "choices": c, "answer": a} for q, c, a in QUESTIONS]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture(scope="module")
def task_dir(tmp_path_factory) -> Path:
    """Two local tasks: a plain multiple-choice task, and lm-eval's own WMDP-bio definition
    (prompt, description line, choices, metric) pointed at a local file."""
    import lm_eval

    root = tmp_path_factory.mktemp("lm_eval_tasks")
    data = write_rows(root / "wmdp-bio.jsonl")
    wmdp = Path(lm_eval.__file__).parent / "tasks" / "wmdp" / "wmdp_bio.yaml"
    local = {"dataset_path": "json", "dataset_name": None,
             "dataset_kwargs": {"data_files": {"test": str(data)}}}
    (root / "local_wmdp_bio.yaml").write_text(json.dumps(
        {"task": "local_wmdp_bio", "include": str(wmdp), **local}))
    (root / "local_mc.yaml").write_text(json.dumps({
        "task": "local_mc", **local, "test_split": "test", "output_type": "multiple_choice",
        "doc_to_text": "{{question}}\nAnswer:", "doc_to_choice": "{{choices}}",
        "doc_to_target": "answer",
        "metric_list": [{"metric": "acc", "aggregation": "mean", "higher_is_better": True}],
        "metadata": {"version": 3}}))
    return root


@pytest.fixture(scope="module")
def manager(task_dir):
    return task_manager(LmEvalConfig(tasks=["local_mc", "local_wmdp_bio"],
                                     include_path=str(task_dir)))


@pytest.fixture
def mc_model(tiny_tokenizer):
    return build_tiny_model(len(tiny_tokenizer), seed=3, num_hidden_layers=2,
                            pad_token_id=tiny_tokenizer.pad_token_id)


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")


def test_metrics_stored_with_stderr(mc_model, tiny_tokenizer, task_dir, manager):
    settings = LmEvalConfig(tasks=["local_mc"], include_path=str(task_dir), batch_size=4)
    results = {"metrics": {"forget/answer_prob": {"value": 0.5}}}
    add_lm_eval(results, mc_model, tiny_tokenizer, settings, manager)
    entry = results["metrics"]["lm_eval/local_mc/acc"]
    assert set(results["metrics"]) >= {"forget/answer_prob", "lm_eval/local_mc/acc"}
    picks, answers = entry["extra"]["predictions"], [a for _, _, a in QUESTIONS]
    per_doc = [float(p == a) for p, a in zip(picks, answers)]
    assert entry["per_sample"] == per_doc and len(per_doc) == len(QUESTIONS)
    acc = sum(per_doc) / len(per_doc)
    assert entry["value"] == pytest.approx(acc)
    # lm-eval's stderr of a mean: sample standard deviation / sqrt(n)
    var = sum((x - acc) ** 2 for x in per_doc) / (len(per_doc) - 1)
    stderr = (var / len(per_doc)) ** 0.5
    assert entry["extra"]["stderr"] == pytest.approx(stderr)
    assert entry["ci_low"] == pytest.approx(max(0.0, acc - 1.96 * stderr))
    assert entry["ci_high"] == pytest.approx(min(1.0, acc + 1.96 * stderr))
    assert entry["higher_is_better"] is True
    assert entry["extra"]["task_version"] == 3 and entry["extra"]["n_samples"] == 10
    assert results["lm_eval"]["tasks"] == ["local_mc"]


def test_model_mode_restored_and_limit(mc_model, tiny_tokenizer, task_dir, manager):
    mc_model.train()
    settings = LmEvalConfig(tasks=["local_mc"], include_path=str(task_dir), limit=4)
    results = add_lm_eval({"metrics": {}}, mc_model, tiny_tokenizer, settings, manager)
    assert mc_model.training
    assert len(results["metrics"]["lm_eval/local_mc/acc"]["per_sample"]) == 4


def test_unknown_task_fails_before_loading(task_dir):
    with pytest.raises(ConfigError, match="did you mean 'local_mc'"):
        task_manager(LmEvalConfig(tasks=["local_mcc"], include_path=str(task_dir)))
    with pytest.raises(ConfigError, match="not a folder"):
        task_manager(LmEvalConfig(tasks=["x"], include_path=str(task_dir / "missing")))


def test_mc_accuracy_matches_lm_eval_wmdp(mc_model, tiny_tokenizer, task_dir, manager):
    """Question by question: obliviate's mc_accuracy and lm-eval's wmdp_bio acc choose the same
    option on the same local WMDP-format file (so the prompts agree, description line included)."""
    settings = LmEvalConfig(tasks=["local_wmdp_bio"], include_path=str(task_dir))
    theirs = add_lm_eval({"metrics": {}}, mc_model, tiny_tokenizer, settings,
                         manager)["metrics"]["lm_eval/local_wmdp_bio/acc"]
    examples = load_wmdp_config(task_dir, "wmdp-bio")
    ours = evaluate(mc_model, tiny_tokenizer, {"wmdp-bio": examples},
                    [("mc_accuracy", "wmdp-bio")])["wmdp-bio/mc_accuracy"]
    assert ours.extra["predictions"] == theirs["extra"]["predictions"]
    assert list(ours.per_sample) == theirs["per_sample"]
    assert ours.value == pytest.approx(theirs["value"])


def test_eval_cli_runs_lm_eval_tasks(model_dir, task_dir, tmp_path, capsys):
    out = tmp_path / "eval-out"
    assert main(["eval", str(model_dir), "--lm-eval", "local_mc", "--lm-eval-include",
                 str(task_dir), "--limit", "6", "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    entry = results["metrics"]["lm_eval/local_mc/acc"]
    assert len(entry["per_sample"]) == 6 and entry["extra"]["stderr"] is not None
    assert "lm_eval/local_mc/acc" in capsys.readouterr().out


def test_run_config_lm_eval_before_and_after(model_dir, data_files, task_dir, tmp_path):
    out = tmp_path / "run"
    assert main(["run", f"model={model_dir}", f"data.forget={data_files['forget']}",
                 "method=ga", "train.max_steps=2", "train.lr=1e-2", "eval=before_after",
                 "lm_eval.tasks=[local_mc]", f"lm_eval.include_path={task_dir}",
                 f"output_dir={out}"]) == 0
    results = json.loads((out / "results.json").read_text())
    before = results["before"]["metrics"]["lm_eval/local_mc/acc"]
    after = results["metrics"]["lm_eval/local_mc/acc"]
    assert len(before["per_sample"]) == len(after["per_sample"]) == len(QUESTIONS)
    assert "lm_eval/local_mc/acc" in (out / "report.html").read_text()
    assert "| lm_eval/local_mc/acc |" in (out / "README.md").read_text()


def test_lm_eval_settings_errors(model_dir, data_files, tmp_path, monkeypatch, capsys):
    assert main(["run", f"model={model_dir}", f"data.forget={data_files['forget']}",
                 "lm_eval.tasks=[local_mc]", f"output_dir={tmp_path / 'x'}"]) == 2
    assert "eval=after" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "lm_eval", None)  # as if it were not installed
    assert main(["eval", str(model_dir), "--lm-eval", "local_mc"]) == 2
    assert "pip install 'obliviate[lm-eval]'" in capsys.readouterr().err
