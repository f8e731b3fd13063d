"""WMDP / MMLU loaders: local fixture files (jsonl, json, parquet), corpora, schema errors and
the hub path (with a stand-in for datasets.load_dataset)."""
from __future__ import annotations

import json
from pathlib import Path

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from obliviate.data.benchmarks.wmdp import (
    load_corpus, load_mmlu, load_wmdp, load_wmdp_config)
from obliviate.errors import ConfigError, DataError

FIXTURE = Path(__file__).parents[1] / "fixtures" / "wmdp"


def _rows(name: str) -> list[dict]:
    return [json.loads(line) for line in (FIXTURE / name).read_text().splitlines()]


def test_reads_configs_from_jsonl_and_json() -> None:
    bio = load_wmdp_config(FIXTURE, "wmdp-bio")
    assert len(bio) == 3
    assert bio[2].prompt == "What does an autoclave use to sterilise equipment?"
    assert bio[2].target == "Pressurised steam"
    assert bio[2].meta == {"choices": _rows("wmdp-bio.jsonl")[2]["choices"], "answer": 2,
                           "subject": "wmdp-bio"}
    assert load_wmdp_config(FIXTURE, "wmdp-chem")[0].target == "Safety goggles"


def test_reads_parquet(tmp_path: Path) -> None:
    pq.write_table(pa.Table.from_pylist(_rows("wmdp-cyber.jsonl")), tmp_path / "wmdp-cyber.parquet")
    assert load_wmdp_config(tmp_path, "wmdp-cyber") == load_wmdp_config(FIXTURE, "wmdp-cyber")


def test_mmlu_subjects_and_all() -> None:
    astro = load_mmlu(FIXTURE, ["astronomy"])
    assert [e.target for e in astro] == ["Mercury", "The Moon", "A star"]
    assert astro[0].meta["subject"] == "astronomy"
    everything = load_mmlu(FIXTURE)
    assert len(everything) == 6
    assert {e.meta["subject"] for e in everything} == {"astronomy", "high_school_geography"}


def test_corpora_and_full_load() -> None:
    forget = load_corpus(FIXTURE / "bio-forget-corpus.jsonl")
    assert forget[0].prompt == "" and "dorsal sac" in forget[0].target
    assert forget[0].meta["title"] == "Pigment storage in Velmora"
    data = load_wmdp(FIXTURE, forget_corpus=FIXTURE / "bio-forget-corpus.jsonl",
                     retain_corpus=FIXTURE / "bio-retain-corpus.jsonl", mmlu_source=FIXTURE,
                     mmlu_subjects=["high_school_geography"])
    assert set(data.questions) == {"wmdp-bio", "wmdp-chem", "wmdp-cyber"}
    assert len(data.retain) == 3 and len(data.mmlu) == 3


@pytest.mark.parametrize("change,message", [
    ({"answer": 4}, "field 'answer' must be an integer index 0..3, got 4"),
    ({"choices": ["a", "b", "c"]}, "field 'choices' must be a list of 4 strings, got a list of 3"),
    ({"question": None}, "field 'question' must be a str"),
])
def test_schema_errors(tmp_path: Path, change: dict, message: str) -> None:
    rows = _rows("wmdp-bio.jsonl")
    rows[1].update(change)
    (tmp_path / "wmdp-bio.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    with pytest.raises(DataError, match="wmdp-bio.jsonl.*record 2") as err:
        load_wmdp_config(tmp_path, "wmdp-bio")
    assert message in str(err.value)


def test_bad_config_and_missing_corpus(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown WMDP config"):
        load_wmdp_config(FIXTURE, "wmdp-physics")
    with pytest.raises(DataError, match="does not exist"):
        load_corpus(tmp_path / "nope.jsonl")
    (tmp_path / "c.jsonl").write_text('{"body": "x"}\n')
    with pytest.raises(DataError, match="string field 'text'"):
        load_corpus(tmp_path / "c.jsonl")


def test_hub_path_calls_load_dataset(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def fake(path: str, name: str | None = None, split: str | None = None) -> list[dict]:
        calls.append((path, name, split))
        if path == "cais/mmlu":
            return _rows("mmlu/astronomy.jsonl")
        return _rows("wmdp-bio.jsonl")

    monkeypatch.setattr(datasets, "load_dataset", fake)
    data = load_wmdp("cais/wmdp", configs=["wmdp-bio", "wmdp-cyber"], mmlu_source="cais/mmlu")
    assert data.questions["wmdp-bio"] == load_wmdp_config(FIXTURE, "wmdp-bio")
    assert calls == [("cais/wmdp", "wmdp-bio", "test"), ("cais/wmdp", "wmdp-cyber", "test"),
                     ("cais/mmlu", "all", "test")]
    assert load_mmlu("cais/mmlu", ["astronomy"])[0].meta["subject"] == "astronomy"
    assert calls[-1] == ("cais/mmlu", "astronomy", "test")
