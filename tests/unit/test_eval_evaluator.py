"""evaluate() end to end on a tiny model: suites, needs, reference results, results schema."""
import json
import math

import pytest

from obliviate.data.types import Example
from obliviate.errors import ConfigError
from obliviate.evaluation import (
    SUITES, build_results, evaluate, generate, load_reference_results, summary_table,
    write_results,
)
from obliviate.data.prompting import PromptFormat, set_prompt_format
from obliviate.evaluation.metrics.multiple_choice import mc_prompt
from obliviate.evaluation.results import dataset_hash
from obliviate.evaluation.suites import resolve_suite
from test_eval_fixtures import make_model, make_tokenizer, qa_set, text_set


@pytest.fixture(scope="module")
def setup():
    model, tok = make_model(), make_tokenizer()
    data = {"forget": qa_set(6), "retain": qa_set(5, offset=10), "holdout": qa_set(6, offset=20),
            "probes": qa_set(3, offset=30)}
    return model, tok, data


def test_default_suite_runs_and_shares_one_pass(setup) -> None:
    model, tok, data = setup
    from obliviate.evaluation.scoring import ScoreCache
    cache = ScoreCache()
    results = evaluate(model, tok, data, "default", max_new_tokens=8, cache=cache)
    expected = {"forget/answer_prob", "forget/rouge_l_recall", "forget/exact_memorization",
                "forget/extraction_strength", "forget/min_k", "retain/answer_prob",
                "probes/rouge_l_recall", "forget/mia_loss", "forget/mia_zlib", "forget/mia_min_k",
                "forget/mia_min_k_plus_plus"}
    assert expected <= set(results)
    # 4 data sets scored once each + 3 generated once each: 7 computations, the rest hits
    assert cache.misses == 7 and cache.hits > 0
    for r in results.values():
        assert math.isfinite(r.value) and r.ci_low <= r.value + 1e-9 <= r.ci_high + 2e-9
    assert 0 <= results["forget/answer_prob"].value <= 1


def test_default_suite_skips_absent_sets() -> None:
    entries = resolve_suite("default", {"forget"})
    assert {d for _, d, _ in entries} == {"forget"}
    assert not any(m.startswith("mia_") for m, _, _ in entries)


def test_benchmark_suites_and_unknown_names() -> None:
    # the tofu/muse/wmdp suites are filled (evaluation/suites_benchmarks.py), no placeholders
    assert SUITES.get("tofu")({"forget"})
    assert SUITES.get("wmdp")({"wmdp-bio"}) == [("mc_accuracy", "wmdp-bio")]
    with pytest.raises(ConfigError, match="Did you mean 'answer_prob'"):
        evaluate(None, None, {"forget": qa_set(1)}, [("answer_prb", "forget")])


def test_needs_are_checked_before_any_pass(setup) -> None:
    model, tok, data = setup
    with pytest.raises(ConfigError, match="needs reference_results"):
        evaluate(model, tok, data, [("forget_quality", "forget")])
    with pytest.raises(ConfigError, match="needs data set 'holdout'"):
        evaluate(model, tok, {"forget": data["forget"]}, [("mia_loss", "forget")])


def test_reference_metrics_and_results_roundtrip(setup, tmp_path) -> None:
    model, tok, data = setup
    suite = [("truth_ratio", "forget"), ("mia_min_k", "forget"), ("perplexity", "retain")]
    ours = evaluate(model, tok, data, suite)
    results = build_results(ours, model_id="tiny", data={"forget": "x"}, config={"a": 1},
                            prompt=PromptFormat().as_dict(),
                            eval_data={n: dataset_hash(e) for n, e in data.items()})
    path = write_results(tmp_path / "results.json", results)
    reference = load_reference_results(path)
    assert set(reference) >= {"schema_version", "obliviate_version", "git_commit", "model", "data",
                              "config", "environment", "timings", "peak_memory_mb", "metrics",
                              "samples"}
    same = evaluate(model, tok, data, [("forget_quality", "forget"), ("privleak", "forget")],
                    reference_results=str(path))
    assert same["forget/forget_quality"].value == pytest.approx(1.0)  # same model: identical ratios
    assert same["forget/privleak"].value == pytest.approx(0.0, abs=1e-12)
    assert math.isnan(same["forget/forget_quality"].ci_low)  # a p-value has no CI
    assert math.isnan(same["forget/forget_quality"].ci_high)
    assert "forget/truth_ratio" in summary_table(reference)
    assert json.loads(path.read_text())["metrics"]["retain/perplexity"]["higher_is_better"] is False


