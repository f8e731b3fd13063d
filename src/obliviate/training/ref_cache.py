"""Reference log-probs computed once and reused by later runs from the same start model
(``obliviate sweep`` trials, ``bench --sweep``): set ``Engine.reference_cache``.

The cache is keyed by the items' token ids and labels and the batch size, so it is only valid
while every run starts from the same weights: the sweep restores the original model before each
trial, which is what makes reuse sound.
"""
from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable
from typing import ContextManager

from torch import nn

from obliviate.training.references import attach_reference_logprobs


class ReferenceCache:
    def __init__(self) -> None:
        self._store: dict[str, list[float]] = {}
        self.hits = 0
        self.misses = 0

    def attach(self, model: nn.Module, items: list[dict], pad_id: int, batch_size: int = 8,
               autocast: Callable[[], ContextManager] = contextlib.nullcontext) -> None:
        """Like :func:`attach_reference_logprobs`, computed on the first call for these items."""
        key = _key(items, batch_size)
        if key not in self._store:
            self.misses += 1
            attach_reference_logprobs(model, items, pad_id, batch_size, autocast)
            self._store[key] = [item["ref_logp"] for item in items]
            return
        self.hits += 1
        for item, value in zip(items, self._store[key]):
            item["ref_logp"] = value


def _key(items: list[dict], batch_size: int) -> str:
    digest = hashlib.sha256(str(batch_size).encode())
    for item in items:
        digest.update(repr((list(item["input_ids"]), list(item["labels"]))).encode())
    return digest.hexdigest()
