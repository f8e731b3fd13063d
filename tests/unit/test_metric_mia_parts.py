"""The parts of the MIA metrics that the AUC tests of test_metric_mia.py do not reach: the
gradient-norm attack, the text zlib compresses, the bootstrap interval of the AUC (both the
matrix form and the large-set fallback), Min-K%++ on integer and zero-sigma inputs, empty
groups, Min-K% of one value and of none, and the reference attack under a length limit."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

from obliviate.data.tokenize import tokenize_examples
from obliviate.data.types import Example, TokenizedExample
from obliviate.evaluation.context import EvalContext
from obliviate.evaluation.metrics.mia import (attack_scores, auc_roc, bootstrap_auc,
                                              gradient_norms, min_k, min_k_plus_plus,
                                              scored_text, zlib_entropy)
from obliviate.evaluation.scoring import pad_items
from obliviate.listing import metrics_table
from test_eval_fixtures import make_model, make_tokenizer, qa_set, text_set


def _norm_by_hand(model, item) -> float:
    """||grad_theta mean target NLL||_2 of one sample, every parameter included."""
    params = list(model.parameters())
    with torch.enable_grad():
        for p in params:
            p.requires_grad_(True)
        loss = model(**pad_items([item], 0)).loss
        grads = torch.autograd.grad(loss, params, allow_unused=True)
    return math.sqrt(sum(float(g.square().sum()) for g in grads if g is not None))


def test_gradient_norms_by_hand_and_model_state_restored() -> None:
    model, tok = make_model(), make_tokenizer()
    items = tokenize_examples(qa_set(2), tok, 64, "qa")
    expected = [_norm_by_hand(make_model(), it) for it in items]
    frozen, sentinel = model.model.norm.weight, torch.full_like(model.lm_head.weight, 7.0)
    frozen.requires_grad_(False)
    model.lm_head.weight.grad = sentinel
    model.train()
    norms = gradient_norms(model, items, 0)
    assert norms == pytest.approx(expected, rel=1e-5) and norms[0] != pytest.approx(norms[1])
    assert model.training is True and frozen.requires_grad is False
    assert model.lm_head.weight.grad is sentinel and frozen.grad is None


def test_scored_text_is_the_target_unless_the_text_was_cut() -> None:
    tok = make_tokenizer()
    ids = tok("alice wrote the cat book", add_special_tokens=False)["input_ids"]
    target = " alice wrote the cat book"          # the tokenizer drops the leading space
    whole = TokenizedExample([1, *ids, tok.eos_token_id], [-100, *ids, tok.eos_token_id],
                             Example("", target))
    assert scored_text(tok, whole) == target       # EOS skipped; the original text kept
    cut = TokenizedExample([1, *ids[:2]], [-100, *ids[:2]], Example("", target))
    assert scored_text(tok, cut) == "alice wrote"


def test_min_k_plus_plus_on_integer_inputs_and_zero_sigma() -> None:
    # z = ((-1 - 0) / 1, (-3 - 1) / 2, (5 - 0) / 0 -> 0) = (-1, -2, 0); k = 0.4 keeps one: -2
    assert min_k_plus_plus([-1, -3, 5], [0, 1, 0], [1, 2, 0], k=0.4) == -2.0
    # a sigma below 1 divides too: z = (-1 / 0.5, 0) -> -2
    assert min_k_plus_plus([-1.0, 0.0], [0.0, 0.0], [0.5, 1.0], k=0.5) == -2.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")             # sigma = 0 is never divided by
        assert min_k_plus_plus([2.0, 4.0], [1.0, 1.0], [0.0, 0.0], k=1.0) == 0.0


def test_auc_of_an_empty_group_is_nan_without_a_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert math.isnan(auc_roc([], [1.0, 2.0])) and math.isnan(auc_roc([1.0], []))
        assert all(math.isnan(v) for v in bootstrap_auc(np.array([]), np.array([1.0])))
        assert all(math.isnan(v) for v in bootstrap_auc(np.array([1.0]), np.array([])))


def test_bootstrap_auc_is_the_stratified_percentile_bootstrap() -> None:
    """Written out: resample members and non-members on their own (members' draws first, from
    one generator seeded 0), AUC of each resample, 2.5 and 97.5 percentiles."""
    m = np.array([0.9, 0.4, 0.7, 0.4, 0.2, 0.8, 0.6])
    h = np.array([0.5, 0.4, 0.1, 0.3, 0.6])
    rng = np.random.default_rng(0)
    pick_m, pick_h = rng.integers(0, m.size, (1000, m.size)), rng.integers(0, h.size, (1000, h.size))
    aucs = [auc_roc(m[a], h[b]) for a, b in zip(pick_m, pick_h)]
    low, high = np.percentile(aucs, [2.5, 97.5])
    assert bootstrap_auc(m, h) == pytest.approx((low, high), abs=1e-12)
    assert bootstrap_auc(m, h) == bootstrap_auc(m, h, n_resamples=1000, seed=0)
    other = bootstrap_auc(m, h, n_resamples=200, seed=3)
    assert other != bootstrap_auc(m, h)


def test_bootstrap_auc_of_large_sets_recomputes_ranks() -> None:
    """Over 4M pairs the interval comes from resampled ranks: it brackets the AUC, tightly."""
    rng = np.random.default_rng(1)
    m, h = rng.normal(1.0, 1.0, 2001), rng.normal(0.0, 1.0, 2000)
    auc = auc_roc(m, h)
    low, high = bootstrap_auc(m, h, n_resamples=200)
    assert low < auc < high and high - low < 0.06


def test_attack_scores_follow_their_definitions() -> None:
    """Each attack's member score on a real EvalContext (tiny Llama), against its definition:
    LOSS = mean log p; zlib = mean log p / zlib bytes of the scored text; Min-K% and Min-K%++
    over the target tokens without the final EOS; reference = the difference in mean log p
    with the reference model; gradient norm = minus the norm. A length limit cuts the texts."""
    model, tok = make_model(), make_tokenizer()
    ctx = EvalContext(model, tok, {"t": text_set(3), "q": qa_set(3)},
                      reference_model=make_model(seed=1))
    full = ctx.scores("t")
    with pytest.warns(UserWarning, match="truncated to 4"):
        cut = ctx.scores("t", 4)
    assert attack_scores(ctx, "t", "loss", 0.4) == pytest.approx(full.mean_logp())
    assert attack_scores(ctx, "t", "loss", 0.4, 4) == pytest.approx(cut.mean_logp())
    assert not np.allclose(cut.mean_logp(), full.mean_logp())
    texts = [scored_text(tok, it) for it in ctx.tokenized("t", 4)]
    assert texts[0] == " ".join(text_set(1)[0].target.split()[:3])   # 4 tokens: <s> + 3 words
    zlib = np.array([zlib_entropy(t) for t in texts])
    assert attack_scores(ctx, "t", "zlib", 0.4, 4) == pytest.approx(cut.mean_logp() / zlib)
    qa = ctx.scores("q")                                              # answers end in EOS
    keep = [lp.size - 1 for lp in qa.logp]
    assert ctx.target_lengths_without_eos("q") == keep
    assert attack_scores(ctx, "q", "min_k", 0.6) == pytest.approx(
        [min_k(lp[:n], 0.6) for lp, n in zip(qa.logp, keep)])
    assert attack_scores(ctx, "q", "min_k_plus_plus", 0.6) == pytest.approx(
        [min_k_plus_plus(lp[:n], m[:n], s[:n], 0.6)
         for lp, m, s, n in zip(qa.logp, qa.mu, qa.sigma, keep)])
    ref = ctx.score_items(ctx.tokenized("t"), model=ctx.reference_model)
    assert attack_scores(ctx, "t", "reference", 0.4) == pytest.approx(
        full.mean_logp() - ref.mean_logp())
    assert attack_scores(ctx, "t", "gradient_norm", 0.4) == pytest.approx(
        -gradient_norms(model, ctx.tokenized("t"), tok.pad_token_id), rel=1e-5)
    with pytest.raises(ValueError, match=r"^unknown attack 'nope'$"):
        attack_scores(ctx, "t", "nope", 0.4)


def test_the_defaults_of_min_k_are_40_percent() -> None:
    x = [-1.0, -5.0, -2.0, -0.5, -3.0]                # the two lowest: -5 and -3
    assert min_k(x) == -4.0
    assert min_k_plus_plus(x, [0.0] * 5, [1.0] * 5) == -4.0
    assert min_k_plus_plus(x, [0.0] * 5, [1.0] * 5, k=1.0) == pytest.approx(-2.3)  # k is used


def test_the_metric_listing_names_each_attack() -> None:
    table = metrics_table()
    assert "AUC-ROC of the zlib attack, forget (members) vs holdout." in table
    assert "AUC-ROC of the gradient_norm attack" in table


def test_min_k_of_one_value_is_that_value_and_of_none_is_nan() -> None:
    assert min_k(np.array([-2.5])) == -2.5            # max(1, int(0.4 * 1)) = 1 value
    assert min_k(np.array([-2.5]), 1.0) == -2.5
    assert math.isnan(min_k(np.array([])))


def test_reference_attack_scores_the_cut_texts_with_both_models() -> None:
    """reference = mean log p (model) - mean log p (reference model), both on the texts cut
    at the length limit: 4 tokens here, so the numbers differ from the whole texts'."""
    model, tok, ref_model = make_model(), make_tokenizer(), make_model(seed=1)
    ctx = EvalContext(model, tok, {"t": text_set(3)}, reference_model=ref_model)
    with pytest.warns(UserWarning, match="truncated to 4"):
        cut = ctx.scores("t", 4)
    ref_cut = ctx.score_items(ctx.tokenized("t", 4), model=ref_model)
    ref_full = ctx.score_items(ctx.tokenized("t"), model=ref_model)
    assert not np.allclose(ref_cut.mean_logp(), ref_full.mean_logp())
    assert attack_scores(ctx, "t", "reference", 0.4, 4) == pytest.approx(
        cut.mean_logp() - ref_cut.mean_logp())


