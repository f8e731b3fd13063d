"""``run_attacks``: evaluate the original and unlearned models once, run each attack, evaluate
each of its views with the same suite, and compare on the same rows (see :mod:`.base` for
recovery and :mod:`.report` for the document).

Baselines on a subset of rows (held-out forget rows, the questions not shown in context) come
from the full-set per-sample values when the metric is a mean of them; other metrics (AUCs)
are re-evaluated on the subset when the model is in memory, else reported as null.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from obliviate.attacks.base import ATTACKS, AttackContext, AttackSettings, AttackSkipped, AttackView
from obliviate.attacks.report import attack_entry, build_document
from obliviate.data.types import Example
from obliviate.errors import ConfigError, DataError
from obliviate.evaluation import ScoreCache, evaluate, load_reference_results
from obliviate.evaluation.results import metric_entry
from obliviate.evaluation.suites import resolve_suite

DEFAULT_ATTACKS = ("relearn", "icl", "prompts", "quantize", "probes")


@dataclass
class EvalOptions:
    """How every evaluation of the run is done (the same for every model)."""

    suite: str | list = "default"
    max_length: int = 512
    batch_size: int = 8
    max_new_tokens: int = 32
    reference_results: dict[str, Any] | str | Path | None = None

    def public(self) -> dict[str, Any]:
        return {"suite": self.suite if isinstance(self.suite, str) else "custom",
                "max_length": self.max_length, "batch_size": self.batch_size,
                "max_new_tokens": self.max_new_tokens,
                "reference_results": self.reference_results is not None}


@dataclass
class Baseline:
    """One model's metric entries ``{key: {value, per_sample, ...}}`` on the full data sets;
    ``model`` (None for a results file) allows re-evaluation on subsets."""

    role: str
    entries: dict[str, dict[str, Any]]
    model: Any = None
    cache: ScoreCache = field(default_factory=ScoreCache)
    subsets: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)


def evaluate_entries(model: Any, tokenizer: Any, datasets: dict[str, list[Example]],
                     opts: EvalOptions, cache: ScoreCache | None = None,
                     keys: set[str] | None = None) -> dict[str, dict[str, Any]]:
    """``evaluate`` with ``opts``, as results.json metric entries; ``keys`` limits the suite."""
    entries = suite_entries(opts.suite, datasets)
    if keys is not None:
        entries = [e for e in entries if entry_key(e) in keys]
    if not entries:
        return {}
    results = evaluate(model, tokenizer, datasets, entries, opts.max_length, opts.batch_size,
                       opts.reference_results, max_new_tokens=opts.max_new_tokens,
                       cache=cache or ScoreCache())
    return {key: metric_entry(result) for key, result in results.items()}


def suite_entries(suite: str | list, datasets: dict[str, list[Example]]) -> list[tuple]:
    return [e for e in resolve_suite(suite, datasets) if e[1] in datasets]


def entry_key(entry: tuple) -> str:
    return str(entry[2].get("key", f"{entry[1]}/{entry[0]}"))


def mean_like(entry: dict[str, Any]) -> bool:
    """True when the entry's value is the mean of its finite per-sample values."""
    values = [v for v in entry.get("per_sample") or [] if v is not None and math.isfinite(v)]
    value = entry.get("value")
    return bool(values) and value is not None and abs(np.mean(values) - value) <= 1e-6 * max(
        1.0, abs(value))


def baseline_value(base: Baseline, key: str, dataset: str, view: AttackView,
                   ctx: AttackContext, opts: EvalOptions) -> tuple[float | None, str | None]:
    """``base``'s score for ``key`` on the rows ``view`` stands for, and a note if null."""
    entry = base.entries.get(key)
    if entry is None:
        return None, f"the {base.role} results have no {key!r}"
    rows = view.rows.get(dataset)
    if rows is None:
        return entry.get("value"), None
    per_sample = entry.get("per_sample") or []
    if mean_like(entry) and len(per_sample) == len(ctx.datasets[dataset]):
        picked = [per_sample[i] for i in rows if per_sample[i] is not None]
        return (float(np.mean(picked)) if picked else None), None
    if base.model is None:
        return None, (f"{key} is not a per-sample mean and the {base.role} model is not in "
                      "memory to re-evaluate it on these rows")
    sig = repr(sorted(view.rows.items()))
    if sig not in base.subsets:
        subset = {}
        for name in view.datasets:
            r, examples = view.rows.get(name), ctx.datasets[name]
            subset[name] = [examples[i] for i in r] if r is not None else examples
        needed = {k for k, e in base.entries.items() if not mean_like(e)}
        base.subsets[sig] = evaluate_entries(base.model, ctx.tokenizer, subset, opts, base.cache,
                                             needed)
    found = base.subsets[sig].get(key)
    return (found.get("value") if found else None), None


