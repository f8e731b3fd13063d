"""The scoring engine against a plain per-sequence computation, and the cache."""
import numpy as np
import pytest
import torch

from obliviate.data.tokenize import tokenize_examples
from obliviate.data.types import IGNORE_INDEX
from obliviate.evaluation.scoring import ScoreCache, items_hash, model_key, score
from test_eval_fixtures import make_model, make_tokenizer, qa_set, text_set


def _direct(model, item):
    """Unbatched reference: log_softmax of model(input_ids).logits, gathered at the targets;
    mu, sigma as full-vocabulary sums sum_z p log p and sqrt(sum_z p (log p)^2 - mu^2)."""
    ids = torch.tensor([item.input_ids])
    with torch.no_grad():
        logp = model(ids).logits.log_softmax(-1)[0, :-1].double()
    labels = torch.tensor(item.labels[1:])
    keep = labels != IGNORE_INDEX
    rows, wanted = logp[keep], labels[keep]
    tok = rows.gather(-1, wanted[:, None])[:, 0]
    p = rows.exp()
    mu = (p * rows).sum(-1)
    sigma = ((p * rows ** 2).sum(-1) - mu ** 2).sqrt()
    return tok.numpy(), (rows.argmax(-1) == wanted).numpy(), mu.numpy(), sigma.numpy()


@pytest.mark.parametrize("side", ["right", "left"])
def test_engine_matches_plain_forward(side: str) -> None:
    model, tok = make_model(), make_tokenizer()
    items = tokenize_examples(qa_set(3), tok, 64, "qa") + tokenize_examples(text_set(4), tok, 64, "text")
    assert len({len(it.input_ids) for it in items}) > 2  # lengths differ, so padding happens
    scores = score(model, items, pad_token_id=0, batch_size=3, padding_side=side)
    assert len(scores) == len(items)
    for i, item in enumerate(items):
        tok_lp, correct, mu, sigma = _direct(model, item)
        assert scores.logp[i].dtype == np.float32
        assert scores.logp[i].size == item.n_target_tokens - (item.labels[0] != IGNORE_INDEX)
        np.testing.assert_allclose(scores.logp[i], tok_lp, atol=1e-4)
        np.testing.assert_array_equal(scores.correct[i], correct)
        np.testing.assert_allclose(scores.mu[i], mu, atol=1e-4)
        np.testing.assert_allclose(scores.sigma[i], sigma, atol=1e-4)


def test_min_k_plus_plus_moments_on_one_position() -> None:
    """mu and sigma of one position equal a direct loop over the 50 vocabulary entries."""
    model, tok = make_model(), make_tokenizer()
    item = tokenize_examples(text_set(1), tok, 64, "text")[0]
    scores = score(model, [item], pad_token_id=0)
    with torch.no_grad():
        logp = model(torch.tensor([item.input_ids])).logits[0, 0].double().log_softmax(-1).tolist()
    mu = sum(np.exp(lp) * lp for lp in logp)
    var = sum(np.exp(lp) * lp * lp for lp in logp) - mu * mu
    assert scores.mu[0][0] == pytest.approx(mu, abs=1e-5)
    assert scores.sigma[0][0] == pytest.approx(np.sqrt(var), abs=1e-5)


def test_cache_scores_once_and_tracks_weight_changes() -> None:
    model, tok = make_model(), make_tokenizer()
    items = tokenize_examples(text_set(3), tok, 64, "text")
    cache, calls = ScoreCache(), []
    compute = lambda: calls.append(1) or score(model, items, 0)  # noqa: E731
    first = cache.get("scores", model_key(model), items_hash(items), compute)
    second = cache.get("scores", model_key(model), items_hash(items), compute)
    assert first is second and len(calls) == 1 and cache.hits == 1
    with torch.no_grad():
        next(model.parameters()).add_(0.1)  # in-place update bumps the version counter
    cache.get("scores", model_key(model), items_hash(items), compute)
    assert len(calls) == 2
