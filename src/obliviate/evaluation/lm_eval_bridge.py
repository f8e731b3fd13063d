"""A bridge to lm-evaluation-harness (Gao et al. 2023, "A framework for few-shot language model
evaluation", https://github.com/EleutherAI/lm-evaluation-harness): its tasks run on the model
already in memory (its ``HFLM`` wraps our model and tokenizer; nothing is reloaded), and every
task metric joins the results document as ``lm_eval/<task>/<metric>`` with lm-eval's standard
error. Needs the optional extra: ``pip install 'obliviate[lm-eval]'``.

A metric computed under a filter other than lm-eval's ``none`` keeps it in the name
(``lm_eval/gsm8k/exact_match,strict-match``), as lm-eval writes it. The 95% interval stored
beside the value is ``value +- 1.96 * stderr`` (normal approximation, kept within [0, 1] for
per-document scores in that range); ``extra`` holds the stderr itself, the number of documents,
the task version and, for a multiple-choice task's ``acc``, the option chosen for each
document. WMDP tasks (``wmdp*``) measure hazardous knowledge to forget, so their entries carry
``extra["goal"]`` (lower accuracy is the report's goal); every other task keeps lm-eval's
direction.
"""
from __future__ import annotations

import difflib
import math
import time
from pathlib import Path
from typing import Any

from obliviate.config import LmEvalConfig
from obliviate.errors import ConfigError

INSTALL_HINT = "pip install 'obliviate[lm-eval]'"
#: Tasks that measure knowledge to forget: the report's goal for their metrics is reversed.
FORGET_TASKS = ("wmdp",)


def _lm_eval() -> Any:
    try:
        import lm_eval
    except ImportError:
        raise ConfigError(f"lm-eval tasks were asked for but lm-evaluation-harness is not "
                          f"installed; {INSTALL_HINT}") from None
    return lm_eval


def task_manager(settings: LmEvalConfig) -> Any:
    """lm-eval's task index (its own tasks plus ``include_path``), with every asked name
    checked, so that a typo fails before any model is loaded."""
    _lm_eval()
    from lm_eval.tasks import TaskManager

    if settings.include_path is not None:
        if not Path(settings.include_path).is_dir():
            raise ConfigError(f"lm-eval include path {settings.include_path} is not a folder "
                              "of task YAML files")
    manager = TaskManager(include_path=settings.include_path)
    known = set(manager.all_tasks)
    missing = [t for t in settings.tasks if t not in known]
    if missing:
        hints = [f"{m!r} (did you mean {c[0]!r}?)" if (c := difflib.get_close_matches(
            m, known, n=1)) else repr(m) for m in missing]
        raise ConfigError(f"unknown lm-eval task {', '.join(hints)}; list them with "
                          "`lm-eval ls tasks`, or give a folder of task YAML files as the "
                          "include path")
    return manager


def run_lm_eval(model: Any, tokenizer: Any, settings: LmEvalConfig,
                manager: Any | None = None) -> dict[str, Any]:
    """lm-eval's ``simple_evaluate`` on ``model`` (in memory) -> its raw results dict."""
    lm_eval = _lm_eval()
    from lm_eval.models.huggingface import HFLM

    manager = manager or task_manager(settings)
    was_training = model.training
    model.eval()
    try:
        lm = HFLM(pretrained=model, tokenizer=tokenizer, batch_size=settings.batch_size)
        return lm_eval.simple_evaluate(
            model=lm, tasks=list(settings.tasks), task_manager=manager, limit=settings.limit,
            num_fewshot=settings.num_fewshot, log_samples=True, bootstrap_iters=1000)
    finally:
        model.train(was_training)


def _number(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def _per_doc(samples: list[dict], metric: str, filt: str,
             choices: bool) -> tuple[list, list[int] | None]:
    """Per-document values of ``metric`` (by doc_id) and, for a multiple-choice ``acc``
    (``choices``), the option with the highest log-likelihood for each document."""
    rows = sorted((s for s in samples if s.get("filter", "none") == filt),
                  key=lambda s: s["doc_id"])
    values = [_number(s.get(metric)) for s in rows if metric in s]
    if not choices:
        return values, None
    picks = []
    for s in rows:
        resps = s.get("filtered_resps")
        if not (isinstance(resps, list) and resps and isinstance(resps[0], (list, tuple))):
            return values, None
        lls = [float(r[0]) for r in resps]
        picks.append(max(range(len(lls)), key=lls.__getitem__))
    return values, picks or None


def _interval(value: float, stderr: float | None, values: list) -> tuple[float, float]:
    """``value +- 1.96 * stderr``, kept within [0, 1] when every per-document value is (an
    accuracy or exact match cannot leave that range)."""
    half = 1.96 * stderr if stderr is not None else 0.0
    low, high = value - half, value + half
    if values and all(v is not None and 0.0 <= v <= 1.0 for v in values):
        low, high = max(low, 0.0), min(high, 1.0)
    return low, high


def metric_entries(raw: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """lm-eval's results -> results-document entries keyed ``lm_eval/<task>/<metric>``."""
    entries = {}
    for task, scores in raw.get("results", {}).items():
        for key, value in scores.items():
            metric, sep, filt = key.partition(",")
            if sep and not metric.endswith("_stderr") and _number(value) is not None:
                name = metric if filt == "none" else key
                entries[f"lm_eval/{task}/{name}"] = _entry(raw, task, metric, filt, float(value))
    return entries


def _entry(raw: dict[str, Any], task: str, metric: str, filt: str, value: float) -> dict:
    """One metric of one task as a results-document entry (see the module docstring)."""
    stderr = _number(raw["results"][task].get(f"{metric}_stderr,{filt}"))
    output_type = (raw.get("configs", {}).get(task) or {}).get("output_type")
    values, picks = _per_doc(raw.get("samples", {}).get(task, []), metric, filt,
                             output_type == "multiple_choice" and metric == "acc")
    n_docs = (raw.get("n-samples", {}).get(task) or {}).get("effective", len(values) or None)
    extra = {"stderr": stderr, "source": "lm-evaluation-harness", "lm_eval_version": _version(),
             "filter": filt, "n_samples": n_docs, "num_fewshot": raw.get("n-shot", {}).get(task),
             "task_version": raw.get("versions", {}).get(task)}
    if picks is not None:
        extra["predictions"] = picks
    higher = raw.get("higher_is_better", {}).get(task, {}).get(metric)
    if task.startswith(FORGET_TASKS) and higher is not None:
        extra["goal"] = "lower" if higher else "higher"  # knowledge to forget
    low, high = _interval(value, stderr, values)
    return {"value": value, "ci_low": low, "ci_high": high,
            "higher_is_better": higher, "per_sample": values, "extra": extra}


def add_lm_eval(results: dict[str, Any], model: Any, tokenizer: Any, settings: LmEvalConfig,
                manager: Any | None = None) -> dict[str, Any]:
    """Run the tasks and add their metrics (and lm-eval's settings) to ``results``, in place."""
    if not settings.tasks:
        return results
    start = time.perf_counter()
    raw = run_lm_eval(model, tokenizer, settings, manager)
    results.setdefault("metrics", {}).update(metric_entries(raw))
    results.setdefault("timings", {})["lm_eval_s"] = round(time.perf_counter() - start, 3)
    results["lm_eval"] = {"tasks": list(settings.tasks), "limit": settings.limit,
                          "include_path": settings.include_path, "n_shot": raw.get("n-shot"),
                          "versions": raw.get("versions"), "n_samples": raw.get("n-samples"),
                          "lm_eval_version": _version()}
    return results


def _version() -> str:
    from lm_eval import __version__
    return __version__
