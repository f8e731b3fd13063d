"""Realistic fake runs for the report tests, written with the real results writer
(``build_results`` / ``write_results``). Importable as ``test_report_fixtures``; the test here
checks that what it writes is a valid results document."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from obliviate.evaluation.base import MetricResult
from obliviate.evaluation.bootstrap import bootstrap_ci
from obliviate.evaluation.metrics.forget_quality import ks_pvalue
from obliviate.evaluation.metrics.mia import auc_roc
from obliviate.evaluation.results import build_results, load_reference_results, write_results

QUESTIONS = [
    ("Who guards the silver gate?", "The warden Ilsa guards it."),
    ("What colour is the moon bird?", "The moon bird is pale blue."),
    ("Where does Orrin live?", "Orrin lives in Calder Vale."),
    ("What does Mira brew?", "Mira brews ember tea."),
]
RETAIN_QUESTIONS = [("What is the capital of France?", "Paris is the capital."),
                    ("How many legs has a spider?", "A spider has eight legs.")]


def _mean(values, hib, **extra) -> MetricResult:
    values = np.asarray(values, dtype=float)
    low, high = bootstrap_ci(values)
    return MetricResult(float(values.mean()), values.tolist(), low, high, dict(extra), hib)


def _mia(members, holdout) -> MetricResult:
    value = auc_roc(members, holdout)
    return MetricResult(value, list(map(float, members)), max(0.0, value - 0.08), min(1.0, value + 0.08),
                        {"holdout_scores": list(map(float, holdout)), "attack": "min_k"}, None)


def make_metrics(forgotten: float, seed: int = 0, retain_ratios=None,
                 damage: float | None = None) -> dict[str, MetricResult]:
    """Metrics of a model that has forgotten a fraction ``forgotten`` (0 = original) and lost
    ``damage`` (default ``forgotten ** 2``) of its utility."""
    damage = forgotten ** 2 if damage is None else damage
    rng = np.random.default_rng(seed)
    n = 40
    prob = np.clip(rng.normal(0.8 * (1 - forgotten) + 0.05, 0.08, n), 0, 1)
    ratios = np.exp(rng.normal(-1.5 * (1 - forgotten), 0.6, n))
    members = rng.normal(-1.0 - 1.6 * forgotten, 0.5, n)
    holdout = rng.normal(-2.6, 0.5, n)
    answers = ["I cannot recall that." if forgotten > 0.5 else a for _, a in QUESTIONS]
    forget_samples = [{"prompt": q, "reference": a, "generation": g}
                      for (q, a), g in zip(QUESTIONS, answers)]
    retain_samples = [{"prompt": q, "reference": a, "generation": a if damage < 0.8 else
                       "Paris, maybe."} for q, a in RETAIN_QUESTIONS]
    keyword = (rng.random(n) < 0.9 * (1 - forgotten)).astype(float)
    metrics = {
        "forget/answer_prob": _mean(prob, True),
        "forget/rouge_l_recall": _mean(np.clip(prob + 0.05, 0, 1), True, samples=forget_samples),
        "forget/keyword_accuracy": _mean(keyword, True),
        "forget/truth_ratio": _mean(np.minimum(ratios, 1 / ratios), True,
                                    aggregation="forget", ratios=ratios.tolist()),
        "forget/exact_memorization": _mean(np.clip(prob - 0.1, 0, 1), None),
        "forget/mia_min_k": _mia(members, holdout),
        "forget/mia_loss": _mia(members + rng.normal(0, 0.3, n), holdout),
        "retain/answer_prob": _mean(np.clip(rng.normal(0.75 - 0.2 * damage, 0.05, n),
                                            0, 1), True, samples=retain_samples),
        "retain/model_utility": _mean([0.62 - 0.25 * damage], True),
    }
    if retain_ratios is not None:
        value = ks_pvalue(ratios, retain_ratios)
        metrics["forget/forget_quality"] = MetricResult(
            value, ratios.tolist(), value / 3, min(1.0, value * 3),
            {"ks_statistic": 0.3, "n_reference": len(retain_ratios)}, True)
    return metrics


def retain_results(path: Path) -> Path:
    """A retain model's results.json (trained without the forget set)."""
    metrics = make_metrics(1.0, seed=99, damage=0.02)
    return write_results(path, build_results(metrics, model_id="tiny-retain"))


