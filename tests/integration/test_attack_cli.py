"""`obliviate attack` end to end on tiny models saved to disk: every attack runs, the results
file holds original / unlearned / attacked / recovery per metric, errors are clean."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from obliviate.cli import main
from obliviate.data import Example
from obliviate.evaluation import build_results, evaluate, write_results
from obliviate.models.tiny import build_tiny_model
from tests.conftest import FORGET_QA, RETAIN_QA, tree_hash, write_jsonl



@pytest.fixture
def models(tmp_path, tiny_model, tiny_tokenizer) -> tuple[Path, Path]:
    original = tmp_path / "original"
    tiny_model.save_pretrained(original)
    tiny_tokenizer.save_pretrained(original)
    unlearned = tmp_path / "unlearned"
    other = build_tiny_model(len(tiny_tokenizer), seed=1, num_hidden_layers=4,
                             pad_token_id=tiny_tokenizer.pad_token_id)
    other.save_pretrained(unlearned)
    tiny_tokenizer.save_pretrained(unlearned)
    return original, unlearned


@pytest.fixture
def files(tmp_path) -> dict[str, Path]:
    forget = [dict(r, paraphrase="Tell me: " + r["question"]) for r in FORGET_QA]
    jail = {"families": {"prefix_injection": [{"name": "sure", "template": "{question} Sure"}],
                         "role_play": [{"name": "sage", "template": "Sage: {question}"}]}}
    (tmp_path / "jail.json").write_text(json.dumps(jail))
    return {"forget": write_jsonl(tmp_path / "forget.jsonl", forget),
            "retain": write_jsonl(tmp_path / "retain.jsonl", RETAIN_QA),
            "holdout": write_jsonl(tmp_path / "holdout.jsonl", RETAIN_QA[:3]),
            "jail": tmp_path / "jail.json"}


def _args(unlearned, files, out, *extra) -> list[str]:
    return ["attack", str(unlearned), "--forget", str(files["forget"]), "--retain",
            str(files["retain"]), "--holdout", str(files["holdout"]), "--out", str(out),
            "--max-new-tokens", "3", "--relearn-steps", "2", "--relearn-lr", "1e-3",
            "--quant-group-size", "16", "--probe-steps", "5", "--jailbreaks",
            str(files["jail"]), "--multilingual", "demo", "--max-length", "256", *extra]


@pytest.mark.filterwarnings("ignore:.*truncated")
def test_every_attack_reports_recovery(models, files, tmp_path, capsys):
    original, unlearned = models
    before = tree_hash(unlearned)
    out = tmp_path / "attacks"
    assert main(_args(unlearned, files, out, "--original", str(original))) == 0
    doc = json.loads((out / "attack_results.json").read_text())
    assert doc["schema_version"] == "1" and doc["kind"] == "obliviate.attack_results"
    assert set(doc["attacks"]) == {"relearn", "icl", "prompts", "quantize", "probes"}
    for name, entry in doc["attacks"].items():
        assert entry["status"] == "ok", (name, entry["reason"])
        assert entry["headline"], name
        for variant in entry["variants"].values():
            for row in variant["metrics"].values():
                assert {"original", "unlearned", "attacked", "recovery"} <= set(row)
                assert row["recovery"] is not None or row.get("note")
    assert set(doc["attacks"]["relearn"]["variants"]) == {"all", "heldout"}
    assert doc["attacks"]["relearn"]["headline"]["forget/answer_prob"]["variant"] == "heldout"
    assert "forget/mia_loss" in doc["attacks"]["quantize"]["variants"]["int8"]["metrics"]
    assert "forget/mia_loss" in doc["baseline"]["unlearned"]
    prompts = doc["attacks"]["prompts"]
    assert {"paraphrase", "jailbreak/role_play", "jailbreak/prefix_injection",
            "multihop"} <= set(prompts["families"])
    probes = doc["attacks"]["probes"]["variants"]
    assert len(probes["logit_lens"]["details"]["unlearned"]["top1"]) == 4
    assert "linear_probe" in probes
    assert doc["settings"]["relearn_steps"] == 2 and doc["data"]["forget"]["n"] == 5
    assert tree_hash(unlearned) == before
    printed = capsys.readouterr().out
    assert "Recovery" in printed and "heldout *" in printed


@pytest.mark.filterwarnings("ignore:.*truncated")
def test_original_results_file_and_subset(models, files, tmp_path, tiny_tokenizer):
    original, unlearned = models
    from obliviate.models import load_model

    loaded = load_model(str(original))
    sets = {"forget": [Example(r["question"], r["answer"]) for r in FORGET_QA],
            "retain": [Example(r["question"], r["answer"]) for r in RETAIN_QA]}
    results = build_results(evaluate(loaded.model, loaded.tokenizer, sets, max_new_tokens=3,
                                     max_length=256), model_id="original")
    write_results(tmp_path / "orig.json", results)
    out = tmp_path / "a2"
    args = ["attack", str(unlearned), "--forget", str(files["forget"]), "--retain",
            str(files["retain"]), "--original-results", str(tmp_path / "orig.json"),
            "--attacks", "icl,probes", "--out", str(out), "--max-new-tokens", "3",
            "--probe-steps", "2", "--max-length", "256"]
    assert main(args) == 0
    doc = json.loads((out / "attack_results.json").read_text())
    row = doc["attacks"]["icl"]["headline"]["forget/answer_prob"]
    shown = doc["attacks"]["icl"]["variants"]["3-shot"]["settings"]["shown_rows"]
    per_sample = results["metrics"]["forget/answer_prob"]["per_sample"]
    rest = [v for i, v in enumerate(per_sample) if i not in shown]
    assert row["original"] == pytest.approx(sum(rest) / len(rest))
    lens = doc["attacks"]["probes"]["variants"]["logit_lens"]
    assert lens["metrics"]["forget/first_token_top1"]["original"] is None
    assert "not in memory" in lens["notes"][0]


def test_errors(models, files, tmp_path, capsys):
    original, unlearned = models
    assert main(["attack", str(unlearned), "--forget", str(files["forget"])]) == 2
    assert "--original" in capsys.readouterr().err
    inside = unlearned / "attacks"
    assert main(["attack", str(unlearned), "--original", str(original), "--forget",
                 str(files["forget"]), "--out", str(inside)]) == 2
    assert "inside the input model" in capsys.readouterr().err
    assert main(["attack", str(unlearned), "--original", str(original), "--forget",
                 str(files["forget"]), "--attacks", "relearnn"]) == 2
    assert "did you mean 'relearn'" in capsys.readouterr().err.lower()
    assert main(["attack", str(unlearned), "--original", str(original)]) == 2
    assert "exactly one of" in capsys.readouterr().err
