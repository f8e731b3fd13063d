"""TOFU loader: the fixture in the published layout, the three JSON shapes, schema errors and
the hub path (with a stand-in for datasets.load_dataset)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import datasets
import pytest

from obliviate.data.benchmarks.tofu import CONFIG_FIELDS, load_tofu, load_tofu_config
from obliviate.data.types import Example
from obliviate.errors import ConfigError, DataError

FIXTURE = Path(__file__).parents[1] / "fixtures" / "tofu"
RECORDS = [{"question": f"Q{i}?", "answer": f"A{i}."} for i in range(4)]


def test_fixture_has_every_config() -> None:
    for config in CONFIG_FIELDS:
        assert load_tofu_config(str(FIXTURE), config), config


@pytest.mark.parametrize("split,n_forget,n_retain", [("forget10", 2, 4), ("forget05", 1, 5),
                                                     ("forget01", 1, 5)])
def test_load_tofu_reads_fixture(split: str, n_forget: int, n_retain: int) -> None:
    data = load_tofu(FIXTURE, split)
    assert (len(data.forget), len(data.retain)) == (n_forget, n_retain)
    assert all(isinstance(e, Example) for e in data.forget + data.retain)
    full = {(e["question"], e["answer"]) for e in load_tofu_config(FIXTURE, "full")}
    assert {(e.prompt, e.target) for e in data.forget + data.retain} == full
    assert not {e.prompt for e in data.holdout} & {q for q, _ in full}
    assert [e.prompt for e in data.forget_perturbed] == [e.prompt for e in data.forget]


def test_examples_carry_other_fields_in_meta() -> None:
    data = load_tofu(FIXTURE, "forget10")
    pert = data.forget_perturbed[0]
    assert pert.prompt == "When was Ilse Marrowen born?"
    assert len(pert.meta["perturbed_answer"]) == 5
    assert set(pert.meta) == {"paraphrased_question", "paraphrased_answer", "perturbed_answer"}
    assert data.forget[0].meta == {}
    control = data.world_facts_perturbed[0]
    assert len(control.meta["perturbed_answer"]) == 3
    assert control.meta["paraphrased_answer"] == control.target  # the answer serves as paraphrase
    options = data.real_authors[0].meta
    assert data.real_authors[0].target in [options[f"option{i}"] for i in range(1, 5)]


@pytest.mark.parametrize("shape", ["array", "lines", "arrays_per_line"])
@pytest.mark.parametrize("ext", [".json", ".jsonl"])
def test_three_json_shapes(tmp_path: Path, shape: str, ext: str) -> None:
    if shape == "array":
        text = json.dumps(RECORDS, indent=2)
    elif shape == "lines":
        text = "\n".join(json.dumps(r) for r in RECORDS) + "\n"
    else:
        text = json.dumps(RECORDS[:3]) + "\n\n" + json.dumps(RECORDS[3:]) + "\n"
    (tmp_path / f"forget10{ext}").write_text(text)
    assert load_tofu_config(tmp_path, "forget10") == RECORDS


def _write(folder: Path, config: str, records: list[dict]) -> None:
    (folder / f"{config}.json").write_text("\n".join(json.dumps(r) for r in records))


def test_missing_field_names_file_config_record_field(tmp_path: Path) -> None:
    _write(tmp_path, "retain90", RECORDS[:2] + [{"question": "Q?"}])
    with pytest.raises(DataError) as err:
        load_tofu_config(tmp_path, "retain90")
    message = str(err.value)
    for part in ("retain90", "retain90.json", "record 3", "'answer'", "is missing"):
        assert part in message


def test_wrong_perturbed_length(tmp_path: Path) -> None:
    good = load_tofu_config(FIXTURE, "forget10_perturbed")
    bad = [dict(good[0]), dict(good[1], perturbed_answer=good[1]["perturbed_answer"][:4])]
    _write(tmp_path, "forget10_perturbed", bad)
    with pytest.raises(DataError, match=r"record 2: field 'perturbed_answer' must be a list "
                                        r"of 5 strings, got a list of 4"):
        load_tofu_config(tmp_path, "forget10_perturbed")


def test_control_perturbed_needs_three(tmp_path: Path) -> None:
    _write(tmp_path, "real_authors_perturbed",
           [{"question": "Q?", "answer": "A", "perturbed_answer": ["B", "C", "D", "E"]}])
    with pytest.raises(DataError, match="list of 3 strings"):
        load_tofu_config(tmp_path, "real_authors_perturbed")


def test_wrong_type_and_bad_json(tmp_path: Path) -> None:
    _write(tmp_path, "full", [{"question": "Q?", "answer": 3}])
    with pytest.raises(DataError, match="'answer' must be a str, got int"):
        load_tofu_config(tmp_path, "full")
    (tmp_path / "full.json").write_text('{"question": "Q?", "answer": "A"}\n{"question": \n')
    with pytest.raises(DataError, match=r"full.json:2: not valid JSON"):
        load_tofu_config(tmp_path, "full")


def test_missing_file_unknown_config_and_split(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"forget05.json, forget05.jsonl"):
        load_tofu_config(tmp_path, "forget05")
    with pytest.raises(ConfigError, match="did you mean 'forget10'"):
        load_tofu_config(tmp_path, "forgett10")
    with pytest.raises(ConfigError, match="unknown TOFU split"):
        load_tofu(FIXTURE, "forget20")
    with pytest.raises(DataError, match="neither an existing folder nor a hub id"):
        load_tofu_config(str(tmp_path / "nowhere"), "full")


def test_missing_part_of_a_split(tmp_path: Path) -> None:
    shutil.copytree(FIXTURE, tmp_path / "tofu")
    (tmp_path / "tofu" / "holdout10.jsonl").unlink()
    with pytest.raises(DataError, match="holdout10"):
        load_tofu(tmp_path / "tofu", "forget10")


def test_hub_path_calls_load_dataset(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def fake(path: str, name: str | None = None, split: str | None = None) -> datasets.Dataset:
        calls.append((path, name, split))
        return datasets.Dataset.from_list(load_tofu_config(FIXTURE, name))

    monkeypatch.setattr(datasets, "load_dataset", fake)
    data = load_tofu("locuslab/TOFU", "forget05")
    assert data.forget == load_tofu(FIXTURE, "forget05").forget
    assert ("locuslab/TOFU", "forget05", "train") in calls
    assert ("locuslab/TOFU", "retain95", "train") in calls
    assert {c[1] for c in calls} == {"forget05", "retain95", "holdout05", "forget05_perturbed",
                                     "retain_perturbed", "real_authors", "real_authors_perturbed",
                                     "world_facts", "world_facts_perturbed"}


def test_hub_path_with_list_and_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: [{"question": "Q?"}])
    with pytest.raises(DataError, match="locuslab/TOFU.*record 1: field 'answer'"):
        load_tofu_config("locuslab/TOFU", "full")

    def offline(*args: object, **kwargs: object) -> None:
        raise ConnectionError("offline")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(DataError, match="cannot load locuslab/TOFU .*offline"):
        load_tofu_config("locuslab/TOFU", "full")
