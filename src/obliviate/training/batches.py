"""Forget / retain batch pairing.

One epoch is one pass over the forget set (as in TOFU, Maini et al. 2024, and open-unlearning):
every forget batch is paired with the next retain batch of an endless, reshuffled stream over the
retain set, so a large retain set is only partly seen in an epoch and a small one cycles."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
from torch.utils.data import DataLoader

from obliviate.data.collate import collate
from obliviate.data.types import Batch, TokenizedExample


def as_items(examples: list[TokenizedExample]) -> list[dict[str, Any]]:
    """Plain dicts the collator accepts, so extras such as ``ref_logp`` can be attached."""
    return [{"input_ids": e.input_ids, "labels": e.labels} for e in examples]


def forget_loader(forget: list[dict], idk: list[dict] | None, batch_size: int, pad_id: int,
                  generator: torch.Generator) -> DataLoader:
    """Batches of forget rows; when refusal rows are given, each forget row keeps its own."""
    rows = [{"forget": f, "idk": idk[i] if idk else None} for i, f in enumerate(forget)]

    def collate_pairs(chunk: list[dict]) -> dict[str, Batch]:
        out = {"forget": collate([r["forget"] for r in chunk], pad_id)}
        if chunk[0]["idk"] is not None:
            out["idk"] = collate([r["idk"] for r in chunk], pad_id)
        return out

    return DataLoader(rows, batch_size=batch_size, shuffle=True, collate_fn=collate_pairs,
                      generator=generator, drop_last=False)


def retain_loader(retain: list[dict], batch_size: int, pad_id: int,
                  generator: torch.Generator) -> DataLoader:
    return DataLoader(retain, batch_size=batch_size, shuffle=True, generator=generator,
                      collate_fn=lambda chunk: collate(chunk, pad_id), drop_last=False)


def micro_batches_per_epoch(forget: DataLoader, retain: DataLoader | None) -> int:
    """Micro-batches in one epoch: the forget loader's length, whatever the retain set's size
    (``retain`` is accepted for the callers' convenience and does not count)."""
    del retain
    return len(forget)


def paired(forget: DataLoader, retain: DataLoader | None) -> Iterator[dict[str, Batch]]:
    """Endless stream of {"forget", "idk"?, "retain"?} micro-batches; both sets cycle."""
    forget_it, retain_it = iter(forget), iter(retain) if retain is not None else None
    while True:
        step, forget_it = _next(forget, forget_it)
        if retain is not None:
            step["retain"], retain_it = _next(retain, retain_it)
        yield step


def _next(loader: DataLoader, it: Iterator) -> tuple[Any, Iterator]:
    try:
        return next(it), it
    except StopIteration:
        it = iter(loader)
        return next(it), it
