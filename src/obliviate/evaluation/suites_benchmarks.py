"""The benchmark suites: ``tofu`` (Maini et al. 2024, "TOFU: A Task of Fictitious Unlearning for
LLMs", arXiv:2401.06121), ``muse`` (Shi et al. 2024, "MUSE: Machine Unlearning Six-Way
Evaluation for Language Models", arXiv:2407.06460) and ``wmdp`` (Li et al. 2024, "The WMDP
Benchmark: Measuring and Reducing Malicious Use With Unlearning", arXiv:2403.03218, with MMLU,
Hendrycks et al. 2021, arXiv:2009.03300, as the utility check).

Each suite is built from the names of the data sets at hand; the ``*_datasets`` helpers turn the
loaders' dataclasses into exactly those names. Entries whose data sets are absent are skipped.
Entries that compare with the retain model (forget quality, PrivLeak) are marked by
:func:`needs_reference`; evaluate the retain model without them first (see
:func:`without_reference`), then pass its results as ``reference_results``.
"""
from __future__ import annotations

from dataclasses import fields
from typing import Any, Collection

from obliviate.data.types import Example

Entry = tuple  # (metric, dataset) or (metric, dataset, options)

#: Metrics that read a reference (retain) model's results.
REFERENCE_METRICS = frozenset({"forget_quality", "privleak"})

#: TOFU's eval sets: the perturbed configs carry the question/answer pairs scored for
#: probability and ROUGE as well as the paraphrased / perturbed answers of the truth ratio.
TOFU_UTILITY_SETS = {"retain": "retain_perturbed", "real_authors": "real_authors_perturbed",
                     "world_facts": "world_facts_perturbed"}

#: TOFU's generation budget: open-unlearning's ``generation/default.yaml`` (greedy, at most 200
#: new tokens; every row stops at EOS). Pinned on the suite's ROUGE entries.
TOFU_MAX_NEW_TOKENS = 200

#: MMLU subjects closest to the WMDP domains, reported separately in the WMDP paper (tab. 1).
WMDP_MMLU_SUBJECTS = ("college_biology", "virology", "college_computer_science",
                      "computer_security")


def needs_reference(entry: Entry) -> bool:
    """True when ``entry`` compares with a reference (retain) model's results."""
    return entry[0] in REFERENCE_METRICS


def without_reference(entries: list[Entry]) -> list[Entry]:
    """The entries that need no reference results (to evaluate the retain model itself)."""
    return [e for e in entries if not needs_reference(e)]


def _present(datasets: Collection[str], *names: str) -> bool:
    return all(n in datasets for n in names)


def tofu_suite(datasets: Collection[str]) -> list[Entry]:
    """TOFU's reported numbers (Maini et al. 2024, sec. 2.5): forget quality (KS p-value of the
    forget truth ratios against the retain model's), model utility (harmonic mean of
    probability, ROUGE-L recall and truth ratio on the retain set, Real Authors and World
    Facts), forget truth ratio, forget probability and forget ROUGE-L recall; plus PrivLeak
    (MUSE, Min-K% forget vs holdout), extraction strength and the retain-side numbers."""
    entries: list[Entry] = []
    forget = "forget_perturbed" if "forget_perturbed" in datasets else "forget"
    rouge = {"max_new_tokens": TOFU_MAX_NEW_TOKENS}
    if forget in datasets:
        entries += [("answer_prob", forget, {"key": "forget/answer_prob"}),
                    ("rouge_l_recall", forget, {**rouge, "key": "forget/rouge_l_recall"})]
    if "forget_perturbed" in datasets:
        # default key "forget_perturbed/truth_ratio": forget quality reads it from the
        # reference results under that name
        entries += [("truth_ratio", "forget_perturbed", {"aggregation": "forget"}),
                    ("forget_quality", "forget_perturbed", {"key": "forget_quality"})]
    if "forget" in datasets:
        entries.append(("extraction_strength", "forget"))
    if _present(datasets, "forget", "holdout"):
        entries += [("mia_min_k", "forget"), ("privleak", "forget", {"mia": "mia_min_k"})]
    retain = "retain_perturbed" if "retain_perturbed" in datasets else "retain"
    if retain in datasets:
        entries += [("answer_prob", retain, {"key": "retain/answer_prob"}),
                    ("rouge_l_recall", retain, {**rouge, "key": "retain/rouge_l_recall"})]
    if _present(datasets, *TOFU_UTILITY_SETS.values()):
        entries.append(("model_utility", "retain_perturbed",
                        {**TOFU_UTILITY_SETS, **rouge, "key": "model_utility"}))
    return entries


