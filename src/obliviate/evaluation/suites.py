"""Suites: named lists of ``(metric, dataset[, options])`` entries, built from the names of the
data sets at hand so that absent sets are skipped. Registered in :data:`SUITES`."""
from __future__ import annotations

from typing import Any, Callable, Collection, Union

from obliviate.errors import ConfigError
from obliviate.evaluation import suites_benchmarks as _bench
from obliviate.registry import Registry

SuiteEntry = Union[tuple[str, str], tuple[str, str, dict[str, Any]]]
SuiteBuilder = Callable[[Collection[str]], list[SuiteEntry]]

SUITES: Registry[SuiteBuilder] = Registry("suite")

_DEFAULT: dict[str, tuple[str, ...]] = {
    "forget": ("answer_prob", "rouge_l_recall", "exact_memorization", "extraction_strength",
               "min_k"),
    "retain": ("answer_prob", "rouge_l_recall"),
    "probes": ("answer_prob", "rouge_l_recall"),
}
_DEFAULT_MIA = ("mia_loss", "mia_zlib", "mia_min_k", "mia_min_k_plus_plus")


@SUITES.register("default")
def default_suite(datasets: Collection[str]) -> list[SuiteEntry]:
    """forget: answer probability, ROUGE-L recall, exact memorisation, extraction strength,
    Min-K% score; retain and probes (paraphrased forget
    questions): answer probability, ROUGE-L recall; with a holdout set: LOSS, zlib, Min-K% and
    Min-K%++ membership inference, forget vs holdout. Absent sets are skipped."""
    entries: list[SuiteEntry] = []
    for name, metrics in _DEFAULT.items():
        if name in datasets:
            entries += [(m, name) for m in metrics]
    if "forget" in datasets and "holdout" in datasets:
        entries += [(m, "forget") for m in _DEFAULT_MIA]
    return entries


SUITES.register("tofu")(_bench.tofu_suite)
SUITES.register("muse")(_bench.muse_suite)
SUITES.register("wmdp")(_bench.wmdp_suite)


def resolve_suite(suite: str | list[SuiteEntry], datasets: Collection[str]) -> list[tuple[str, str, dict[str, Any]]]:
    """A suite name or a list of entries -> a list of ``(metric, dataset, options)``."""
    entries = SUITES.get(suite)(datasets) if isinstance(suite, str) else list(suite)
    out = []
    for entry in entries:
        if not isinstance(entry, (tuple, list)) or len(entry) not in (2, 3):
            raise ConfigError(f"a suite entry must be (metric, dataset) or (metric, dataset, "
                              f"options), got {entry!r}.")
        options = dict(entry[2]) if len(entry) == 3 else {}
        out.append((str(entry[0]), str(entry[1]), options))
    return out
