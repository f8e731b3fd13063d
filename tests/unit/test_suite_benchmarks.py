"""The tofu / muse / wmdp suites resolve on the fixture data, and model utility is the
harmonic mean of TOFU's nine numbers."""
from __future__ import annotations

from pathlib import Path

import pytest

from obliviate.data.benchmarks import load_muse, load_tofu, load_wmdp
from obliviate.evaluation import build_results, evaluate
from obliviate.data.prompting import PromptFormat
from obliviate.evaluation.metrics.model_utility import harmonic_mean
from obliviate.evaluation.results import dataset_hash
from obliviate.evaluation.suites import resolve_suite
from obliviate.evaluation.suites_benchmarks import (
    muse_datasets, needs_reference, tofu_datasets, tofu_suite, without_reference, wmdp_datasets)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture(scope="module")
def tofu_sets():
    return tofu_datasets(load_tofu(FIXTURES / "tofu", "forget10"))


def test_tofu_suite_names_every_reported_number(tofu_sets):
    entries = resolve_suite("tofu", tofu_sets)
    keys = {o.get("key", f"{d}/{m}") for m, d, o in entries}
    assert {"forget_quality", "model_utility", "forget_perturbed/truth_ratio",
            "forget/answer_prob", "forget/rouge_l_recall", "forget/privleak",
            "forget/extraction_strength"} <= keys
    for metric, dataset, options in entries:
        assert dataset in tofu_sets
        assert options.get("holdout", "holdout") in tofu_sets


def test_tofu_utility_reads_the_perturbed_eval_sets(tofu_sets):
    [(_, _, options)] = [e for e in resolve_suite("tofu", tofu_sets) if e[0] == "model_utility"]
    assert options["retain"] == "retain_perturbed"
    assert options["real_authors"] == "real_authors_perturbed"
    assert options["world_facts"] == "world_facts_perturbed"


def test_tofu_suite_skips_absent_sets():
    assert tofu_suite({"forget"}) == [("answer_prob", "forget", {"key": "forget/answer_prob"}),
                                      ("rouge_l_recall", "forget", {"max_new_tokens": 200,
                                                                    "key": "forget/rouge_l_recall"}),
                                      ("extraction_strength", "forget")]


def test_reference_entries_are_marked(tofu_sets):
    entries = resolve_suite("tofu", tofu_sets)
    assert {e[0] for e in entries if needs_reference(e)} == {"forget_quality", "privleak"}
    assert not any(needs_reference(e) for e in without_reference(entries))


def test_muse_suite_resolves_on_fixture():
    sets = muse_datasets(load_muse(FIXTURES / "muse"))
    entries = resolve_suite("muse", sets)
    keys = {o.get("key", f"{d}/{m}") for m, d, o in entries}
    assert {"verbmem_forget", "knowmem_forget", "knowmem_retain", "privleak"} <= keys
    privleak = next(o for m, _, o in entries if m == "privleak")
    assert privleak["holdout"] == "privleak_holdout"


def test_wmdp_suite_resolves_on_fixture():
    data = load_wmdp(FIXTURES / "wmdp", mmlu_source=FIXTURES / "wmdp")
    entries = resolve_suite("wmdp", wmdp_datasets(data))
    assert [(m, d) for m, d, _ in entries] == [
        ("mc_accuracy", "wmdp-bio"), ("mc_accuracy", "wmdp-chem"), ("mc_accuracy", "wmdp-cyber"),
        ("mc_accuracy", "mmlu")]


def test_tofu_suite_runs_and_utility_is_the_harmonic_mean(tofu_sets, tiny_model, tiny_tokenizer):
    entries = resolve_suite("tofu", tofu_sets)
    first = evaluate(tiny_model, tiny_tokenizer, tofu_sets, without_reference(entries),
                     max_new_tokens=4)
    reference = build_results(first, model_id="tiny", prompt=PromptFormat().as_dict(),
                              eval_data={n: dataset_hash(e) for n, e in tofu_sets.items()})
    out = evaluate(tiny_model, tiny_tokenizer, tofu_sets, "tofu", reference_results=reference,
                   max_new_tokens=4)
    assert out["forget_quality"].value == pytest.approx(1.0)  # same model as its reference
    utility = out["model_utility"]
    components = utility.extra["components"]
    assert len(components) == 9
    assert set(components) == {
        "retain_perturbed/answer_prob", "retain_perturbed/rouge_l_recall",
        "retain_perturbed/truth_ratio_retain", "real_authors_perturbed/option_prob",
        "real_authors_perturbed/rouge_l_recall", "real_authors_perturbed/truth_ratio_retain",
        "world_facts_perturbed/option_prob", "world_facts_perturbed/rouge_l_recall",
        "world_facts_perturbed/truth_ratio_retain"}
    assert utility.value == pytest.approx(harmonic_mean(list(components.values())))
    assert components["retain_perturbed/answer_prob"] == pytest.approx(
        out["retain/answer_prob"].value)
