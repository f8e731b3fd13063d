"""The ``synthetic`` benchmark: an offline, seeded stand-in for TOFU (Maini et al., 2024,
https://arxiv.org/abs/2401.06121) written in exactly TOFU's local layout, so that
:func:`obliviate.data.benchmarks.tofu.load_tofu` reads it.

Layout written by :func:`write_synthetic` (JSON lines, one record per line, as on the hub):
``full``, ``forget01/05/10`` (the last 1/5/10% of the people, as TOFU takes the last authors),
``retain99/95/90`` (the others), ``holdout01/05/10`` (extra people never in ``full``),
``forget01/05/10_perturbed`` and ``retain_perturbed`` (the first 10% of the people), and the
control sets ``real_authors``, ``world_facts`` and their ``_perturbed`` versions.
"""
from __future__ import annotations

import json
import os
import random
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from obliviate.data.benchmarks.synthetic_people import Person, generate_people
from obliviate.data.benchmarks.synthetic_qa import (
    REAL_AUTHORS, WORLD_FACTS, control_records, qa_records)
from obliviate.data.benchmarks.tofu import TofuData, load_tofu
from obliviate.errors import ConfigError

NAME = "synthetic"
PERCENTS = (1, 5, 10)
_QA_SEED_OFFSET = 7919  # the QA rng is random.Random(seed + offset), apart from the people's


def split_size(n: int, pct: int) -> int:
    """``pct`` percent of ``n`` people, rounded half up, at least one."""
    return max(1, (n * pct + 50) // 100)


def build_configs(n_people: int = 200, seed: int = 0) -> dict[str, list[dict[str, Any]]]:
    """Every TOFU config of the synthetic benchmark, as lists of records."""
    if n_people < 2:
        raise ConfigError(f"n_people must be at least 2 (one to forget, one to retain); "
                          f"got {n_people}.")
    n_holdout = split_size(n_people, max(PERCENTS))
    people = generate_people(n_people + n_holdout, seed)
    rng = random.Random(seed + _QA_SEED_OFFSET)
    qa = [qa_records(person, rng) for person in people]
    full, holdout = qa[:n_people], qa[n_people:]
    configs: dict[str, list[dict[str, Any]]] = {"full": _plain(full)}
    for pct in PERCENTS:
        k = split_size(n_people, pct)
        configs[f"forget{pct:02d}"] = _plain(full[-k:])
        configs[f"retain{100 - pct}"] = _plain(full[:-k])
        configs[f"holdout{pct:02d}"] = _plain(holdout[:k])
        configs[f"forget{pct:02d}_perturbed"] = _flat(full[-k:])
    configs["retain_perturbed"] = _flat(full[:n_holdout])
    for name, facts in (("real_authors", REAL_AUTHORS), ("world_facts", WORLD_FACTS)):
        configs[name], configs[f"{name}_perturbed"] = control_records(facts, rng)
    return configs


def _flat(groups: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return [record for group in groups for record in group]


def _plain(groups: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Only question and answer, as in TOFU's full / forget / retain / holdout configs."""
    return [{"question": r["question"], "answer": r["answer"]} for r in _flat(groups)]


def write_synthetic(out_dir: str | Path, n_people: int = 200, seed: int = 0) -> Path:
    """Write the benchmark into ``out_dir`` (created if needed); the same (n_people, seed)
    gives byte-identical files. Each file is written under a temporary name, then renamed."""
    folder = Path(out_dir).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    for config, records in build_configs(n_people, seed).items():
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        tmp = folder / f".{config}.json.tmp"
        tmp.write_text(text, encoding="utf-8", newline="\n")
        os.replace(tmp, folder / f"{config}.json")
    return folder


def load_synthetic(out_dir: str | Path | None = None, split: str = "forget10",
                   n_people: int = 200, seed: int = 0) -> TofuData:
    """Write the benchmark (into ``out_dir``, or a temporary folder that is removed after
    loading) and load it as TOFU."""
    if out_dir is not None:
        return load_tofu(write_synthetic(out_dir, n_people, seed), split)
    with tempfile.TemporaryDirectory(prefix="obliviate-synthetic-") as tmp:
        data = load_tofu(write_synthetic(tmp, n_people, seed), split)
    return replace(data, source=f"synthetic(n_people={n_people}, seed={seed})")


def people_of(n_people: int = 200, seed: int = 0) -> tuple[list[Person], list[Person]]:
    """(people in ``full``, holdout people) exactly as :func:`build_configs` draws them."""
    people = generate_people(n_people + split_size(n_people, max(PERCENTS)), seed)
    return people[:n_people], people[n_people:]
