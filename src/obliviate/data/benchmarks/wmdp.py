"""WMDP: the Weapons of Mass Destruction Proxy benchmark (Li et al., 2024,
https://arxiv.org/abs/2403.03218), with MMLU (Hendrycks et al., 2021,
https://arxiv.org/abs/2009.03300) subsets as the utility check.

Multiple-choice questions come from the hub (``cais/wmdp``, configs ``wmdp-bio``, ``wmdp-chem``,
``wmdp-cyber``; ``cais/mmlu``, config = a subject or ``all``; split ``test``) or from a local
folder holding ``<config>.jsonl``/``.json``/``.parquet`` (MMLU: ``mmlu/<subject>.jsonl``). The
forget and retain corpora (WMDP's bio/cyber forget and retain corpora) are local JSONL files
with a ``text`` field.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from obliviate.data.benchmarks._io import (
    check_records, check_texts, find_file, load_hub, local_folder, read_json_any, read_table)
from obliviate.data.types import Example
from obliviate.errors import ConfigError, DataError

WMDP_HUB_ID = "cais/wmdp"
MMLU_HUB_ID = "cais/mmlu"
WMDP_CONFIGS = ("wmdp-bio", "wmdp-chem", "wmdp-cyber")
SPLIT = "test"
_EXTS = (".jsonl", ".json", ".parquet")
_MC = {"question": str, "choices": ("list", 4), "answer": "index"}


@dataclass(frozen=True)
class WmdpData:
    """WMDP questions per config, the optional forget/retain corpora (raw text Examples) and
    the MMLU utility questions."""

    questions: dict[str, list[Example]]
    forget: list[Example] = field(default_factory=list)
    retain: list[Example] = field(default_factory=list)
    mmlu: list[Example] = field(default_factory=list)


def load_wmdp_config(source: str | Path, config: str) -> list[Example]:
    """One WMDP config as multiple-choice Examples: prompt = question, target = the right
    choice, meta = {"choices", "answer" (index), "subject" (the config)}."""
    if config not in WMDP_CONFIGS:
        raise ConfigError(f"unknown WMDP config {config!r}; choose from {', '.join(WMDP_CONFIGS)}.")
    records, where = _mc_records(source, config, ".")
    return [_choice_example(r, config) for r in check_records(records, _MC, where)]


def load_mmlu(source: str | Path = MMLU_HUB_ID,
              subjects: Sequence[str] = ("all",)) -> list[Example]:
    """MMLU questions of ``subjects`` (hub configs, or ``mmlu/<subject>.*`` files locally;
    ``all`` locally reads ``mmlu/all.*`` or else every file in ``mmlu/``)."""
    examples: list[Example] = []
    for subject in subjects:
        for records, where in _mmlu_parts(source, subject):
            checked = check_records(records, {**_MC, "subject": str}, where)
            examples += [_choice_example(r, r["subject"] or subject) for r in checked]
    return examples


def load_corpus(path: str | Path, text_field: str = "text") -> list[Example]:
    """A forget or retain corpus (JSONL, one record with a ``text`` field per line) as raw
    text Examples (prompt empty, target the text, meta the other fields)."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise DataError(f"corpus file {path} does not exist; WMDP's corpora are JSONL files "
                        f"with a {text_field!r} field.")
    records = read_json_any(file)
    texts = check_texts(records, f"corpus {file}", text_field)
    return [Example("", text, {k: v for k, v in r.items() if k != text_field}
                    if isinstance(r, dict) else {}) for text, r in zip(texts, records)]


def load_wmdp(source: str | Path = WMDP_HUB_ID, configs: Sequence[str] = WMDP_CONFIGS,
              forget_corpus: str | Path | None = None, retain_corpus: str | Path | None = None,
              mmlu_source: str | Path | None = None,
              mmlu_subjects: Sequence[str] = ("all",)) -> WmdpData:
    """The WMDP questions of ``configs``, plus the corpora and MMLU subsets when given."""
    return WmdpData(
        questions={c: load_wmdp_config(source, c) for c in configs},
        forget=load_corpus(forget_corpus) if forget_corpus else [],
        retain=load_corpus(retain_corpus) if retain_corpus else [],
        mmlu=load_mmlu(mmlu_source, mmlu_subjects) if mmlu_source else [],
    )


def _mc_records(source: str | Path, config: str, subdir: str) -> tuple[list[Any], str]:
    folder = local_folder(source)
    if folder is None:
        return load_hub(str(source), config, SPLIT), f"{source} config {config!r} split {SPLIT!r}"
    file = find_file(folder / subdir, config, _EXTS)
    return read_table(file), f"config {config!r} (file {file})"


def _mmlu_parts(source: str | Path, subject: str) -> list[tuple[list[Any], str]]:
    folder = local_folder(source)
    if folder is None or subject != "all":
        sub = "mmlu" if folder is not None and (folder / "mmlu").is_dir() else "."
        return [_mc_records(source, subject, sub)]
    base = folder / "mmlu" if (folder / "mmlu").is_dir() else folder
    if any((base / f"all{ext}").is_file() for ext in _EXTS):
        return [_mc_records(base, "all", ".")]
    files = sorted(f for f in base.iterdir() if f.suffix in _EXTS)
    if not files:
        raise DataError(f"{base} holds no MMLU files (<subject>.jsonl/.json/.parquet).")
    return [(read_table(f), f"MMLU file {f}") for f in files]


def _choice_example(record: dict[str, Any], subject: str) -> Example:
    choices = list(record["choices"])
    meta = {"choices": choices, "answer": record["answer"], "subject": subject}
    return Example(record["question"], choices[record["answer"]], meta)
