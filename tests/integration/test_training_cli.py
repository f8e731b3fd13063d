"""`obliviate run` with the new training options on a tiny model saved to disk: Sophia, LoRA
(adapter and merged output, loaded back with load_model), localisation and one-shot methods."""
from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file

from obliviate.cli import main
from obliviate.models import load_model



def _run(model_dir: Path, files: dict, out: Path, *extra: str) -> int:
    return main(["run", f"model={model_dir}", f"data.forget={files['forget']}",
                 f"data.retain={files['retain']}", "train.max_steps=2", "train.batch_size=2",
                 "train.lr=1e-3", f"output_dir={out}", *extra])


def test_sophia_with_npo(model_dir, data_files, tmp_path):
    out = tmp_path / "sophia"
    assert _run(model_dir, data_files, out, "optimizer=sophia", "method=npo",
                "optimizer_args.update_interval=1") == 0
    steps = [json.loads(line) for line in (out / "steps.jsonl").read_text().splitlines()]
    assert len(steps) == 2 and all("forget_loss" in s for s in steps)
    assert load_model(str(out), device="cpu").source == "local"


def test_lora_adapter_output_loads_with_its_base(model_dir, data_files, tmp_path):
    out = tmp_path / "lora"
    assert _run(model_dir, data_files, out, "method=ga_kl", "lora.enabled=true", "lora.r=4",
                "train.lr=1e-2") == 0
    names = {p.name for p in out.iterdir()}
    assert {"adapter_config.json", "adapter_model.safetensors"} <= names
    assert "model.safetensors" not in names
    config = json.loads((out / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == str(model_dir.resolve()) and config["r"] == 4
    loaded = load_model(str(out), device="cpu")
    base = load_model(str(model_dir), device="cpu")
    ids = torch.tensor([[3, 40, 41, 42, 43]])
    with torch.no_grad():
        assert not torch.allclose(loaded.model(input_ids=ids).logits, base.model(input_ids=ids).logits)
    assert json.loads((out / "run.json").read_text())["lora"] is True


def test_lora_merged_output_is_a_full_model(model_dir, data_files, tmp_path):
    out = tmp_path / "merged"
    assert _run(model_dir, data_files, out, "method=npo", "lora.enabled=true",
                "lora.target_modules=all-linear", "lora.merge=true") == 0
    assert (out / "model.safetensors").exists() and not (out / "adapter_config.json").exists()
    assert not any("lora" in k for k in load_file(out / "model.safetensors"))
    assert load_model(str(out), device="cpu").source == "local"


def test_localize_keeps_other_weights_bit_identical(model_dir, data_files, tmp_path):
    out = tmp_path / "local"
    assert _run(model_dir, data_files, out, "method=graddiff", r"localize.modules=layers\.1\.mlp",
                "localize.saliency=0.2", "train.weight_decay=0.1", "train.lr=1e-2") == 0
    before, after = load_file(model_dir / "model.safetensors"), load_file(out / "model.safetensors")
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed and all("layers.1.mlp" in k for k in changed)
    run = json.loads((out / "run.json").read_text())
    assert 0 < run["saliency_kept_weights"] <= 0.2 * run["trainable_parameters"] + 1


def test_task_vector_run_records_the_reinforced_stage(model_dir, data_files, tmp_path):
    out = tmp_path / "tv"
    assert _run(model_dir, data_files, out, "method=task_vector", "method_args.reinforce_steps=2",
                "method_args.search=true") == 0
    run = json.loads((out / "run.json").read_text())
    assert run["steps"] == 0 and run["reinforce_steps"] == 2 and "scale" in run["method_info"]


def test_lora_flags_without_enabled_is_a_user_error(model_dir, data_files, tmp_path, capsys):
    assert _run(model_dir, data_files, tmp_path / "x", "method=ga", "lora.r=4") == 2
    assert "lora.enabled=true" in capsys.readouterr().err