def compare(view: AttackView, attacked: dict[str, dict[str, Any]], bases: list[Baseline],
            ctx: AttackContext, opts: EvalOptions) -> dict[str, tuple]:
    """``{key: (original, unlearned, attacked, notes)}`` for every metric of the view."""
    datasets = {entry_key(e): e[1] for e in suite_entries(opts.suite, view.datasets)}
    out = {}
    for key, entry in attacked.items():
        values, notes = [], []
        for base in bases:
            value, note = baseline_value(base, key, datasets.get(key, key.split("/")[0]),
                                         view, ctx, opts)
            values.append(value)
            notes += [note] if note else []
        out[key] = (values[0], values[1], entry.get("value"), notes)
    return out


def original_baseline(original_model: Any, original_results: Any, tokenizer: Any,
                      datasets: dict[str, list[Example]], opts: EvalOptions) -> Baseline:
    if original_model is not None:
        cache = ScoreCache()
        return Baseline("original", evaluate_entries(original_model, tokenizer, datasets, opts,
                                                     cache), original_model, cache)
    if original_results is None:
        raise ConfigError("recovery needs the original (pre-unlearning) model's scores: give "
                          "--original MODEL or --original-results results.json.")
    results = load_reference_results(original_results)
    return Baseline("original", dict(results["metrics"]))


def run_views(spec: Any, ctx: AttackContext, bases: list[Baseline], opts: EvalOptions,
              log: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """Run one attack and evaluate its views; a skipped attack is recorded, not raised."""
    start, variants = time.perf_counter(), []
    try:
        for view in spec.run(ctx):
            log(f"  {spec.name}: {view.variant} ({time.perf_counter() - start:.0f}s)")
            if view.metrics is not None:
                compared = {k: (*v, []) for k, v in view.metrics.items()}
            else:
                attacked = evaluate_entries(view.model or ctx.model, ctx.tokenizer,
                                            view.datasets, opts)
                compared = compare(view, attacked, bases, ctx, opts)
            variants.append((view, compared))
            view.model = None  # drop the attacked copy before the next view is built
    except AttackSkipped as why:
        log(f"  {spec.name}: skipped ({why})")
        return attack_entry(spec, [], time.perf_counter() - start, skipped=str(why))
    return attack_entry(spec, variants, time.perf_counter() - start)


def run_attacks(
    model: Any, tokenizer: Any, datasets: dict[str, list[Example]], *,
    attacks: list[str] | tuple[str, ...] = DEFAULT_ATTACKS, settings: AttackSettings | None = None,
    original_model: Any = None, original_results: dict[str, Any] | str | Path | None = None,
    opts: EvalOptions | None = None, info: dict[str, Any] | None = None,
    log: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """Run ``attacks`` on the unlearned ``model`` and return the attack_results document;
    ``log`` receives one progress line per step."""
    opts, settings = opts or EvalOptions(), settings or AttackSettings()
    specs = [ATTACKS.get(name) for name in attacks]
    if not datasets.get("forget"):
        raise DataError("the attacks need a non-empty forget set.")
    t0 = time.perf_counter()
    log("evaluating the unlearned and the original model")
    unlearned_cache = ScoreCache()
    unlearned = Baseline("unlearned", evaluate_entries(model, tokenizer, datasets, opts,
                                                       unlearned_cache), model, unlearned_cache)
    original = original_baseline(original_model, original_results, tokenizer, datasets, opts)
    timings = {"baselines_s": time.perf_counter() - t0}
    ctx = AttackContext(model, tokenizer, datasets, settings, original_model,
                        opts.max_length, opts.batch_size)
    entries = {}
    for spec in specs:
        log(f"attack {spec.name}")
        entries[spec.name] = run_views(spec, ctx, [original, unlearned], opts, log)
        timings[f"{spec.name}_s"] = entries[spec.name]["time_s"]
    timings["total_s"] = time.perf_counter() - t0
    return build_document(entries, original.entries, unlearned.entries, datasets, settings,
                          opts.public(), timings, dict(info or {}))
