"""load_model / save_model on tiny models saved to tmp_path (no network, no real model)."""
import json
from pathlib import Path

import pytest
import torch
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

from obliviate.errors import ModelError
from obliviate.models import LoadedModel, build_tiny_model, load_model, save_model

WORDS = ["<unk>", "<eos>", "the", "cat", "sat", "on", "mat", "a", "dog", "ran"]


def tiny_tokenizer(with_pad: bool = False) -> PreTrainedTokenizerFast:
    """A WordLevel tokenizer over WORDS; eos only unless ``with_pad``."""
    vocab = {w: i for i, w in enumerate(WORDS + (["<pad>"] if with_pad else []))}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    extra = {"pad_token": "<pad>"} if with_pad else {}
    return PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="<unk>", eos_token="<eos>", **extra)


@pytest.fixture
def tiny_dir(tmp_path: Path) -> Path:
    out = tmp_path / "tiny"
    save_model(build_tiny_model(len(WORDS), seed=0), tiny_tokenizer(), out)
    return out


def _logits(model, tokenizer, text: str = "the cat sat on the mat") -> torch.Tensor:
    batch = tokenizer(text, return_tensors="pt")
    with torch.no_grad():
        return model(**batch).logits


def test_load_local_dir(tiny_dir):
    loaded = load_model(str(tiny_dir), device="cpu", dtype="fp32")
    assert isinstance(loaded, LoadedModel) and loaded.source == "local"
    assert not loaded.model.training
    assert loaded.tokenizer.pad_token == "<eos>"  # no pad token: falls back to eos
    assert loaded.model.config.pad_token_id == loaded.tokenizer.eos_token_id
    reference = build_tiny_model(len(WORDS), seed=0)
    assert torch.allclose(_logits(loaded.model, loaded.tokenizer), _logits(reference, loaded.tokenizer))
    assert (tiny_dir / "model.safetensors").is_file()


def test_weights_hash_is_stable_and_tracks_weights(tiny_dir, tmp_path):
    first = load_model(str(tiny_dir), device="cpu").weights_hash
    assert first.startswith("files:") and first == load_model(tiny_dir, device="cpu").weights_hash
    other = tmp_path / "other"
    save_model(build_tiny_model(len(WORDS), seed=1), tiny_tokenizer(), other)
    assert load_model(str(other), device="cpu").weights_hash != first


def test_load_in_bfloat16(tiny_dir):
    loaded = load_model(str(tiny_dir), device="cpu", dtype="bf16")
    assert next(loaded.model.parameters()).dtype == torch.bfloat16


def test_existing_pad_token_is_kept(tmp_path):
    out = tmp_path / "padded"
    save_model(build_tiny_model(len(WORDS) + 1), tiny_tokenizer(with_pad=True), out)
    loaded = load_model(str(out), device="cpu")
    assert loaded.tokenizer.pad_token == "<pad>"
    assert loaded.model.config.pad_token_id == len(WORDS)


def test_peft_adapter_dir(tiny_dir, tmp_path):
    from peft import LoraConfig, get_peft_model

    tokenizer = tiny_tokenizer()
    base = build_tiny_model(len(WORDS), seed=0)
    peft_model = get_peft_model(base, LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    peft_model.peft_config["default"].base_model_name_or_path = str(tiny_dir)
    adapter_dir = tmp_path / "adapter"
    save_model(peft_model, None, adapter_dir)
    assert (adapter_dir / "adapter_config.json").is_file() and not (adapter_dir / "config.json").exists()

    loaded = load_model(str(adapter_dir), device="cpu")
    assert loaded.source == "adapter" and loaded.weights_hash.startswith("combined:")
    expected = _logits(peft_model.eval(), tokenizer)
    assert torch.allclose(_logits(loaded.model, loaded.tokenizer), expected, atol=1e-6)
    plain = _logits(build_tiny_model(len(WORDS), seed=0), tokenizer)
    assert not torch.allclose(expected, plain)  # the adapter really changed the outputs
    assert not any(p.requires_grad for p in loaded.model.parameters())
    trainable = load_model(str(adapter_dir), device="cpu", adapter_trainable=True).model
    assert any(p.requires_grad for n, p in trainable.named_parameters() if "lora" in n)


def test_adapter_without_base_reference(tmp_path):
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA"}))
    with pytest.raises(ModelError, match="base_model_name_or_path"):
        load_model(str(adapter), device="cpu")


def test_non_causal_model_is_refused(tmp_path):
    config = BertConfig(vocab_size=len(WORDS), hidden_size=16, num_hidden_layers=1,
                        num_attention_heads=2, intermediate_size=32)
    out = tmp_path / "bert"
    save_model(BertModel(config), tiny_tokenizer(), out)
    with pytest.raises(ModelError, match="not a causal language model"):
        load_model(str(out), device="cpu")


def test_missing_path_says_what_was_tried(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelError) as err:
        load_model("no-such-model-dir", device="cpu")
    message = str(err.value)
    assert "neither a local path" in message and "hub id" in message and "HF_HUB_OFFLINE" in message
    with pytest.raises(ModelError, match="not found"):
        load_model(str(tmp_path / "nested" / "missing"), device="cpu")


def test_directory_without_model_files(tmp_path):
    with pytest.raises(ModelError, match="config.json"):
        load_model(str(tmp_path), device="cpu")


def test_non_gguf_file_is_refused(tmp_path):
    path = tmp_path / "weights.txt"
    path.write_text("hello")
    with pytest.raises(ModelError, match="not a .gguf"):
        load_model(str(path), device="cpu")
