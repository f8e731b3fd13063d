"""The shapes data takes on its way from a file to a batch.

A file becomes a list of :class:`Example` (text only), then the tokenizer turns each into a
:class:`TokenizedExample` whose ``labels`` are ``-100`` wherever the loss must not look (the
prompt of a QA pair, padding). A collator pads a list of them into a :data:`Batch`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import torch

Format = Literal["qa", "text"]
IGNORE_INDEX = -100


@dataclass(frozen=True)
class Example:
    """One record. ``prompt`` is the question for QA data and empty for raw text; ``target`` is
    the answer or the passage, the part the loss covers. ``meta`` keeps every other field of the
    record (keywords, paraphrases, ids...)."""

    prompt: str
    target: str
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TokenizedExample:
    """Token ids of the full sequence, and the labels: the ids where the loss counts, -100 where
    it does not."""

    input_ids: list[int]
    labels: list[int]
    example: Example

    @property
    def n_target_tokens(self) -> int:
        return sum(1 for t in self.labels if t != IGNORE_INDEX)


# A padded batch: "input_ids" [B, T] long, "attention_mask" [B, T] long, "labels" [B, T] long
# (-100 at prompt and padding). Methods may find extra per-example tensors such as
# "ref_logp" [B] (summed reference log-prob of the target tokens).
Batch = dict[str, torch.Tensor]
