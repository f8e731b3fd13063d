"""MUSE: Machine Unlearning Six-way Evaluation (Shi et al., 2024, https://arxiv.org/abs/2407.06460).

Two corpora, News (BBC articles) and Books (Harry Potter), hub ``muse-bench/MUSE-News`` and
``muse-bench/MUSE-Books``. What is loaded here, per hub config and split:

===========  ==========================================  ====================================
config       hub splits (fields)                         local file (under the source folder)
===========  ==========================================  ====================================
raw          forget, retain1, retain2, holdout (text)     raw/<split>.json, array of strings
knowmem      forget_qa, retain_qa, forget_qa_icl,         knowmem/forget_qa.json,
             retain_qa_icl (question, answer)             knowmem/retain2_qa.json (+ ``_icl``)
verbmem      forget (prompt, gt)                          verbmem/forget.json
privleak     forget, retain, holdout (text)               privleak/{forget,retain2,holdout}.json
===========  ==========================================  ====================================

Local retain files may also be named as on the hub (``knowmem/retain_qa.json``,
``privleak/retain.json``). Evaluation needs only knowmem / verbmem / privleak; the raw corpora
are for training, so ``raw=None`` (default) loads them when a local folder has them and leaves
them empty otherwise, ``raw=True`` requires them (training) and ``raw=False`` skips them. The hub's ``train``, ``scal`` and ``sust`` configs are not loaded.
The hub path cannot be exercised offline; it is tested with a stand-in for ``load_dataset``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from obliviate.data.benchmarks._io import (
    check_records, check_texts, find_file, load_hub, local_folder, read_json_any)
from obliviate.data.types import Example

HUB_IDS = {"news": "muse-bench/MUSE-News", "books": "muse-bench/MUSE-Books"}

# (hub config, hub split) -> local stems tried in order, relative to the source folder.
_LOCAL = {
    ("raw", "forget"): ["raw/forget"],
    ("raw", "retain1"): ["raw/retain1"],
    ("raw", "retain2"): ["raw/retain2"],
    ("raw", "holdout"): ["raw/holdout"],
    ("knowmem", "forget_qa"): ["knowmem/forget_qa"],
    ("knowmem", "forget_qa_icl"): ["knowmem/forget_qa_icl"],
    ("knowmem", "retain_qa"): ["knowmem/retain2_qa", "knowmem/retain_qa"],
    ("knowmem", "retain_qa_icl"): ["knowmem/retain2_qa_icl", "knowmem/retain_qa_icl"],
    ("verbmem", "forget"): ["verbmem/forget"],
    ("privleak", "forget"): ["privleak/forget"],
    ("privleak", "retain"): ["privleak/retain2", "privleak/retain"],
    ("privleak", "holdout"): ["privleak/holdout"],
}


@dataclass(frozen=True)
class MuseData:
    """The MUSE sets as :class:`Example` lists.

    Raw text (forget, retain1, retain2, holdout, privleak_*) has an empty prompt and the passage
    as target. knowmem_* are QA pairs whose meta["icl"] is the few-shot list of
    {question, answer} to put before the question. verbmem has the passage prefix as prompt and
    its true continuation (``gt``) as target."""

    forget: list[Example]
    retain1: list[Example]
    retain2: list[Example]
    holdout: list[Example]
    knowmem_forget: list[Example]
    knowmem_retain: list[Example]
    verbmem: list[Example]
    privleak_forget: list[Example]
    privleak_retain: list[Example]
    privleak_holdout: list[Example]
    source: str = ""


def load_muse(source: str | Path = HUB_IDS["news"], raw: bool | None = None) -> MuseData:
    """Load MUSE from a hub id, ``"news"``/``"books"``, or a local folder (layout above);
    ``raw`` says whether the raw training corpora are required (see the module docstring)."""
    source = HUB_IDS.get(str(source).lower(), source)
    folder = local_folder(source)

    def get(config: str, split: str) -> tuple[list[Any], str]:
        return _records(source, folder, config, split)

    def text(config: str, split: str) -> list[Example]:
        records, where = get(config, split)
        return [Example("", t) for t in check_texts(records, where)]

    if raw is None:
        raw = folder is None or _has_raw(folder)
    corpora = {n: text("raw", n) if raw else [] for n in ("forget", "retain1", "retain2",
                                                          "holdout")}
    return MuseData(
        **corpora,
        knowmem_forget=_knowmem(get, "forget_qa"), knowmem_retain=_knowmem(get, "retain_qa"),
        verbmem=_verbmem(*get("verbmem", "forget")),
        privleak_forget=text("privleak", "forget"), privleak_retain=text("privleak", "retain"),
        privleak_holdout=text("privleak", "holdout"), source=str(source),
    )


def _has_raw(folder: Path) -> bool:
    """True when a local folder holds any raw corpus file."""
    return any((folder / "raw" / f"{n}{ext}").is_file()
               for n in ("forget", "retain1", "retain2", "holdout") for ext in (".json", ".jsonl"))


def _records(source: str | Path, folder: Path | None, config: str,
             split: str) -> tuple[list[Any], str]:
    """Records of one (config, split), from the hub or the matching local file."""
    if folder is None:
        return load_hub(str(source), config, split), f"MUSE {source} {config}/{split}"
    stems: Sequence[str] = _LOCAL[(config, split)]
    file = find_file(folder, stems, (".json", ".jsonl"))
    return read_json_any(file), f"MUSE {config}/{split} (file {file})"


def _knowmem(get: Any, split: str) -> list[Example]:
    qa = {"question": str, "answer": str}
    records = check_records(*_with(get("knowmem", split), qa))
    shots = check_records(*_with(get("knowmem", f"{split}_icl"), qa))
    icl = [{"question": r["question"], "answer": r["answer"]} for r in shots]
    return [Example(r["question"], r["answer"], {**_rest(r, "question", "answer"),
                                                 "icl": list(icl)}) for r in records]


def _with(got: tuple[list[Any], str], fields: dict[str, Any]) -> tuple[Any, Any, str]:
    """(records, where) -> the (records, fields, where) arguments of check_records."""
    return got[0], fields, got[1]


def _verbmem(records: list[Any], where: str) -> list[Example]:
    checked = check_records(records, {"prompt": str, "gt": str}, where)
    return [Example(r["prompt"], r["gt"], _rest(r, "prompt", "gt")) for r in checked]


def _rest(record: dict[str, Any], *used: str) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in used}