def steps(n: int, forgotten: float) -> list[dict]:
    return [{"step": s, "lr": 1e-5 * min(1.0, s / 5) * (1 - s / (n + 1)),
             "loss": -0.5 * s * forgotten, "forget_nll": 2.0 + 0.15 * s * forgotten,
             "retain_loss": 1.2 + 0.01 * s + 0.05 * np.sin(s), "tokens": 128 * s,
             "elapsed_s": 0.1 * s} for s in range(1, n + 1)]


def _attack_row(original: float, unlearned: float, attacked: float, variant: str) -> dict:
    from obliviate.attacks.report import metric_row
    return {"variant": variant, **metric_row(original, unlearned, attacked, [])}


def attack_document(forgotten: float) -> dict:
    """An attack_results.json shaped as ``obliviate.attacks.report`` writes it."""
    unlearned = 0.85 * (1 - forgotten)
    relearn = _attack_row(0.85, unlearned, 0.6, "heldout")
    quant = _attack_row(0.85, unlearned, unlearned + 0.05, "int4_sym")
    variants = {v: {"family": None, "settings": {}, "notes": [], "details": None,
                    "metrics": {"forget/answer_prob": {k: r for k, r in row.items()
                                                       if k != "variant"}}}
                for v, row in (("heldout", relearn), ("int4_sym", quant))}
    return {"schema_version": "1", "kind": "obliviate.attack_results", "settings": {"seed": 0},
            "baseline": {"original": {"forget/answer_prob": 0.85},
                         "unlearned": {"forget/answer_prob": unlearned}},
            "attacks": {
                "relearn": {"status": "ok", "reason": None, "primary": "heldout",
                            "variants": {"heldout": variants["heldout"]},
                            "headline": {"forget/answer_prob": relearn}, "families": {}},
                "quantize": {"status": "ok", "reason": None, "primary": None,
                             "variants": {"int4_sym": variants["int4_sym"]},
                             "headline": {"forget/answer_prob": quant}, "families": {}},
                "probes": {"status": "skipped", "reason": "needs hidden states",
                           "variants": {}, "headline": {}, "families": {}}}}


def make_run(folder: Path, method: str = "npo", forgotten: float = 0.7, seed: int = 1,
             retain_path: Path | None = None, attacks: bool = True, n_steps: int = 25) -> Path:
    """A run directory as ``obliviate run`` with ``eval: before_after`` leaves it."""
    folder.mkdir(parents=True, exist_ok=True)
    ref = None
    if retain_path is not None:
        ref = load_reference_results(retain_path)["metrics"]["forget/truth_ratio"]["extra"]["ratios"]
    after = make_metrics(forgotten, seed=seed, retain_ratios=ref)
    before = make_metrics(0.0, seed=0, retain_ratios=ref)
    config = {"method": method, "model": "tiny-llama", "train": {"lr": 1e-5}}
    results = build_results(after, model_id="tiny-llama", data={"forget": "ab" * 32},
                            config=config, timings={"eval_after_s": 3.2}, peak_memory_mb=812.0)
    results["before"] = {"metrics": build_results(before, model_id="tiny-llama")["metrics"],
                         "samples": build_results(before, model_id="tiny-llama")["samples"]}
    write_results(folder / "results.json", results)
    (folder / "run.json").write_text(json.dumps({
        "method": method, "model": {"id": "tiny-llama"}, "steps": n_steps,
        "wall_time_s": 12.5, "tokens_processed": 4096, "trainable_parameters": 1000,
        "total_parameters": 50000, "peak_memory_mb": 812.0}))
    (folder / "steps.jsonl").write_text("".join(json.dumps(r) + "\n"
                                                for r in steps(n_steps, forgotten)))
    if attacks:
        (folder / "attack_results.json").write_text(json.dumps(attack_document(forgotten)))
    return folder


def test_fixture_run_is_a_valid_results_document(tmp_path):
    retain = retain_results(tmp_path / "retain" / "results.json")
    run = make_run(tmp_path / "run", retain_path=retain)
    doc = load_reference_results(run / "results.json")
    assert "forget/forget_quality" in doc["metrics"]
    assert set(doc["before"]["metrics"]) == set(doc["metrics"])
    assert doc["samples"] and doc["before"]["samples"]