def test_bootstrap_auc_percentiles_and_default_seed_on_continuous_scores() -> None:
    """With continuous scores every resample's AUC differs, so the interval pins the 2.5 / 97.5
    percentiles and the default seed (0) exactly; the large-set path is reproducible by seed."""
    rng = np.random.default_rng(5)
    m, h = rng.normal(0.5, 1.0, 40), rng.normal(0.0, 1.0, 30)
    draw = np.random.default_rng(0)
    pick_m, pick_h = draw.integers(0, 40, (1000, 40)), draw.integers(0, 30, (1000, 30))
    aucs = [auc_roc(m[a], h[b]) for a, b in zip(pick_m, pick_h)]
    assert bootstrap_auc(m, h) == pytest.approx(tuple(np.percentile(aucs, [2.5, 97.5])),
                                                abs=1e-12)
    assert bootstrap_auc(m, h) != bootstrap_auc(m, h, seed=1)
    big_m, big_h = rng.normal(1.0, 1.0, 2001), rng.normal(0.0, 1.0, 2000)
    first = bootstrap_auc(big_m, big_h, n_resamples=50, seed=2)
    assert first == bootstrap_auc(big_m, big_h, n_resamples=50, seed=2)
    assert first != bootstrap_auc(big_m, big_h, n_resamples=50, seed=3)


def test_gradient_norm_attack_scores_the_cut_texts() -> None:
    model, tok = make_model(), make_tokenizer()
    ctx = EvalContext(model, tok, {"t": text_set(3)})
    with pytest.warns(UserWarning, match="truncated to 4"):
        cut = ctx.tokenized("t", 4)
    expected = -gradient_norms(model, cut, tok.pad_token_id)
    assert not np.allclose(expected, -gradient_norms(model, ctx.tokenized("t"), tok.pad_token_id))
    assert attack_scores(ctx, "t", "gradient_norm", 0.4, 4) == pytest.approx(expected, rel=1e-5)
