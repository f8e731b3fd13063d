"""Load a data set described by a :class:`DataSpec`: read, format, tokenize, hash."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from obliviate.data.formats import to_examples
from obliviate.data.readers import HF_PREFIX, read_located
from obliviate.data.spec import DataSpec
from obliviate.data.tokenize import tokenize_examples
from obliviate.data.types import Example, TokenizedExample
from obliviate.errors import DataError


def load_examples(spec: DataSpec | str | dict[str, Any]) -> list[Example]:
    """Read the records of ``spec.path`` and turn them into examples of ``spec.format``."""
    spec = DataSpec.from_value(spec)
    return to_examples(read_located(spec.path), spec)


def load_tokenized(
    spec: DataSpec | str | dict[str, Any], tokenizer: Any, max_length: int
) -> list[TokenizedExample]:
    """:func:`load_examples`, then tokenize with label masking (see :mod:`.tokenize`)."""
    spec = DataSpec.from_value(spec)
    return tokenize_examples(load_examples(spec), tokenizer, max_length, spec.format)


def file_hash(path: str) -> str:
    """SHA-256 hex digest of the file's bytes, or of the id string for an ``hf:`` data set."""
    if path.startswith(HF_PREFIX):
        return hashlib.sha256(path.encode("utf-8")).hexdigest()
    file = Path(path).expanduser()
    if not file.is_file():
        raise DataError(f"data file {path} does not exist; cannot hash it.")
    digest = hashlib.sha256()
    with open(file, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
