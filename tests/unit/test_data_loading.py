"""load_tokenized end to end and file hashes."""
import hashlib
import json

import pytest

from obliviate.data import DataSpec, file_hash, load_tokenized
from obliviate.errors import DataError


class CharTokenizer:
    """A stand-in tokenizer: one id per character, EOS 0, no BOS, no chat template."""

    eos_token_id, bos_token_id, chat_template = 0, None, None

    def __call__(self, text, add_special_tokens=True):
        return {"input_ids": [ord(c) for c in text]}


def test_load_tokenized(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps({"question": "q", "answer": "ab"}) + "\n")
    (item,) = load_tokenized(DataSpec(str(path)), CharTokenizer(), max_length=64)
    prompt = [ord(c) for c in "Question: q\nAnswer: "]
    assert item.input_ids == prompt + [97, 98, 0]
    assert item.labels == [-100] * len(prompt) + [97, 98, 0]


def test_file_hash(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_bytes(b"abc")
    assert file_hash(str(path)) == hashlib.sha256(b"abc").hexdigest()
    assert file_hash("hf:org/x") == hashlib.sha256(b"hf:org/x").hexdigest()
    with pytest.raises(DataError, match="does not exist"):
        file_hash(str(tmp_path / "missing.jsonl"))
