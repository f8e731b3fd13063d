"""Choosing the torch device and dtype from user strings ("auto", "cpu", "bf16", ...)."""
from __future__ import annotations

import torch

from obliviate.errors import ConfigError

DTYPES: dict[str, torch.dtype] = {
    "float32": torch.float32,
    "fp32": torch.float32,
    "bfloat16": torch.bfloat16,
    "bf16": torch.bfloat16,
    "float16": torch.float16,
    "fp16": torch.float16,
}


def pick_device(device: str | torch.device | None = None) -> torch.device:
    """Return the device to use: "auto" or None means CUDA when available, else CPU."""
    if isinstance(device, torch.device):
        return device
    if device is None or device.strip().lower() == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        chosen = torch.device(device.strip())
    except (RuntimeError, ValueError) as exc:
        raise ConfigError(
            f"unknown device {device!r}; use 'auto', 'cpu', 'cuda' or 'cuda:N'."
        ) from exc
    if chosen.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            f"device {device!r} was asked for but CUDA is not available; use device='cpu' or 'auto'."
        )
    return chosen


def pick_dtype(
    dtype: str | torch.dtype | None = None, device: str | torch.device | None = None
) -> torch.dtype:
    """Return the dtype to use.

    "auto" or None gives bfloat16 on a CUDA device that supports it, else float32. Names accepted:
    float32/fp32, bfloat16/bf16, float16/fp16 (case-insensitive).
    """
    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype is None or dtype.strip().lower() == "auto":
        dev = pick_device(device)
        if dev.type == "cuda" and torch.cuda.is_bf16_supported():
            return torch.bfloat16
        return torch.float32
    key = dtype.strip().lower().removeprefix("torch.")
    if key not in DTYPES:
        choices = ", ".join(["auto", *DTYPES])
        raise ConfigError(f"unknown dtype {dtype!r}; choose one of: {choices}.")
    return DTYPES[key]
