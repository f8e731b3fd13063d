"""The demo's shipped sets (facts in our own words, no text from the books) and its suite.

- forget: Harry Potter questions and short passages;
- probes: a paraphrase of every forget question (the knowledge must go, not one phrasing);
- retain: hard neighbours (other fantasy series) and general knowledge the model gets right;
- holdout: Harry-Potter-free questions of the same style, for membership inference.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

from obliviate.data import DataSpec

FILES = {"forget": ("forget_qa.jsonl", "qa"), "forget_text": ("forget_text.jsonl", "text"),
         "probes": ("probes.jsonl", "qa"), "retain": ("retain_qa.jsonl", "qa"),
         "holdout": ("holdout_qa.jsonl", "qa")}


def demo_dir() -> Path:
    return Path(str(resources.files("obliviate.data.benchmarks").joinpath("demo")))


def demo_spec(name: str, limit: int | None = None) -> DataSpec:
    """The DataSpec of shipped set ``name`` (see :data:`FILES`)."""
    file, fmt = FILES[name]
    return DataSpec(str(demo_dir() / file), format=fmt, limit=limit)


def demo_suite(fluency_options: dict | None = None) -> list[tuple]:
    """Keyword accuracy of greedy answers and mean answer probability on forget, probes, retain
    and holdout (questions no method trains on: utility on unseen data); fluency of the retain
    answers; LOSS membership inference forget vs holdout."""
    entries: list[tuple] = []
    for name in ("forget", "probes", "retain", "holdout"):
        entries += [("keyword_accuracy", name), ("answer_prob", name)]
    entries.append(("fluency", "retain", dict(fluency_options or {})))
    entries.append(("mia_loss", "forget"))
    return entries
