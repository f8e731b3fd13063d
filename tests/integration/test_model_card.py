"""The model card of an unlearned model folder (Hugging Face format, checked with
huggingface_hub's own ModelCard) and the push to the Hub, checked on the real HfApi object
without network: the upload calls are recorded instead of sent."""
from __future__ import annotations

import hashlib
import json

import pytest
from huggingface_hub import HfApi, ModelCard
from huggingface_hub.utils import filter_repo_objects

from obliviate.cli import main
from obliviate.reports.hub import push_folder
from obliviate.reports.model_card import model_card_text
from tests.conftest import FORGET_QA


class Recorder:
    """Stands in for the network methods of one real HfApi instance; keeps their arguments."""

    def __init__(self, api: HfApi, monkeypatch) -> None:
        self.calls: list[tuple[str, tuple, dict]] = []
        for name in ("create_repo", "upload_folder"):
            monkeypatch.setattr(api, name, self._record(name))

    def _record(self, name):
        def call(*args, **kwargs):
            self.calls.append((name, args, kwargs))
            return f"https://huggingface.co/recorded/{name}"
        return call


@pytest.fixture
def run_dir(model_dir, data_files, tmp_path):
    out = tmp_path / "ga-run"
    assert main(["run", f"model={model_dir}", f"data.forget={data_files['forget']}",
                 f"data.retain={data_files['retain']}", "method=graddiff",
                 "train.max_steps=2", "train.batch_size=2", "train.lr=1e-3",
                 "eval=before_after", f"output_dir={out}"]) == 0
    return out


def test_run_folder_has_a_hub_model_card(run_dir, data_files):
    card = ModelCard.load(run_dir / "README.md")
    assert set(card.data.tags) == {"unlearning", "obliviate", "graddiff"}
    assert card.data.base_model is None  # a local folder has no Hub id
    assert card.text.lstrip().startswith("# ga-run\n")  # the final name, not the temporary one
    sha = hashlib.sha256(data_files["forget"].read_bytes()).hexdigest()
    assert f"| forget | `forget.jsonl` | qa | {len(FORGET_QA)} | `{sha}` |" in card.text
    results = json.loads((run_dir / "results.json").read_text())
    entry = results["metrics"]["forget/answer_prob"]
    assert f"| forget/answer_prob | " in card.text and "## How to reproduce" in card.text
    assert "\"max_steps\": 2" in card.text and "method: `graddiff`" in card.text
    row = next(line for line in card.text.splitlines() if line.startswith("| forget/answer_prob"))
    assert row.count("[") == 2, "before and after both carry their interval"
    assert f"{entry['value']:.4g}" in row
    assert not any(qa["answer"] in card.text for qa in FORGET_QA), "the card leaks the data"


def test_card_shows_attacks_given_to_push(run_dir, tmp_path, monkeypatch):
    attacks = {"kind": "obliviate.attack_results", "attacks": {"relearn": {"headline": {
        "forget/answer_prob": {"original": 0.8, "unlearned": 0.2, "attacked": 0.5,
                               "recovery": 0.5}}}}}
    row = "| relearn | forget/answer_prob | 0.8 | 0.2 | 0.5 | 0.5 |"
    assert row not in model_card_text(run_dir)
    source = tmp_path / "attack-run" / "attack_results.json"
    source.parent.mkdir()
    source.write_text(json.dumps(attacks))
    api = HfApi()
    Recorder(api, monkeypatch)
    push_folder(run_dir, "my-org/ga-run", api=api, attacks=source)
    assert row in (run_dir / "README.md").read_text()
    assert json.loads((run_dir / "attack_results.json").read_text()) == attacks


def test_push_uploads_folder_and_card(run_dir, monkeypatch):
    api = HfApi()
    recorder = Recorder(api, monkeypatch)
    (run_dir / ".README.md.tmp-1").write_text("half-written")
    (run_dir / "README.md").unlink()  # the push writes the card when it is missing
    push_folder(run_dir, "my-org/ga-run", private=True, api=api)
    assert [c[0] for c in recorder.calls] == ["create_repo", "upload_folder"]
    _, args, kwargs = recorder.calls[0]
    assert args == ("my-org/ga-run",) and kwargs["private"] is True
    assert kwargs["exist_ok"] is True and kwargs["repo_type"] == "model"
    _, _, kwargs = recorder.calls[1]
    assert kwargs["folder_path"] == str(run_dir) and kwargs["repo_id"] == "my-org/ga-run"
    files = {p.relative_to(run_dir).as_posix() for p in run_dir.rglob("*") if p.is_file()}
    sent = set(filter_repo_objects(files, ignore_patterns=kwargs["ignore_patterns"]))
    assert {"README.md", "model.safetensors", "config.json", "tokenizer.json", "results.json",
            "run.json", "run_config.yaml"} <= sent
    assert ".README.md.tmp-1" not in sent
    assert "obliviate" in ModelCard.load(run_dir / "README.md").data.tags


def test_push_keeps_a_card_someone_else_wrote(run_dir, monkeypatch):
    api = HfApi()
    Recorder(api, monkeypatch)
    (run_dir / "README.md").write_text("---\nlicense: mit\n---\n# My own card\n")
    push_folder(run_dir, "my-org/ga-run", api=api)
    assert (run_dir / "README.md").read_text().endswith("# My own card\n")


def test_run_push_to_hub_and_push_errors(model_dir, data_files, tmp_path, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(HfApi, "create_repo", lambda self, *a, **k: calls.append(("repo", a)))
    monkeypatch.setattr(HfApi, "upload_folder",
                        lambda self, **k: calls.append(("upload", k["folder_path"])))
    out = tmp_path / "pushed"
    assert main(["run", f"model={model_dir}", f"data.forget={data_files['forget']}",
                 "train.max_steps=1", f"output_dir={out}", "push_to_hub=org/pushed"]) == 0
    assert calls == [("repo", ("org/pushed",)), ("upload", str(out))]
    assert main(["push", str(out), "not a repo"]) == 2
    assert "org/name" in capsys.readouterr().err
    assert main(["push", str(tmp_path), "org/x"]) == 2
    assert "not a model folder" in capsys.readouterr().err
    assert main(["run", f"model={model_dir}", f"data.forget={data_files['forget']}",
                 f"output_dir={tmp_path / 'y'}", "push_to_hub=nope"]) == 2
    assert "push_to_hub must be" in capsys.readouterr().err


def test_push_offline_is_a_clear_error(run_dir, monkeypatch, capsys):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    assert main(["push", str(run_dir), "org/offline"]) == 2
    err = capsys.readouterr().err
    assert "could not push" in err and "Traceback" not in err
