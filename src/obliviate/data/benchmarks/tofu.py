"""TOFU: Task of Fictitious Unlearning (Maini et al., 2024, https://arxiv.org/abs/2401.06121).

200 fictitious authors with 20 QA pairs each; the forget set is the last 1, 5 or 10% of the
authors and the matching retainNN set the rest. The hub data set ``locuslab/TOFU`` has one config
per file, each with a single ``train`` split. A local folder holding ``<config>.json`` (or
``.jsonl``) files in the same schema - a hub snapshot, or the output of
:func:`obliviate.data.benchmarks.synthetic.write_synthetic` - loads the same way.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from obliviate.data.benchmarks._io import (
    check_records, find_file, load_hub, local_folder, read_json_any)
from obliviate.data.types import Example
from obliviate.errors import ConfigError

HUB_ID = "locuslab/TOFU"
HUB_SPLIT = "train"

_QA: dict[str, Any] = {"question": str, "answer": str}
_PERTURBED: dict[str, Any] = {**_QA, "paraphrased_question": str, "paraphrased_answer": str,
                              "perturbed_answer": ("list", 5)}
_OPTIONS: dict[str, Any] = {"question": str, "option1": str, "option2": str, "option3": str,
                            "option4": str, "answer": str}
_CONTROL_PERTURBED: dict[str, Any] = {**_QA, "perturbed_answer": ("list", 3)}

#: Every published config and the fields each of its records must carry.
CONFIG_FIELDS: dict[str, dict[str, Any]] = {
    **{name: _QA for name in ("full", "retain90", "retain95", "retain99", "forget01", "forget05",
                              "forget10", "holdout01", "holdout05", "holdout10")},
    **{name: _PERTURBED for name in ("forget01_perturbed", "forget05_perturbed",
                                     "forget10_perturbed", "retain_perturbed")},
    "real_authors": _OPTIONS,
    "world_facts": _OPTIONS,
    "real_authors_perturbed": _CONTROL_PERTURBED,
    "world_facts_perturbed": _CONTROL_PERTURBED,
}

#: forget split -> the retain split holding every other author.
RETAIN_OF = {"forget01": "retain99", "forget05": "retain95", "forget10": "retain90"}
SPLITS = tuple(RETAIN_OF)


@dataclass(frozen=True)
class TofuData:
    """One TOFU split and its evaluation sets, as :class:`Example` lists (prompt = question,
    target = answer, meta = every other field). ``*_perturbed`` examples carry
    ``paraphrased_answer`` and ``perturbed_answer`` in meta; for the two control sets, which
    publish no paraphrase, ``paraphrased_answer`` is the answer itself, as TOFU scores them."""

    split: str
    forget: list[Example]
    retain: list[Example]
    holdout: list[Example]
    forget_perturbed: list[Example]
    retain_perturbed: list[Example]
    real_authors: list[Example]
    real_authors_perturbed: list[Example]
    world_facts: list[Example]
    world_facts_perturbed: list[Example]
    source: str = field(default="")


def load_tofu_config(source: str | Path, config: str) -> list[dict[str, Any]]:
    """Records of one TOFU config, checked against its published fields.

    ``source`` is the hub id (``locuslab/TOFU``) or a folder holding ``<config>.json`` or
    ``<config>.jsonl`` (a JSON array, JSON lines, or one JSON array per line). Raises
    :class:`DataError` naming the file, config, record and field on a schema mismatch."""
    fields = _fields_of(config)
    folder = local_folder(source)
    if folder is None:
        records = load_hub(str(source), config, HUB_SPLIT)
        where = f"TOFU config {config!r} ({source}, split {HUB_SPLIT!r})"
    else:
        file = find_file(folder, config, (".json", ".jsonl"))
        records = read_json_any(file)
        where = f"TOFU config {config!r} (file {file})"
    return check_records(records, fields, where)


def load_tofu(source: str | Path = HUB_ID, split: str = "forget10") -> TofuData:
    """Load a TOFU forget split with its matching retain split, holdout and evaluation sets."""
    if split not in RETAIN_OF:
        raise ConfigError(f"unknown TOFU split {split!r}{_hint(split, SPLITS)}. "
                          f"Choose one of {', '.join(SPLITS)}.")
    pct = split[len("forget"):]

    def part(config: str) -> list[Example]:
        return [to_example(r) for r in load_tofu_config(source, config)]

    return TofuData(
        split=split,
        forget=part(split),
        retain=part(RETAIN_OF[split]),
        holdout=part(f"holdout{pct}"),
        forget_perturbed=part(f"{split}_perturbed"),
        retain_perturbed=part("retain_perturbed"),
        real_authors=part("real_authors"),
        real_authors_perturbed=part("real_authors_perturbed"),
        world_facts=part("world_facts"),
        world_facts_perturbed=part("world_facts_perturbed"),
        source=str(source),
    )


def to_example(record: dict[str, Any]) -> Example:
    """prompt = question, target = answer, meta = the other fields (plus ``paraphrased_answer``
    = answer when the record has perturbed answers but no paraphrase)."""
    meta = {k: v for k, v in record.items() if k not in ("question", "answer")}
    if "perturbed_answer" in meta and "paraphrased_answer" not in meta:
        meta["paraphrased_answer"] = record["answer"]
    return Example(prompt=record["question"], target=record["answer"], meta=meta)


def _fields_of(config: str) -> dict[str, Any]:
    if config not in CONFIG_FIELDS:
        raise ConfigError(f"unknown TOFU config {config!r}{_hint(config, CONFIG_FIELDS)}. "
                          f"Known: {', '.join(CONFIG_FIELDS)}.")
    return CONFIG_FIELDS[config]


def _hint(name: str, known: Any) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
