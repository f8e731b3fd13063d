"""The synthetic TOFU-like benchmark: determinism, split sizes, wrong answers never right,
holdout people disjoint from full, and loadability by the TOFU loader."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from obliviate.data.benchmarks.synthetic import (
    build_configs, load_synthetic, people_of, split_size, write_synthetic)
from obliviate.data.benchmarks.synthetic_people import generate_people
from obliviate.data.benchmarks.synthetic_qa import QA_KINDS
from obliviate.data.benchmarks.tofu import CONFIG_FIELDS, load_tofu, load_tofu_config
from obliviate.errors import ConfigError

N = 200
PER_PERSON = len(QA_KINDS)


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic(tmp_path_factory.mktemp("synthetic"), n_people=N, seed=0)


def _files(folder: Path) -> dict[str, bytes]:
    return {f.name: f.read_bytes() for f in sorted(folder.iterdir())}


def test_same_seed_byte_identical(bench: Path, tmp_path: Path) -> None:
    again = write_synthetic(tmp_path / "again", n_people=N, seed=0)
    assert _files(again) == _files(bench)
    other = write_synthetic(tmp_path / "other", n_people=N, seed=1)
    assert _files(other)["full.json"] != _files(bench)["full.json"]
    assert generate_people(5, 3) == generate_people(5, 3)


def test_exact_tofu_layout(bench: Path) -> None:
    assert sorted(_files(bench)) == sorted(f"{c}.json" for c in CONFIG_FIELDS)
    for config in CONFIG_FIELDS:
        load_tofu_config(bench, config)  # every file passes the TOFU schema checks


@pytest.mark.parametrize("n", [N, 60])
def test_split_sizes(n: int) -> None:
    configs = build_configs(n, seed=2)
    assert len(configs["full"]) == n * PER_PERSON
    for pct in (1, 5, 10):
        k = split_size(n, pct)
        assert len(configs[f"forget{pct:02d}"]) == k * PER_PERSON
        assert len(configs[f"forget{pct:02d}_perturbed"]) == k * PER_PERSON
        assert len(configs[f"retain{100 - pct}"]) == (n - k) * PER_PERSON
        assert len(configs[f"holdout{pct:02d}"]) == k * PER_PERSON
    assert [split_size(N, p) for p in (1, 5, 10)] == [2, 10, 20]


def test_forget_is_last_people_and_retain_the_rest(bench: Path) -> None:
    full = load_tofu_config(bench, "full")
    for pct in ("01", "05", "10"):
        forget = load_tofu_config(bench, f"forget{pct}")
        retain = load_tofu_config(bench, f"retain{100 - int(pct)}")
        assert retain + forget == full
    people, _ = people_of(N, 0)
    assert people[-1].name in forget[-1]["question"]


def test_perturbed_answers_never_right(bench: Path) -> None:
    configs = ["forget10_perturbed", "retain_perturbed", "world_facts_perturbed",
               "real_authors_perturbed"]
    for config in configs:
        for record in load_tofu_config(bench, config):
            wrong = record["perturbed_answer"]
            assert record["answer"] not in wrong
            assert record.get("paraphrased_answer") not in wrong
            assert len(set(wrong)) == len(wrong)


def test_holdout_people_disjoint_from_full(bench: Path) -> None:
    people, holdout = people_of(N, 0)
    assert len(holdout) == split_size(N, 10)
    assert not {p.name for p in people} & {p.name for p in holdout}
    full_text = " ".join(r["question"] for r in load_tofu_config(bench, "full"))
    assert all(p.name not in full_text for p in holdout)
    held = load_tofu_config(bench, "holdout10")
    assert held[0]["question"].endswith(f"{holdout[0].name} born?")
    assert load_tofu_config(bench, "holdout05") == held[:split_size(N, 5) * PER_PERSON]


def test_people_facts_and_controls(bench: Path) -> None:
    people = generate_people(50, seed=4)
    assert len({p.name for p in people}) == 50
    assert all(p.father_profession != p.mother_profession for p in people)
    assert all(p.email.endswith(".example") and p.phone.startswith("+99 ") for p in people)
    assert PER_PERSON >= 5
    facts = load_tofu_config(bench, "world_facts")
    assert len(facts) >= 20
    for record in facts + load_tofu_config(bench, "real_authors"):
        assert record["answer"] in [record[f"option{i}"] for i in range(1, 5)]


def test_load_synthetic_round_trip(tmp_path: Path) -> None:
    data = load_synthetic(split="forget05", n_people=40, seed=7)
    assert len(data.forget) == split_size(40, 5) * PER_PERSON
    written = load_tofu(write_synthetic(tmp_path, 40, 7), "forget05")
    assert replace(written, source=data.source) == data
    with pytest.raises(ConfigError, match="at least 2"):
        build_configs(1)
