"""Pad tokenized examples into a :data:`Batch` of tensors."""
from __future__ import annotations

from typing import Any, Literal

import torch

from obliviate.data.types import IGNORE_INDEX, Batch, TokenizedExample

_SEQUENCE_KEYS = ("input_ids", "labels")


def collate(
    items: list[TokenizedExample | dict[str, Any]],
    pad_token_id: int,
    padding_side: Literal["right", "left"] = "right",
) -> Batch:
    """Pad ``items`` to the longest one.

    Returns ``input_ids`` and ``labels`` [B, T] (labels -100 at padding) and ``attention_mask``
    [B, T] (1 on real tokens). Items are :class:`TokenizedExample` objects or dicts with
    ``input_ids`` and ``labels``; every other scalar value a dict carries (such as ``ref_logp``)
    becomes a float tensor [B], and must then be present in every item.
    """
    if not items:
        raise ValueError("collate needs at least one item")
    if padding_side not in ("right", "left"):
        raise ValueError(f"padding_side must be 'right' or 'left', got {padding_side!r}")
    rows = [_as_dict(item) for item in items]
    width = max(len(row["input_ids"]) for row in rows)
    input_ids, labels, mask = [], [], []
    for row in rows:
        ids, labs = list(row["input_ids"]), list(row["labels"])
        if len(ids) != len(labs):
            raise ValueError(f"input_ids ({len(ids)}) and labels ({len(labs)}) differ in length")
        pad = width - len(ids)
        input_ids.append(_pad(ids, pad, pad_token_id, padding_side))
        labels.append(_pad(labs, pad, IGNORE_INDEX, padding_side))
        mask.append(_pad([1] * len(ids), pad, 0, padding_side))
    batch: Batch = {
        "input_ids": torch.tensor(input_ids, dtype=torch.long),
        "attention_mask": torch.tensor(mask, dtype=torch.long),
        "labels": torch.tensor(labels, dtype=torch.long),
    }
    batch.update(_extras(rows))
    return batch


def _as_dict(item: TokenizedExample | dict[str, Any]) -> dict[str, Any]:
    if isinstance(item, TokenizedExample):
        return {"input_ids": item.input_ids, "labels": item.labels}
    missing = [key for key in _SEQUENCE_KEYS if key not in item]
    if missing:
        raise ValueError(f"collate item lacks {', '.join(missing)}; it has {', '.join(item)}")
    return item


def _pad(values: list[int], n: int, value: int, side: str) -> list[int]:
    padding = [value] * n
    return values + padding if side == "right" else padding + values


def _extras(rows: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
    """Scalar per-example values (numbers or 0-d tensors) other than the sequences -> [B]."""
    keys = [k for k, v in rows[0].items() if k not in _SEQUENCE_KEYS and _is_scalar(v)]
    out = {}
    for key in keys:
        if any(key not in row for row in rows):
            raise ValueError(f"extra value {key!r} is present in some collate items but not all")
        out[key] = torch.tensor([float(row[key]) for row in rows], dtype=torch.float32)
    return out


def _is_scalar(value: Any) -> bool:
    if isinstance(value, torch.Tensor):
        return value.numel() == 1
    return isinstance(value, (int, float)) and not isinstance(value, bool)
