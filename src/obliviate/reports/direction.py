"""Which way is good for a metric in an unlearning report, and whether a change was good.

A metric declares ``higher_is_better`` from its own point of view (a higher answer probability
is "better" model behaviour). Unlearning wants the opposite on the data to forget, so the
report's *goal* is:

1. ``extra["goal"]`` ("higher", "lower" or "target") when the metric wrote one;
2. for a knowledge metric (:data:`KNOWLEDGE`) on a forget-like data set (the name contains
   "forget", or is "probes", the paraphrased forget questions): "lower" (perplexity: "higher");
3. ``higher_is_better`` True -> "higher", False -> "lower";
4. None (closeness) -> "target" when a target is known (``extra["target"]``, the retain model's
   value of the same key, 0 for PrivLeak, 0.5 = chance for a membership-inference AUC without a
   retain model), else "none": the change is shown without a verdict.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from obliviate.reports.loading import extra, metric_value, number

#: Metrics that measure how much the model knows or reproduces of a data set.
KNOWLEDGE = frozenset({
    "answer_prob", "option_prob", "rouge_l_recall", "rouge_l_f1", "keyword_accuracy",
    "mc_accuracy", "knowmem", "verbmem", "exact_memorization", "extraction_strength",
    "perplexity",
})

#: Human-readable unit of each metric, for table headers and plot axes.
UNITS = {
    "answer_prob": "probability, 0-1", "option_prob": "probability, 0-1",
    "rouge_l_recall": "ROUGE-L recall, 0-1", "rouge_l_f1": "ROUGE-L F1, 0-1",
    "keyword_accuracy": "fraction of answers, 0-1", "mc_accuracy": "accuracy, 0-1",
    "knowmem": "ROUGE-L F1, percent", "verbmem": "ROUGE-L F1, percent", "truth_ratio": "0-1",
    "exact_memorization": "fraction of tokens, 0-1", "extraction_strength": "fraction, 0-1",
    "forget_quality": "KS-test p-value", "model_utility": "harmonic mean, 0-1",
    "perplexity": "perplexity", "privleak": "percent, 0 = retrained model", "efficiency": "seconds",
    "fluency": "share of distinct tokens, 0-1", "min_k": "mean log-prob, nats",
    "acc": "accuracy, 0-1", "acc_norm": "accuracy, 0-1",  # lm-eval's names
}

GOAL_HINT = {"higher": "higher is better", "lower": "lower is better",
             "target": "closer to target is better", "none": ""}

VERDICT_TEXT = {"better": "better", "worse": "worse", "unclear": "within CI",
                "none": "", "same": "no change"}


def metric_name(key: str) -> str:
    return key.rsplit("/", 1)[-1]


def dataset_name(key: str) -> str:
    return key.rsplit("/", 1)[0] if "/" in key else ""


def unit(key: str) -> str:
    name = metric_name(key)
    return "AUC-ROC, 0-1" if name.startswith("mia_") else UNITS.get(name, "")


def forget_like(dataset: str) -> bool:
    return "forget" in dataset.lower() or dataset.lower() == "probes"


def target_of(key: str, entry: dict[str, Any], retain_metrics: dict[str, Any] | None) -> tuple[float | None, str]:
    """The value a closeness metric should approach, and where it comes from."""
    given = number(extra(entry).get("target"))
    if given is not None:
        return given, "target"
    reference = metric_value(retain_metrics or {}, key)
    if reference is not None:
        return reference, "retain model"
    name = metric_name(key)
    if name == "privleak":
        return 0.0, "no leak"
    if name.startswith("mia_"):
        return 0.5, "chance"
    return None, ""


def goal(key: str, entry: dict[str, Any], retain_metrics: dict[str, Any] | None = None) -> str:
    """"higher", "lower", "target" or "none" (see the module docstring)."""
    wanted = extra(entry).get("goal")
    if wanted in ("higher", "lower", "target"):
        return wanted
    name = metric_name(key)
    if name in KNOWLEDGE and forget_like(dataset_name(key)):
        return "higher" if name == "perplexity" else "lower"
    hib = entry.get("higher_is_better")
    if hib is True:
        return "higher"
    if hib is False:
        return "lower"
    return "target" if target_of(key, entry, retain_metrics)[0] is not None else "none"


@dataclass
class Change:
    """One metric's before/after comparison."""

    key: str
    goal: str
    before: float | None
    after: float | None
    target: float | None
    target_source: str
    verdict: str  # better | worse | unclear | same | none

    @property
    def delta(self) -> float | None:
        if self.before is None or self.after is None:
            return None
        return self.after - self.before


def _inside(value: float, entry: dict[str, Any] | None) -> bool:
    low, high = number((entry or {}).get("ci_low")), number((entry or {}).get("ci_high"))
    return low is not None and high is not None and low <= value <= high


def compare(key: str, before: dict[str, Any] | None, after: dict[str, Any],
            retain_metrics: dict[str, Any] | None = None) -> Change:
    """The goal of ``key`` and the verdict on the change from ``before`` to ``after``."""
    entry = after or before or {}
    how = goal(key, entry, retain_metrics)
    target, source = target_of(key, entry, retain_metrics) if how == "target" else (None, "")
    b, a = number((before or {}).get("value")), number((after or {}).get("value"))
    verdict = "none"
    if b is not None and a is not None and how != "none":
        if how == "target" and target is not None:
            gain = abs(b - target) - abs(a - target)
        else:
            gain = (a - b) if how == "higher" else (b - a)
        if gain == 0:
            verdict = "same"
        elif _inside(a, before):
            verdict = "unclear"
        else:
            verdict = "better" if gain > 0 else "worse"
    return Change(key, how, b, a, target, source, verdict)


def better_of(values: list[float | None], how: str, target: float | None = None) -> float | None:
    """The best of ``values`` under goal ``how`` (None when there is no ordering)."""
    finite = [v for v in values if v is not None]
    if not finite or how == "none":
        return None
    if how == "target":
        return None if target is None else min(finite, key=lambda v: abs(v - target))
    return max(finite) if how == "higher" else min(finite)