def test_option_prob_mc_and_model_utility(setup) -> None:
    model, tok, data = setup
    mc = [Example("who wrote the book ?", "", {"choices": ["alice", "bob", "dog", "cat"],
                                                 "answer": i % 4}) for i in range(4)]
    sets = dict(data, real_authors=qa_set(3, 40), world_facts=qa_set(3, 44), mc=mc)
    out = evaluate(model, tok, sets, [("option_prob", "real_authors"), ("mc_accuracy", "mc"),
                                      ("model_utility", "tofu")], max_new_tokens=6)
    assert 0 < out["real_authors/option_prob"].value < 1
    assert out["mc/mc_accuracy"].value in {0.0, 0.25, 0.5, 0.75, 1.0}
    assert len(out["tofu/model_utility"].per_sample) == 9
    assert mc_prompt("Q?", ["x", "y"]) == "Q?\nA. x\nB. y\nAnswer:"


def test_mia_gradient_and_reference(setup) -> None:
    model, tok, data = setup
    other = make_model(seed=1)
    out = evaluate(model, tok, data, [("mia_gradient_norm", "forget"), ("mia_reference", "forget")],
                   reference_model=other)
    for r in out.values():
        assert 0.0 <= r.value <= 1.0
    assert all(p.grad is None for p in model.parameters())


def test_generation_and_verbmem(setup) -> None:
    model, tok, data = setup
    texts = generate(model, tok, ["the cat sat", "who"], max_new_tokens=4)
    assert len(texts) == 2 and all(isinstance(t, str) for t in texts)
    out = evaluate(model, tok, {"forget": text_set(4)}, [("verbmem", "forget", {"prefix_tokens": 3, "max_new_tokens": 8})])
    assert 0.0 <= out["forget/verbmem"].value <= 100.0  # MUSE reports ROUGE-L F1 x100


def test_reference_with_other_prompt_or_data_is_refused(setup) -> None:
    """Forget quality and PrivLeak refuse reference results made with another prompt format
    or on other data (checked against results.json's prompt and eval_data)."""
    model, tok, data = setup
    ours = evaluate(model, tok, data, [("truth_ratio", "forget"), ("mia_min_k", "forget")])
    hashes = {n: dataset_hash(e) for n, e in data.items()}
    other_prompt = build_results(ours, model_id="t", prompt=PromptFormat("plain").as_dict(),
                                 eval_data=hashes)
    for entry in [("forget_quality", "forget"), ("privleak", "forget")]:
        with pytest.raises(ConfigError, match="prompt format='plain'"):
            evaluate(model, tok, data, [entry], reference_results=other_prompt)
    other_data = build_results(ours, model_id="t", prompt=PromptFormat().as_dict(),
                               eval_data={**hashes, "forget": "0" * 64})
    for entry in [("forget_quality", "forget"), ("privleak", "forget")]:
        with pytest.raises(ConfigError, match="data set 'forget' differs"):
            evaluate(model, tok, data, [entry], reference_results=other_data)
    fresh = make_tokenizer()
    set_prompt_format(fresh, PromptFormat("plain"))  # now the evaluation's format matches
    plain = evaluate(model, fresh, data, [("truth_ratio", "forget"), ("mia_min_k", "forget")])
    ok = build_results(plain, model_id="t", prompt=PromptFormat("plain").as_dict(),
                       eval_data=hashes)
    out = evaluate(model, fresh, data, [("privleak", "forget")], reference_results=ok)
    assert out["forget/privleak"].value == pytest.approx(0.0, abs=1e-12)
