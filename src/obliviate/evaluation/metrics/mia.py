"""Membership inference attacks, each reported as AUC-ROC of members (the forget set) against
non-members (the holdout set), as in MUSE (Shi et al. 2024, "MUSE: Machine Unlearning Six-Way
Evaluation for Language Models", C4). Every score is oriented so that higher = more member-like,
so AUC 1.0 = members perfectly detected, 0.5 = chance.

``options["whole_text"]`` scores each text whole (up to the model's context size) instead of
cutting it at the evaluation's ``max_length``: MUSE scores its ~2,048-token privleak texts
whole. MUSE's PrivLeak uses the AUC with the other orientation (holdout positive): see
:mod:`obliviate.evaluation.metrics.privleak`.

* LOSS (Yeom et al. 2018): ``-mean NLL``.
* zlib (Carlini et al. 2021, "Extracting Training Data from Large Language Models", sec. 5.1):
  ``-(log-perplexity / zlib entropy)``, zlib entropy = bytes of ``zlib.compress(text)``, over
  the text the log-probs cover (the decoded kept tokens when a text was cut at max_length).
* Min-K% (Shi et al. 2023, "Detecting Pretraining Data from Large Language Models"): mean of the
  lowest ``k`` fraction (at least one) of token log-probs; ``k = 0.4`` by default.
* Min-K%++ (Zhang et al. 2024): the same over ``(log p(x_t) - mu_t) / sigma_t``.
* reference (Carlini et al. 2021): ``-(loss - loss under a reference model)``.
* gradient norm (e.g. Maini et al. 2024 / MUSE-style attacks): ``-||grad_theta NLL(x)||_2``.
"""
from __future__ import annotations

import math
import zlib
from typing import Any, Callable

import numpy as np
from scipy.stats import rankdata

from obliviate.data.types import IGNORE_INDEX
from obliviate.evaluation.base import MetricResult, metric
from obliviate.evaluation.bootstrap import bootstrap_ci_groups
from obliviate.evaluation.generation import pad_id
from obliviate.evaluation.scoring import pad_items


def auc_roc(members: np.ndarray, non_members: np.ndarray) -> float:
    """AUC-ROC via the Mann-Whitney U statistic, ties counted one half (average ranks):
    ``(sum of member ranks - n1 (n1 + 1) / 2) / (n1 n0)``."""
    members, non_members = np.asarray(members, float), np.asarray(non_members, float)
    n1, n0 = members.size, non_members.size
    if n1 == 0 or n0 == 0:
        return math.nan
    ranks = rankdata(np.concatenate([members, non_members]))
    return float((ranks[:n1].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0))


def min_k(values: np.ndarray, k: float = 0.4) -> float:
    """Mean of the lowest ``max(1, int(k * n))`` values (nan for an empty sample)."""
    values = np.sort(np.asarray(values, dtype=np.float64))
    if values.size == 0:
        return math.nan
    return float(values[: max(1, int(k * values.size))].mean())


def min_k_plus_plus(logp: np.ndarray, mu: np.ndarray, sigma: np.ndarray, k: float = 0.4) -> float:
    """Min-K% over the standardised scores ``(logp - mu) / sigma`` (0 where sigma is 0)."""
    logp, mu, sigma = (np.asarray(a, dtype=np.float64) for a in (logp, mu, sigma))
    z = np.divide(logp - mu, sigma, out=np.zeros_like(logp), where=sigma > 0)
    return min_k(z, k)


def zlib_entropy(text: str) -> int:
    """Length in bytes of the zlib-compressed UTF-8 text."""
    return len(zlib.compress(text.encode("utf-8")))


def gradient_norms(model: Any, items: list, pad_token_id: int) -> np.ndarray:
    """L2 norm of the gradient of each sample's mean target NLL w.r.t. all parameters; the
    parameters' previous gradients and requires_grad flags are restored afterwards."""
    params = list(model.parameters())
    saved = [(p.requires_grad, p.grad) for p in params]
    device, was_training = params[0].device, model.training
    model.eval()
    norms = []
    try:
        for p in params:
            p.requires_grad_(True)
            p.grad = None
        for item in items:
            batch = {k: v.to(device) for k, v in pad_items([item], pad_token_id).items()}
            model(**batch).loss.backward()
            total = sum(float(p.grad.float().square().sum()) for p in params if p.grad is not None)
            norms.append(total ** 0.5)
            for p in params:
                p.grad = None
    finally:
        for p, (flag, grad) in zip(params, saved):
            p.requires_grad_(flag)
            p.grad = grad
        model.train(was_training)
    return np.array(norms)


