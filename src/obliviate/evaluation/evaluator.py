"""``evaluate``: tokenise each data set once, run each need once (token scores through the
:class:`ScoreCache`, greedy generations once per data set), then call the metrics."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from obliviate.data.types import Example
from obliviate.errors import ConfigError
from obliviate.evaluation.base import METRICS, Metric, MetricResult
from obliviate.evaluation.context import EvalContext
from obliviate.evaluation.metrics import efficiency as _efficiency
from obliviate.evaluation.results import load_reference_results
from obliviate.evaluation.scoring import ScoreCache
from obliviate.evaluation.suites import SuiteEntry, resolve_suite

Entry = tuple[str, str, dict[str, Any]]


def evaluate(
    model: Any, tokenizer: Any, datasets: dict[str, list[Example]],
    suite: str | list[SuiteEntry] = "default", max_length: int = 512, batch_size: int = 8,
    reference_results: dict[str, Any] | str | Path | None = None, *,
    reference_model: Any = None, run_info: dict[str, Any] | str | Path | None = None,
    max_new_tokens: int = 64, cache: ScoreCache | None = None, weights_hash: str | None = None,
    progress: str | None = None,
) -> dict[str, MetricResult]:
    """Evaluate ``model`` on ``datasets`` with every ``(metric, dataset[, options])`` of
    ``suite`` (or a suite name from :data:`SUITES`). Returns ``{"<dataset>/<metric>": result}``
    (``options["key"]`` overrides the key). ``reference_results`` (a dict or results.json path)
    feeds forget quality and PrivLeak; ``reference_model`` the reference MIA; ``run_info`` (a
    dict or run.json path) efficiency. Pass ``cache`` to share passes across calls.
    ``progress`` (a label) shows a progress bar over the metrics."""
    entries = resolve_suite(suite, datasets)
    if reference_results is not None:
        reference_results = load_reference_results(reference_results)
    if isinstance(run_info, (str, Path)):
        run_info = _efficiency.load_run_info(run_info)
    given = {"reference_results": reference_results, "reference_model": reference_model,
             "run_info": run_info}
    for name, dataset, options in entries:
        check_needs(METRICS.get(name), dataset, options, datasets, given)
    ctx = EvalContext(model, tokenizer, datasets, max_length=max_length, batch_size=batch_size,
                      max_new_tokens=max_new_tokens, reference_results=reference_results,
                      reference_model=reference_model, run_info=run_info, cache=cache,
                      weights_hash=weights_hash)
    results: dict[str, MetricResult] = {}
    bar = tqdm(entries, desc=progress or "evaluating", unit="metric", disable=not progress,
               leave=False)
    for name, dataset, options in bar:
        key = str(options.pop("key", f"{dataset}/{name}"))
        bar.set_postfix_str(key)
        if key in results:
            raise ConfigError(f"the suite computes {key!r} twice; give one entry options "
                              f"{{'key': ...}} to tell them apart.")
        results[key] = ctx.result(name, dataset, options)
    return results


def check_needs(
    spec: Metric, dataset: str, options: dict[str, Any], datasets: dict[str, list[Example]],
    given: dict[str, Any],
) -> None:
    """Fail before any forward pass when a metric's needs cannot be met."""
    wanted = [dataset] if spec.uses_dataset else []
    if "holdout" in spec.needs:
        wanted.append(options.get("holdout", "holdout"))
    for name in wanted:
        if name not in datasets:
            known = ", ".join(sorted(datasets)) or "none"
            raise ConfigError(f"metric {spec.name!r} needs data set {name!r}, which is not "
                              f"given (given: {known}).")
        if not datasets[name]:
            raise ConfigError(f"data set {name!r} is empty; metric {spec.name!r} needs samples.")
    for need, value in given.items():
        if need == "reference_results" and options.get("reference_auc") is not None:
            continue  # PrivLeak given the retrain AUC as a number
        if need in spec.needs and value is None:
            raise ConfigError(f"metric {spec.name!r} needs {need}; pass {need}=... to evaluate.")
