"""What a benchmark gives ``obliviate bench``: per forget split, the sets that train the
target (``full``) and the retain model, the forget/retain sets the methods see, and the named
evaluation sets of the benchmark's suite (see :mod:`obliviate.evaluation.suites_benchmarks`)."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from obliviate.data.benchmarks import load_muse, load_tofu, load_wmdp
from obliviate.data.benchmarks.synthetic import (
    _QA_SEED_OFFSET, PERCENTS, build_configs, split_size, write_synthetic)
from obliviate.data.benchmarks.synthetic_people import generate_people
from obliviate.data.benchmarks.synthetic_qa import qa_records
from obliviate.data.types import Example
from obliviate.errors import ConfigError
from obliviate.evaluation.suites_benchmarks import muse_datasets, tofu_datasets, wmdp_datasets


@dataclass
class Split:
    """One forget split: what the methods train on and what the suite evaluates."""

    name: str
    forget: list[Example]
    retain: list[Example] | None
    eval_sets: dict[str, list[Example]]
    retain_train: list[Example] | None = None  # the retain (gold-standard) model's data
    data_format: str = "qa"


@dataclass
class BenchData:
    """A loaded benchmark: the suite, the target's training data and the splits."""

    name: str
    suite: str
    full_train: list[Example] | None
    splits: list[Split]
    data_format: str = "qa"
    source: str = ""
    texts: list[str] = field(default_factory=list)  # for training a tiny tokenizer


def _pct(split: str) -> int:
    digits = "".join(c for c in split if c.isdigit())
    if not digits:
        raise ConfigError(f"forget split {split!r} must be a percentage such as 1, 5 or 10.")
    return int(digits)


def synthetic_train_groups(n_people: int, seed: int,
                           paraphrases: bool) -> list[list[Example]]:
    """Per person of ``full``, the QA examples a model is fine-tuned on; with ``paraphrases``
    each fact is also stated in its paraphrased form (a model trained from scratch has no
    pre-training that would carry a fact across phrasings, which TOFU's truth ratio probes)."""
    n_holdout = split_size(n_people, max(PERCENTS))
    people = generate_people(n_people + n_holdout, seed)
    rng = random.Random(seed + _QA_SEED_OFFSET)
    records = [qa_records(p, rng) for p in people][:n_people]
    groups = []
    for person in records:
        group = [Example(r["question"], r["answer"]) for r in person]
        if paraphrases:
            group += [Example(r["question"], r["paraphrased_answer"]) for r in person]
        groups.append(group)
    return groups


def _controls(sets: dict[str, list[Example]]) -> list[Example]:
    """Real Authors / World Facts answers, as QA: the "pre-training" knowledge a model trained
    from scratch lacks and the utility metric asks about."""
    return [Example(e.prompt, e.target) for name in ("real_authors_perturbed",
                                                      "world_facts_perturbed")
            for e in sets.get(name, [])]


def load_synthetic_bench(workdir: Path, splits: list[str], n_people: int = 100, seed: int = 0,
                         from_scratch: bool = True) -> BenchData:
    """The synthetic benchmark written under ``workdir``; ``from_scratch`` adds paraphrases and
    the control facts to the fine-tuning data (see :func:`synthetic_train_groups`)."""
    folder = write_synthetic(workdir / f"synthetic-n{n_people}-s{seed}", n_people, seed)
    groups = synthetic_train_groups(n_people, seed, from_scratch)
    bench = _tofu_like("synthetic", folder, splits, groups, from_scratch)
    bench.texts = [t for recs in build_configs(n_people, seed).values() for r in recs
                   for t in _record_texts(r)]
    return bench


def _record_texts(record: dict) -> list[str]:
    out = []
    for value in record.values():
        out += [value] if isinstance(value, str) else [v for v in value if isinstance(v, str)]
    return out


def load_tofu_bench(source: str, splits: list[str]) -> BenchData:
    """TOFU (a hub id or a local folder): target on ``full``, retain model on ``retainNN``."""
    return _tofu_like("tofu", source, splits, None, False)


def _tofu_like(name: str, source, splits: list[str], groups, controls: bool) -> BenchData:
    out, full = [], None
    for split in splits:
        pct = _pct(split)
        data = load_tofu(source, f"forget{pct:02d}")
        sets = tofu_datasets(data)
        extra = _controls(sets) if controls else []
        forget, retain = data.forget, data.retain
        if groups is not None:
            k = split_size(len(groups), pct)
            full = [e for g in groups for e in g] + extra
            retain_train = [e for g in groups[:-k] for e in g] + extra
            if controls:
                # the methods forget what the target learned about the forget people (each
                # fact in both wordings) and keep the retain people's facts (both wordings)
                forget = [e for g in groups[-k:] for e in g]
                retain = [e for g in groups[:-k] for e in g]
        else:
            full = [Example(e.prompt, e.target) for e in load_tofu_full(source)]
            retain_train = list(data.retain)
        out.append(Split(f"forget{pct:02d}", forget, retain, sets, retain_train))
    return BenchData(name, "tofu", full, out, "qa", str(source))


def load_tofu_full(source) -> list[Example]:
    from obliviate.data.benchmarks.tofu import load_tofu_config, to_example
    return [to_example(r) for r in load_tofu_config(source, "full")]


def load_muse_bench(source: str) -> BenchData:
    """MUSE: target on forget + retain1 text, retain model on retain1; methods forget the forget
    corpus keeping retain1; the suite reads verbmem / knowmem / privleak sets."""
    data = load_muse(source, raw=True)  # training needs the raw corpora
    sets = muse_datasets(data)
    split = Split("forget", data.forget, data.retain1, sets, list(data.retain1), "text")
    return BenchData("muse", "muse", list(data.forget) + list(data.retain1), [split], "text",
                     str(source))


def load_wmdp_bench(source: str, forget_corpus: str | None, retain_corpus: str | None,
                    mmlu_source: str | None) -> BenchData:
    """WMDP: no target or retain model to train (the model as given is the target); methods
    forget the forget corpus keeping the retain corpus; the suite reads the MC questions."""
    if not forget_corpus:
        raise ConfigError("bench wmdp needs --forget-corpus (WMDP's bio/cyber forget corpus, "
                          "JSONL with a 'text' field) for the methods to unlearn.")
    data = load_wmdp(source, forget_corpus=forget_corpus, retain_corpus=retain_corpus,
                     mmlu_source=mmlu_source)
    sets = {k: v for k, v in wmdp_datasets(data).items() if k not in ("forget", "retain")}
    split = Split("forget", data.forget, data.retain or None, sets, None, "text")
    return BenchData("wmdp", "wmdp", None, [split], "text", str(source))
