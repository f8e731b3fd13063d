"""The scoring engine: one batched teacher-forced pass -> per-sample token statistics.

For every target token (label != -100) of every sample it keeps, as numpy float32 arrays:
the token's log-probability, whether the argmax prediction equals it, and the mean ``mu`` and
standard deviation ``sigma`` of ``log p(z)`` with ``z`` drawn from the model's own next-token
distribution (Zhang et al. 2024, "Min-K%++: Improved Baseline for Detecting Pre-Training Data
from Large Language Models", eq. 3: ``mu = sum_z p(z) log p(z)``,
``sigma = sqrt(sum_z p(z) log p(z)^2 - mu^2)``). The [B, T, V] logits live only inside one
batch. Every metric over a data set reads one :class:`TokenScores` through a :class:`ScoreCache`.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Callable, Literal

import numpy as np
import torch

from obliviate.data.types import IGNORE_INDEX, TokenizedExample
from obliviate.models.head import logits_at, next_token_positions


@dataclass
class TokenScores:
    """Per-sample arrays over the target tokens (one entry per label != -100 after the shift)."""

    logp: list[np.ndarray]
    correct: list[np.ndarray]
    mu: list[np.ndarray]
    sigma: list[np.ndarray]

    def __len__(self) -> int:
        return len(self.logp)

    def n_tokens(self) -> np.ndarray:
        return np.array([a.size for a in self.logp], dtype=np.int64)

    def sum_logp(self) -> np.ndarray:
        return np.array([float(a.astype(np.float64).sum()) for a in self.logp])

    def mean_logp(self) -> np.ndarray:
        """Mean token log-prob per sample (nan for a sample without target tokens)."""
        return np.array([float(a.astype(np.float64).mean()) if a.size else np.nan
                         for a in self.logp])

    def select(self, index: list[int]) -> "TokenScores":
        return TokenScores(*([getattr(self, f)[i] for i in index]
                             for f in ("logp", "correct", "mu", "sigma")))


def pad_items(
    items: list[TokenizedExample], pad_token_id: int, side: Literal["right", "left"] = "right"
) -> dict[str, torch.Tensor]:
    """Pad to the longest item: input_ids, attention_mask, labels (-100 on padding)."""
    width = max(len(it.input_ids) for it in items)
    ids, mask, labels = [], [], []
    for it in items:
        n = width - len(it.input_ids)
        pad = (lambda seq, v: seq + [v] * n) if side == "right" else (lambda seq, v: [v] * n + seq)
        ids.append(pad(list(it.input_ids), pad_token_id))
        mask.append(pad([1] * len(it.input_ids), 0))
        labels.append(pad(list(it.labels), IGNORE_INDEX))
    as_long = lambda rows: torch.tensor(rows, dtype=torch.long)  # noqa: E731
    return {"input_ids": as_long(ids), "attention_mask": as_long(mask), "labels": as_long(labels)}


@torch.no_grad()
def score(
    model: Any, items: list[TokenizedExample], pad_token_id: int, batch_size: int = 8,
    padding_side: Literal["right", "left"] = "right",
) -> TokenScores:
    """Score ``items`` with ``model`` in one teacher-forced pass without gradients.

    Items are sorted by length (longest first) so that batches hold similar lengths, then the
    results are put back in the input order. Left padding passes explicit position ids.
    """
    order = sorted(range(len(items)), key=lambda i: len(items[i].input_ids), reverse=True)
    rows: list[tuple[np.ndarray, ...] | None] = [None] * len(items)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        for start in range(0, len(order), batch_size):
            chunk = order[start:start + batch_size]
            batch = pad_items([items[i] for i in chunk], pad_token_id, padding_side)
            for i, stats in zip(chunk, _score_batch(model, batch, device, padding_side)):
                rows[i] = stats
    finally:
        model.train(was_training)
    columns = list(zip(*rows)) if rows else [[], [], [], []]
    return TokenScores(*(list(c) for c in columns))


def _score_batch(
    model: Any, batch: dict[str, torch.Tensor], device: torch.device, side: str
) -> list[tuple[np.ndarray, ...]]:
    ids = batch["input_ids"].to(device)
    mask = batch["attention_mask"].to(device)
    kwargs = {}
    if side == "left":
        kwargs["position_ids"] = (mask.cumsum(-1) - 1).clamp(min=0)
    targets = batch["labels"][:, 1:].to(device)
    keep = targets != IGNORE_INDEX
    # the output layer runs only at the N positions that predict a target token
    rows = logits_at(model, next_token_positions(batch["labels"]).to(device),
                     input_ids=ids, attention_mask=mask, **kwargs)
    logp_all = rows.float().log_softmax(-1)  # [N, V], N = target tokens in the batch
    del rows
    wanted = targets[keep]
    tok = logp_all.gather(-1, wanted[:, None])[:, 0]
    correct = logp_all.argmax(-1) == wanted
    p = logp_all.exp()
    mu = torch.where(p > 0, p * logp_all, 0.0).sum(-1)
    # sum p (logp)^2 - mu^2, computed in the centred form sum p (logp - mu)^2 (same value, no
    # float32 cancellation when the distribution is nearly flat)
    centred = torch.where(p > 0, p * (logp_all - mu[:, None]).square(), 0.0)
    sigma = centred.sum(-1).clamp(min=0).sqrt()
    counts = keep.sum(-1).tolist()
    parts = [t.cpu().split(counts) for t in (tok, correct, mu, sigma)]
    return [
        (lp.numpy().astype(np.float32), c.numpy().astype(bool),
         m.numpy().astype(np.float32), s.numpy().astype(np.float32))
        for lp, c, m, s in zip(*parts)
    ]


def items_hash(items: list[TokenizedExample]) -> str:
    """SHA-256 of the token ids and labels: the data half of a cache key."""
    digest = hashlib.sha256()
    for it in items:
        digest.update(np.asarray(it.input_ids, dtype=np.int64).tobytes())
        digest.update(b"|")
        digest.update(np.asarray(it.labels, dtype=np.int64).tobytes())
        digest.update(b"#")
    return digest.hexdigest()


def model_key(model: Any, weights_hash: str | None = None) -> str:
    """The model half of a cache key: the weights hash when known, else the object's identity
    plus the sum of its parameters' in-place version counters (bumped by every optimizer step),
    so a cache never serves scores of weights that have since changed."""
    versions = sum(p._version for p in model.parameters())
    return f"{weights_hash or 'id:%x' % id(model)}@v{versions}"


class ScoreCache:
    """Memoises expensive per-(model, data) computations: token scores and generations."""

    def __init__(self) -> None:
        self._store: dict[tuple[str, str, str], Any] = {}
        self.hits = 0
        self.misses = 0

    def get(self, kind: str, model: str, data: str, compute: Callable[[], Any]) -> Any:
        """The value stored under ``(kind, model, data)``, computing it on first use."""
        key = (kind, model, data)
        if key in self._store:
            self.hits += 1
        else:
            self.misses += 1
            self._store[key] = compute()
        return self._store[key]

    def __len__(self) -> int:
        return len(self._store)
