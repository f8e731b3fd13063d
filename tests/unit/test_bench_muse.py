"""MUSE loader: the fixture in the benchmark's folder layout, schema errors, hub-style file
names, and the hub path (with a stand-in for datasets.load_dataset)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import datasets
import pytest

from obliviate.data.benchmarks.muse import load_muse
from obliviate.errors import DataError

FIXTURE = Path(__file__).parents[1] / "fixtures" / "muse"


def _read(rel: str) -> list:
    return json.loads((FIXTURE / rel).read_text())


def test_reads_fixture() -> None:
    data = load_muse(FIXTURE)
    assert len(data.forget) == len(data.retain1) == len(data.retain2) == len(data.holdout) == 3
    assert data.forget[0].prompt == ""
    assert data.forget[0].target.startswith("The council of Brenmoor")
    assert data.knowmem_forget[1].prompt == "Who is the harbour master of Brenmoor?"
    assert data.knowmem_forget[1].target == "Idris Pellow"
    assert data.knowmem_forget[0].meta["icl"] == _read("knowmem/forget_qa_icl.json")
    assert data.knowmem_retain[0].meta["icl"] == _read("knowmem/retain2_qa_icl.json")
    assert data.verbmem[0].prompt == "The council of Brenmoor voted on Tuesday to close"
    assert data.verbmem[0].target.startswith(" the old ferry pier")
    assert [e.target for e in data.privleak_retain] == _read("privleak/retain2.json")
    assert len(data.privleak_forget) == len(data.privleak_holdout) == 3


def test_hub_style_retain_names(tmp_path: Path) -> None:
    root = shutil.copytree(FIXTURE, tmp_path / "muse")
    (root / "knowmem" / "retain2_qa.json").rename(root / "knowmem" / "retain_qa.json")
    (root / "privleak" / "retain2.json").rename(root / "privleak" / "retain.json")
    data = load_muse(root)
    assert data.knowmem_retain[0].target == "Aud Teslin"


def test_missing_field_and_file(tmp_path: Path) -> None:
    root = shutil.copytree(FIXTURE, tmp_path / "muse")
    rows = _read("verbmem/forget.json")
    del rows[2]["gt"]
    (root / "verbmem" / "forget.json").write_text(json.dumps(rows))
    with pytest.raises(DataError, match=r"verbmem/forget .*forget.json\), record 3: field 'gt'"):
        load_muse(root)
    (root / "raw" / "holdout.json").unlink()
    with pytest.raises(DataError, match="raw/holdout.json"):
        load_muse(root)


def test_raw_must_be_strings(tmp_path: Path) -> None:
    root = shutil.copytree(FIXTURE, tmp_path / "muse")
    (root / "raw" / "retain1.json").write_text(json.dumps(["fine", 7]))
    with pytest.raises(DataError, match="raw/retain1 .*record 2: expected a string"):
        load_muse(root)


def _hub_rows(config: str, split: str) -> list[dict]:
    local = {"retain_qa": "retain2_qa", "retain_qa_icl": "retain2_qa_icl", "retain": "retain2"}
    rows = _read(f"{config}/{local.get(split, split) if config != 'raw' else split}.json")
    return [{"text": r} if isinstance(r, str) else r for r in rows]


def test_hub_path_calls_load_dataset(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def fake(path: str, name: str | None = None, split: str | None = None) -> datasets.Dataset:
        calls.append((path, name, split))
        return datasets.Dataset.from_list(_hub_rows(name, split))

    monkeypatch.setattr(datasets, "load_dataset", fake)
    data = load_muse("books")
    assert data.source == "muse-bench/MUSE-Books"
    assert data.knowmem_forget == load_muse(FIXTURE).knowmem_forget
    assert set(calls) == {("muse-bench/MUSE-Books", c, s) for c, s in [
        ("raw", "forget"), ("raw", "retain1"), ("raw", "retain2"), ("raw", "holdout"),
        ("knowmem", "forget_qa"), ("knowmem", "forget_qa_icl"), ("knowmem", "retain_qa"),
        ("knowmem", "retain_qa_icl"), ("verbmem", "forget"), ("privleak", "forget"),
        ("privleak", "retain"), ("privleak", "holdout")]}


def test_evaluation_sets_load_without_raw_corpora(tmp_path: Path) -> None:
    """Evaluation needs only knowmem / verbmem / privleak: a folder without raw/ loads (raw
    sets empty); training asks for raw=True and gets a clear error."""
    root = shutil.copytree(FIXTURE, tmp_path / "muse")
    shutil.rmtree(root / "raw")
    data = load_muse(root)
    assert data.forget == data.retain1 == data.retain2 == data.holdout == []
    assert len(data.knowmem_forget) and len(data.verbmem) and len(data.privleak_holdout) == 3
    assert load_muse(FIXTURE, raw=False).forget == []
    with pytest.raises(DataError, match="raw/forget"):
        load_muse(root, raw=True)
