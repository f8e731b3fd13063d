"""The BENCHMARKS registry lists each benchmark with a description and its loader."""
from __future__ import annotations

import pytest

from obliviate.data.benchmarks import BENCHMARKS, load_muse, load_synthetic, load_tofu, load_wmdp
from obliviate.errors import ConfigError


def test_names_descriptions_loaders() -> None:
    assert {"tofu", "muse", "wmdp", "synthetic"} <= set(BENCHMARKS.names())
    loaders = {"tofu": load_tofu, "muse": load_muse, "wmdp": load_wmdp,
               "synthetic": load_synthetic}
    for name, loader in loaders.items():
        bench = BENCHMARKS.get(name)
        assert bench.name == name and bench.load is loader
        assert bench.description and "\n" not in bench.description
    assert BENCHMARKS.get("tofu").hub_ids == ("locuslab/TOFU",)


def test_unknown_benchmark_suggests() -> None:
    with pytest.raises(ConfigError, match="Did you mean 'tofu'"):
        BENCHMARKS.get("toffu")
