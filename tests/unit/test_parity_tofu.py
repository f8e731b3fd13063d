"""Parity with TOFU's published numbers (Maini et al. 2024; locuslab/tofu): obliviate's metric
functions, fed the TOFU authors' released per-sample logs for Llama-2-7B (fine-tuned on full
and on retain90; tests/fixtures/parity/, see its README), reproduce every number TOFU's own
aggregation gives on them (expected_tofu_aggregates.json) to 1e-6 relative."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from obliviate.evaluation.base import mean_result
from obliviate.evaluation.metrics.answer_prob import option_normalised, prob_from_mean_nll
from obliviate.evaluation.metrics.forget_quality import ks_pvalue
from obliviate.evaluation.metrics.model_utility import harmonic_mean
from obliviate.evaluation.metrics.rouge import rouge_l
from obliviate.evaluation.metrics.truth_ratio import aggregate, truth_ratios_from_losses

PARITY = Path(__file__).resolve().parents[1] / "fixtures" / "parity" / "tofu"
EXPECTED = json.loads((PARITY / "expected_tofu_aggregates.json").read_text())
SETS = {"Retain": "eval_log.json", "RA": "eval_real_author_wo_options.json",
        "WF": "eval_real_world_wo_options.json", "Forget": "eval_log_forget.json"}
MODELS = ("full", "retain90")
REL = 1e-6


def _log(model: str) -> dict:
    return json.loads((PARITY / f"llama2-7b_{model}_eval_log_aggregated.json").read_text())


def _column(block: dict, field: str) -> list:
    return [block[field][k] for k in sorted(block[field], key=int)]


def _ratios(block: dict) -> np.ndarray:
    return truth_ratios_from_losses(np.array(_column(block, "avg_paraphrased_loss")),
                                    [np.array(p) for p in _column(block, "average_perturb_loss")])


def numbers(model: str) -> dict[str, float]:
    """The 12 per-set numbers and model utility, computed by obliviate's functions."""
    log, out = _log(model), {}
    for name, key in SETS.items():
        block = log[key]
        prob = prob_from_mean_nll(np.array(_column(block, "avg_gt_loss")))
        if name in ("RA", "WF"):  # normalised over the answer and its perturbed answers
            wrong = [prob_from_mean_nll(np.array(p)) for p in _column(block, "average_perturb_loss")]
            prob = option_normalised([np.concatenate([[p], w]) for p, w in zip(prob, wrong)],
                                     [0] * len(prob))
        texts = _column(block, "generated_text")
        rouge = [rouge_l(truth, generation)[0] for _, generation, truth in texts]
        how = "forget" if name == "Forget" else "retain"
        out[f"Prob {name}"] = mean_result(prob).value
        out[f"ROUGE {name}"] = mean_result(rouge).value
        out[f"TR {name}"] = mean_result(aggregate(_ratios(block), how)).value
    utility = [out[f"{m} {s}"] for s in ("Retain", "RA", "WF") for m in ("Prob", "ROUGE", "TR")]
    out["MU"] = harmonic_mean(utility)
    return out


@pytest.mark.parametrize("model", MODELS)
def test_every_published_aggregate_is_reproduced(model):
    ours = numbers(model)
    assert set(ours) == set(EXPECTED[model])
    for key, expected in EXPECTED[model].items():
        assert ours[key] == pytest.approx(expected, rel=REL), key


@pytest.mark.parametrize("model", MODELS)
def test_rouge_recomputed_from_generations_equals_the_logged_values(model):
    """rouge_score's ROUGE-L recall with stemming, score(ground truth, generation)."""
    for key in SETS.values():
        block = _log(model)[key]
        ours = [rouge_l(t, g)[0] for _, g, t in _column(block, "generated_text")]
        np.testing.assert_allclose(ours, _column(block, "rougeL_recall"), rtol=REL, atol=1e-12)


def test_forget_quality_of_full_vs_retain90_and_of_retain90_vs_itself():
    full = _ratios(_log("full")[SETS["Forget"]])
    retain = _ratios(_log("retain90")[SETS["Forget"]])
    assert ks_pvalue(full, retain) == pytest.approx(EXPECTED["fq_full_vs_retain90"], rel=REL)
    assert ks_pvalue(retain, retain) == pytest.approx(EXPECTED["fq_retain_vs_retain"], rel=REL)


def test_truth_ratios_match_the_logged_per_sample_values():
    """TOFU logs R per sample (float32 in its logs, hence 1e-5)."""
    for key in SETS.values():
        block = _log("full")[key]
        np.testing.assert_allclose(_ratios(block), _column(block, "truth_ratio"), rtol=1e-5)