def scored_text(tokenizer: Any, item: Any) -> str:
    """The text whose tokens an item scores: its target, or the decoded kept target tokens
    when the item was cut (so zlib and log-probs describe the same text)."""
    kept = [t for t in item.labels if t != IGNORE_INDEX]
    decoded = tokenizer.decode(kept, skip_special_tokens=True)
    target = item.example.target
    return target if decoded.strip() == target.strip() else decoded


def attack_scores(ctx: Any, dataset: str, attack: str, k: float,
                  max_length: int | None = None) -> np.ndarray:
    """Member-oriented scores of one attack on every sample of ``dataset``."""
    s = ctx.scores(dataset, max_length)
    if attack == "loss":
        return s.mean_logp()
    if attack == "zlib":
        items = ctx.tokenized(dataset, max_length)
        z = np.array([zlib_entropy(scored_text(ctx.tokenizer, it)) for it in items], dtype=float)
        return s.mean_logp() / z
    if attack in ("min_k", "min_k_plus_plus"):
        # token-wise attacks skip a final EOS label, as open-unlearning's tokenwise_logprobs
        keep = ctx.target_lengths_without_eos(dataset, max_length)
        if attack == "min_k":
            return np.array([min_k(lp[:n], k) for lp, n in zip(s.logp, keep)])
        return np.array([min_k_plus_plus(lp[:n], m[:n], sd[:n], k=k)
                         for lp, m, sd, n in zip(s.logp, s.mu, s.sigma, keep)])
    if attack == "reference":
        ref = ctx.score_items(ctx.tokenized(dataset, max_length), model=ctx.reference_model)
        return s.mean_logp() - ref.mean_logp()
    if attack == "gradient_norm":
        return -gradient_norms(ctx.model, ctx.tokenized(dataset, max_length), pad_id(ctx.tokenizer))
    raise ValueError(f"unknown attack {attack!r}")


def _auc_of_groups(groups: list[np.ndarray]) -> float:
    return auc_roc(groups[0], groups[1])


def _counts(rng: np.random.Generator, n: int, r: int) -> np.ndarray:
    """Multiplicities [r, n] of ``r`` resamples of size ``n`` drawn with replacement."""
    index = rng.integers(0, n, size=(r, n)) + n * np.arange(r)[:, None]
    return np.bincount(index.ravel(), minlength=r * n).reshape(r, n)


def bootstrap_auc(members: np.ndarray, non_members: np.ndarray, n_resamples: int = 1000,
                  seed: int = 0) -> tuple[float, float]:
    """Stratified percentile-bootstrap 95% interval of the AUC. A resample's AUC is
    ``w1' C w0 / (n1 n0)`` with ``C[i, j] = 1[m_i > n_j] + 1/2 1[m_i = n_j]`` and ``w`` the
    resample's multiplicity counts, so all resamples cost two matrix products; large sets
    (over 4M pairs) fall back to recomputing ranks per resample."""
    m, h = np.asarray(members, float), np.asarray(non_members, float)
    n1, n0 = m.size, h.size
    if n1 == 0 or n0 == 0:
        return math.nan, math.nan
    if n1 * n0 > 4_000_000:
        return bootstrap_ci_groups([m, h], _auc_of_groups, n_resamples, seed)
    pairs = (m[:, None] > h[None, :]) + 0.5 * (m[:, None] == h[None, :])
    rng = np.random.default_rng(seed)
    w1, w0 = _counts(rng, n1, n_resamples), _counts(rng, n0, n_resamples)
    aucs = np.einsum("ri,ij,rj->r", w1, pairs, w0, optimize=True) / (n1 * n0)
    low, high = np.percentile(aucs, [2.5, 97.5])
    return float(low), float(high)


def _register(attack: str, extra_needs: set[str]) -> Callable:
    @metric(f"mia_{attack}", needs={"scores", "holdout"} | extra_needs, higher_is_better=None)
    def compute(ctx: Any, dataset: str, options: dict[str, Any]) -> MetricResult:
        k = float(options.get("k", 0.4))
        limit = ctx.whole_length() if options.get("whole_text") else None
        members = attack_scores(ctx, dataset, attack, k, limit)
        non_members = attack_scores(ctx, options.get("holdout", "holdout"), attack, k, limit)
        members, non_members = members[np.isfinite(members)], non_members[np.isfinite(non_members)]
        low, high = bootstrap_auc(members, non_members)
        return MetricResult(auc_roc(members, non_members), [float(v) for v in members], low,
                            high, {"holdout_scores": [float(v) for v in non_members],
                                   "attack": attack})
    compute.__doc__ = f"AUC-ROC of the {attack} attack, forget (members) vs holdout."
    return compute


for _attack, _needs in [("loss", set()), ("zlib", set()), ("min_k", set()),
                        ("min_k_plus_plus", set()), ("reference", {"reference_model"}),
                        ("gradient_norm", {"gradients"})]:
    _register(_attack, _needs)