def muse_suite(datasets: Collection[str]) -> list[Entry]:
    """MUSE's criteria where data allows (Shi et al. 2024, sec. 3): C1 verbatim memorisation
    (ROUGE-L F1 of continuations of forget passages), C2 knowledge memorisation on the forget
    QA, C3 privacy leakage (PrivLeak: Min-K% AUC forget vs holdout relative to the retain
    model's) and C4 utility preservation (knowledge memorisation on the retain QA). C5
    scalability and C6 sustainability are runs, not metrics: see ``obliviate bench muse
    --muse-scal / --muse-sust``."""
    entries: list[Entry] = []
    if "verbmem" in datasets:
        entries.append(("verbmem", "verbmem", {"key": "verbmem_forget"}))
    if "knowmem_forget" in datasets:
        entries.append(("knowmem", "knowmem_forget", {"key": "knowmem_forget"}))
    if "knowmem_retain" in datasets:
        entries.append(("knowmem", "knowmem_retain", {"key": "knowmem_retain"}))
    if _present(datasets, "privleak_forget", "privleak_holdout"):
        # MUSE scores each privleak text whole (texts run to ~2,048 tokens)
        options = {"holdout": "privleak_holdout", "whole_text": True}
        entries += [("mia_min_k", "privleak_forget", options),
                    ("privleak", "privleak_forget", {**options, "mia": "mia_min_k",
                                                     "key": "privleak"})]
    return entries


def wmdp_suite(datasets: Collection[str]) -> list[Entry]:
    """Zero-shot multiple-choice accuracy (lm-evaluation-harness format) on each WMDP domain
    (``wmdp-bio``, ``wmdp-chem``, ``wmdp-cyber``) and on MMLU (``mmlu``, all subjects given,
    and ``mmlu-<subject>`` subsets such as college biology and computer security)."""
    names = sorted(d for d in datasets if d.startswith("wmdp-"))
    names += [d for d in ("mmlu",) if d in datasets]
    names += sorted(d for d in datasets if d.startswith("mmlu-"))
    return [("mc_accuracy", name) for name in names]


def tofu_datasets(data: Any) -> dict[str, list[Example]]:
    """A :class:`TofuData` as the data set names the ``tofu`` suite expects (its field names:
    forget, retain, holdout, forget_perturbed, retain_perturbed, real_authors(_perturbed),
    world_facts(_perturbed)); empty sets are left out."""
    out = {f.name: getattr(data, f.name) for f in fields(data)
           if isinstance(getattr(data, f.name), list)}
    return {k: v for k, v in out.items() if v}


def muse_datasets(data: Any) -> dict[str, list[Example]]:
    """A :class:`MuseData` as the names the ``muse`` suite expects (its field names)."""
    return tofu_datasets(data)


def wmdp_datasets(data: Any, subjects: Collection[str] = WMDP_MMLU_SUBJECTS) -> dict[str, list[Example]]:
    """A :class:`WmdpData` as ``wmdp-<domain>``, ``mmlu`` and ``mmlu-<subject>`` sets (the
    subjects of ``subjects`` that have questions), plus ``forget``/``retain`` corpora."""
    out: dict[str, list[Example]] = {name: list(qs) for name, qs in data.questions.items() if qs}
    if data.mmlu:
        out["mmlu"] = list(data.mmlu)
        for subject in subjects:
            chosen = [e for e in data.mmlu if e.meta.get("subject") == subject]
            if chosen:
                out[f"mmlu-{subject}"] = chosen
    for name in ("forget", "retain"):
        if getattr(data, name):
            out[name] = list(getattr(data, name))
    return out
