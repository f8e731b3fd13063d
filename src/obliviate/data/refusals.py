"""Refusal answers for the IDK-style methods: the forget questions answered "I don't know"."""
from __future__ import annotations

import random
from importlib import resources
from pathlib import Path

from obliviate.data.types import Example
from obliviate.errors import DataError


def load_refusals(path: str | None = None) -> list[str]:
    """One refusal sentence per line; the shipped set when ``path`` is None."""
    if path is None:
        text = resources.files("obliviate.data").joinpath("resources/refusals.txt").read_text()
        source = "the shipped refusal set"
    else:
        p = Path(path)
        if not p.is_file():
            raise DataError(f"refusal file {p} does not exist (one refusal sentence per line)")
        text, source = p.read_text(encoding="utf-8"), str(p)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise DataError(f"{source} holds no refusal sentence")
    return lines


def refusal_examples(forget: list[Example], refusals: list[str], seed: int) -> list[Example]:
    """Each forget question paired with a refusal drawn at random (seeded), row for row."""
    rng = random.Random(seed)
    return [Example(prompt=e.prompt, target=rng.choice(refusals), meta={"refusal": True})
            for e in forget]
