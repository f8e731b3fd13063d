"""Where PrivLeak's retrain AUC comes from: ``options["reference_auc"]`` (MUSE orientation) or
the reference results (ours, flipped), checked against the data sets named, and never <= 0."""
from __future__ import annotations

import pytest

from obliviate.data.types import Example
from obliviate.errors import ConfigError
from obliviate.evaluation.context import EvalContext
from obliviate.evaluation.metrics.privleak import _reference_auc
from obliviate.evaluation.results import dataset_hash
from test_eval_fixtures import make_tokenizer


def _ctx(holdout_name: str) -> EvalContext:
    tok = make_tokenizer()
    data = {"f": [Example("", "the cat sat")], holdout_name: [Example("", "a dog ran")]}
    ctx = EvalContext(None, tok, data)
    ctx.reference_results = {"prompt": ctx.prompt.as_dict(),
                             "eval_data": {n: dataset_hash(e) for n, e in data.items()},
                             "metrics": {"f/mia_min_k": {"value": 0.7}}}
    return ctx


def test_reference_auc_from_the_options() -> None:
    assert _reference_auc(None, "f", "mia_min_k", {"reference_auc": 0.4772}) == 0.4772
    assert _reference_auc(None, "f", "mia_min_k", {"reference_auc": "0.5"}) == 0.5


def test_reference_auc_from_the_reference_results_with_the_named_holdout() -> None:
    # the retrain model's AUC in our orientation is 0.7: 0.3 in MUSE's
    assert _reference_auc(_ctx("ph"), "f", "mia_min_k", {"holdout": "ph"}) == pytest.approx(0.3)
    assert _reference_auc(_ctx("holdout"), "f", "mia_min_k", {}) == pytest.approx(0.3)


def test_a_reference_auc_of_zero_is_refused() -> None:
    message = (r"^the retrain model's AUC for f/mia_min_k is 0.0 \(holdout positive\); PrivLeak "
               r"divides by it, so it must be > 0.$")
    with pytest.raises(ConfigError, match=message):
        _reference_auc(None, "f", "mia_min_k", {"reference_auc": 0})
