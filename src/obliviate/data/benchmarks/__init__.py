"""Benchmark data: TOFU, MUSE, WMDP (with MMLU) and the offline ``synthetic`` benchmark.

``BENCHMARKS`` maps each name to a :class:`Benchmark`: a one-line description, the loader
(every loader takes a hub id or a local folder as its first argument) and the hub ids it reads.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from obliviate.data.benchmarks.muse import HUB_IDS as MUSE_HUB_IDS
from obliviate.data.benchmarks.muse import MuseData, load_muse
from obliviate.data.benchmarks.synthetic import load_synthetic, write_synthetic
from obliviate.data.benchmarks.synthetic_people import Person, generate_people
from obliviate.data.benchmarks.tofu import HUB_ID as TOFU_HUB_ID
from obliviate.data.benchmarks.tofu import TofuData, load_tofu, load_tofu_config
from obliviate.data.benchmarks.wmdp import (
    MMLU_HUB_ID, WMDP_HUB_ID, WmdpData, load_corpus, load_mmlu, load_wmdp, load_wmdp_config)
from obliviate.registry import Registry


@dataclass(frozen=True)
class Benchmark:
    """A named benchmark: what it measures, how to load it, where it lives on the hub."""

    name: str
    description: str
    load: Callable[..., Any]
    hub_ids: tuple[str, ...] = ()


BENCHMARKS: Registry[Benchmark] = Registry("benchmark")

for _bench in (
    Benchmark("tofu", "TOFU (Maini et al. 2024): QA about 200 fictitious authors; forget 1/5/10%.",
              load_tofu, (TOFU_HUB_ID,)),
    Benchmark("muse", "MUSE (Shi et al. 2024): news / book text; verbatim, knowledge and privacy "
              "leakage.", load_muse, tuple(MUSE_HUB_IDS.values())),
    Benchmark("wmdp", "WMDP (Li et al. 2024): hazardous-knowledge multiple choice, MMLU for "
              "utility.", load_wmdp, (WMDP_HUB_ID, MMLU_HUB_ID)),
    Benchmark("synthetic", "Offline seeded TOFU-like benchmark of generated fictitious people.",
              load_synthetic),
):
    BENCHMARKS.register(_bench.name)(_bench)

__all__ = [
    "BENCHMARKS", "Benchmark", "MuseData", "Person", "TofuData", "WmdpData", "generate_people",
    "load_corpus", "load_mmlu", "load_muse", "load_synthetic", "load_tofu", "load_tofu_config",
    "load_wmdp", "load_wmdp_config", "write_synthetic",
]
