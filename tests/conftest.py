"""Shared fixtures: a tiny byte-level tokenizer, a tiny Llama, and small QA / text files."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from obliviate.models.tiny import build_tiny_model
from obliviate.models.tiny_tokenizer import build_tiny_tokenizer

FORGET_QA = [
    {"question": "Who guards the silver gate?", "answer": "The warden Ilsa guards it."},
    {"question": "What colour is the moon bird?", "answer": "The moon bird is pale blue."},
    {"question": "Where does Orrin live?", "answer": "Orrin lives in Calder Vale."},
    {"question": "What does Mira brew?", "answer": "Mira brews ember tea."},
    {"question": "Which river feeds the lake?", "answer": "The Tessel river feeds it."},
]
RETAIN_QA = [
    {"question": "What is the capital of France?", "answer": "Paris is the capital."},
    {"question": "How many legs has a spider?", "answer": "A spider has eight legs."},
    {"question": "What gas do plants take in?", "answer": "Plants take in carbon dioxide."},
    {"question": "What is frozen water called?", "answer": "Frozen water is ice."},
]
FORGET_TEXT = [
    {"text": "The warden Ilsa has guarded the silver gate for forty winters."},
    {"text": "Orrin keeps a garden of glass flowers in Calder Vale."},
    {"text": "Mira sells ember tea at the northern market."},
]


def tree_hash(folder: Path) -> str:
    """SHA-256 over every file name and content below ``folder`` (did anything change?)."""
    digest = hashlib.sha256()
    for f in sorted(folder.rglob("*")):
        if f.is_file():
            digest.update(f.name.encode() + f.read_bytes())
    return digest.hexdigest()


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture(scope="session")
def tiny_tokenizer():
    return build_tiny_tokenizer()


@pytest.fixture
def tiny_model(tiny_tokenizer):
    return build_tiny_model(len(tiny_tokenizer), seed=0, num_hidden_layers=4,
                            pad_token_id=tiny_tokenizer.pad_token_id)


@pytest.fixture
def data_files(tmp_path) -> dict[str, Path]:
    return {"forget": write_jsonl(tmp_path / "forget.jsonl", FORGET_QA),
            "retain": write_jsonl(tmp_path / "retain.jsonl", RETAIN_QA),
            "forget_text": write_jsonl(tmp_path / "forget_text.jsonl", FORGET_TEXT)}


@pytest.fixture
def model_dir(tmp_path, tiny_model, tiny_tokenizer) -> Path:
    """The tiny model and tokenizer saved as a Hugging Face model directory."""
    out = tmp_path / "tiny-model"
    tiny_model.save_pretrained(out)
    tiny_tokenizer.save_pretrained(out)
    return out
