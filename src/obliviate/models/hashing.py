"""Cheap, stable identities for model weights (recorded in results as the model hash).

Two kinds, both hex sha256 strings with a prefix that says which was used:

* ``files:`` for weights on disk (local directories, the embedded model, GGUF files, adapters):
  sha256 over each weight file's name, size, first 1 MiB and last 1 MiB. Reads at most 2 MiB per
  file, so it is fast for multi-GB checkpoints, and changes whenever a file is rewritten with
  other weights (headers of safetensors files hold the tensor layout, tails the last values).
* ``params:`` for models that only live in memory (hub downloads, models built in code):
  sha256 over each parameter's name, shape, dtype and its first and last 16 values.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterable

import torch

_CHUNK = 1 << 20
WEIGHT_SUFFIXES = (".safetensors", ".gguf", ".bin")


def weight_files(directory: Path) -> list[Path]:
    """Weight files directly inside ``directory`` (safetensors, gguf or bin), sorted by name."""
    return sorted(p for p in Path(directory).iterdir() if p.is_file() and p.name.endswith(WEIGHT_SUFFIXES))


def files_hash(paths: Iterable[Path]) -> str:
    """sha256 over names, sizes and the first/last MiB of each file."""
    digest = hashlib.sha256()
    for path in sorted(Path(p) for p in paths):
        size = path.stat().st_size
        digest.update(f"{path.name}\0{size}\0".encode())
        with path.open("rb") as handle:
            digest.update(handle.read(_CHUNK))
            if size > _CHUNK:
                handle.seek(max(_CHUNK, size - _CHUNK))
                digest.update(handle.read(_CHUNK))
    return "files:" + digest.hexdigest()


def params_hash(model: torch.nn.Module) -> str:
    """sha256 over parameter names, shapes, dtypes and a few values of each parameter."""
    digest = hashlib.sha256()
    for name, param in model.state_dict().items():
        flat = param.detach().reshape(-1)
        digest.update(f"{name}\0{tuple(param.shape)}\0{param.dtype}\0".encode())
        sample = torch.cat([flat[:16], flat[-16:]]).to("cpu", torch.float64)
        digest.update(sample.numpy().tobytes())
    return "params:" + digest.hexdigest()


def combine(*hashes: str) -> str:
    """One identity for several parts (for instance base model + adapter)."""
    return "combined:" + hashlib.sha256("\0".join(hashes).encode()).hexdigest()
