"""Forget / retain / holdout sets: readers, formats, tokenization with label masking, collation."""
from obliviate.data.collate import collate
from obliviate.data.loading import file_hash, load_examples, load_tokenized
from obliviate.data.readers import read_records
from obliviate.data.spec import DataSpec
from obliviate.data.tokenize import render_prompt, tokenize_examples
from obliviate.data.types import IGNORE_INDEX, Batch, Example, TokenizedExample

__all__ = [
    "IGNORE_INDEX",
    "Batch",
    "DataSpec",
    "Example",
    "TokenizedExample",
    "collate",
    "file_hash",
    "load_examples",
    "load_tokenized",
    "read_records",
    "render_prompt",
    "tokenize_examples",
]
