"""Padding worked out by hand."""
import pytest
import torch

from obliviate.data import Example, TokenizedExample, collate

A = TokenizedExample([5, 6, 7], [-100, 6, 7], Example("p", "t"))
B = {"input_ids": [8, 9], "labels": [-100, 9], "ref_logp": -1.5}


def test_right_padding():
    batch = collate([A, {"input_ids": [8], "labels": [8]}], pad_token_id=0)
    assert batch["input_ids"].tolist() == [[5, 6, 7], [8, 0, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    assert batch["labels"].tolist() == [[-100, 6, 7], [8, -100, -100]]
    assert batch["input_ids"].dtype == torch.long


def test_left_padding_and_extras():
    a = {"input_ids": A.input_ids, "labels": A.labels, "ref_logp": -2.0, "note": "kept out"}
    batch = collate([a, B], pad_token_id=1, padding_side="left")
    assert batch["input_ids"].tolist() == [[5, 6, 7], [1, 8, 9]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [0, 1, 1]]
    assert batch["labels"].tolist() == [[-100, 6, 7], [-100, -100, 9]]
    assert batch["ref_logp"].dtype == torch.float32
    assert batch["ref_logp"].tolist() == [-2.0, -1.5]
    assert "note" not in batch


def test_extra_missing_in_some_items():
    with pytest.raises(ValueError, match="ref_logp"):
        collate([B, {"input_ids": [1], "labels": [1]}], pad_token_id=0)
