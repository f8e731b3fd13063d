"""Settings of the ecosystem bridges (lm-eval, trackers, Hub push) and lm-eval's result
conversion, worked by hand on a results dict shaped like lm-eval's."""
from __future__ import annotations

import pytest

from obliviate.config import LmEvalConfig, load_config
from obliviate.errors import ConfigError


def test_lm_eval_section_and_push_to_hub_parse():
    cfg = load_config(None, ["data.forget=f.jsonl", "eval=after", "lm_eval.tasks=[a,b]",
                             "lm_eval.limit=5", "push_to_hub=org/name-1.0",
                             "train.report_to=[tensorboard,mlflow]"])
    assert cfg.lm_eval == LmEvalConfig(tasks=["a", "b"], limit=5)
    assert cfg.push_to_hub == "org/name-1.0" and cfg.train.report_to == ["tensorboard", "mlflow"]


@pytest.mark.parametrize("override, message", [
    ("lm_eval.tasks=wmdp", "lm_eval.tasks must be a list"),
    ("lm_eval.limit=0", "lm_eval.limit must be at least 1"),
    ("lm_eval.batch_size=0", "lm_eval.batch_size must be at least 1"),
    ("push_to_hub=just-a-name", "push_to_hub must be a Hugging Face repository id"),
    ("push_to_hub=org/na me", "push_to_hub must be"),
    ("train.report_to=tensorboard", "train.report_to must be a list"),
])
def test_bad_settings_are_config_errors(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(None, ["data.forget=f.jsonl", "eval=after", override])


def test_metric_entries_names_filters_and_stderr():
    pytest.importorskip("lm_eval")
    from obliviate.evaluation.lm_eval_bridge import metric_entries

    samples = [{"doc_id": 1, "filter": "strict-match", "exact_match": 1.0},
               {"doc_id": 0, "filter": "strict-match", "exact_match": 0.0},
               {"doc_id": 0, "filter": "flexible", "exact_match": 1.0}]
    raw = {"results": {"gsm": {"alias": "gsm", "exact_match,strict-match": 0.5,
                               "exact_match_stderr,strict-match": 0.5,
                               "exact_match,flexible": 1.0,
                               "exact_match_stderr,flexible": "N/A"},
                       "ppl": {"word_perplexity,none": 12.5,
                               "word_perplexity_stderr,none": 2.0}},
           "samples": {"gsm": samples}, "configs": {"gsm": {"output_type": "generate_until"}},
           "higher_is_better": {"gsm": {"exact_match": True}, "ppl": {"word_perplexity": False}},
           "n-samples": {"gsm": {"effective": 2}}, "versions": {"gsm": 3}}
    entries = metric_entries(raw)
    assert set(entries) == {"lm_eval/gsm/exact_match,strict-match",
                            "lm_eval/gsm/exact_match,flexible", "lm_eval/ppl/word_perplexity"}
    strict = entries["lm_eval/gsm/exact_match,strict-match"]
    assert strict["per_sample"] == [0.0, 1.0]  # ordered by doc_id, its own filter only
    assert (strict["ci_low"], strict["ci_high"]) == (0.0, 1.0)  # 0.5 +- 0.98, kept in [0, 1]
    assert strict["extra"]["stderr"] == 0.5 and "predictions" not in strict["extra"]
    flexible = entries["lm_eval/gsm/exact_match,flexible"]
    assert flexible["extra"]["stderr"] is None and flexible["ci_low"] == flexible["ci_high"] == 1.0
    ppl = entries["lm_eval/ppl/word_perplexity"]
    assert (ppl["ci_low"], ppl["ci_high"]) == pytest.approx((12.5 - 3.92, 12.5 + 3.92))
    assert ppl["higher_is_better"] is False


def test_wmdp_tasks_aim_lower_in_the_report():
    pytest.importorskip("lm_eval")
    from obliviate.evaluation.lm_eval_bridge import metric_entries
    from obliviate.reports.direction import goal

    raw = {"results": {"wmdp_bio": {"acc,none": 0.4}, "mmlu": {"acc,none": 0.5}},
           "higher_is_better": {"wmdp_bio": {"acc": True}, "mmlu": {"acc": True}}}
    entries = metric_entries(raw)
    assert goal("lm_eval/wmdp_bio/acc", entries["lm_eval/wmdp_bio/acc"]) == "lower"
    assert goal("lm_eval/mmlu/acc", entries["lm_eval/mmlu/acc"]) == "higher"
