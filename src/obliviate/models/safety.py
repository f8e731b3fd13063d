"""Checks before a model's files are opened: safetensors only (unless pickle is allowed), no
truncated weights, and a hub that answers quickly or not at all.

- Pickle weights (``pytorch_model.bin``, ``*.pt``) can run arbitrary code when loaded; a folder
  that holds only those is refused unless the user passes ``--allow-pickle`` /
  ``allow_pickle: true``.
- A ``.safetensors`` file's header states the byte range of every tensor; a file shorter than
  the largest offset (a copy cut short) is reported by name before anything is loaded.
- :func:`hub_reachable` opens one TCP connection to the hub endpoint with a short timeout, so an
  offline machine gets one clear line instead of half a minute of retries.
"""
from __future__ import annotations

import json
import os
import socket
import struct
from pathlib import Path
from urllib.parse import urlparse

from obliviate.errors import ModelError

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "tokenizer.model", "vocab.json",
                   "spiece.model", "vocab.txt")
_PROXY_VARS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


def check_weight_files(folder: Path, allow_pickle: bool) -> None:
    """Refuse a folder with only pickle weights (unless allowed) or a truncated safetensors."""
    folder = Path(folder)
    safe = sorted(folder.glob("*.safetensors"))
    pickled = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in PICKLE_SUFFIXES)
    if not safe and pickled and not allow_pickle:
        raise ModelError(f"{folder} holds only pickle weights ({pickled[0].name}), which can run "
                         "code when loaded; obliviate loads safetensors only. Convert the model "
                         "to safetensors, or pass --allow-pickle (allow_pickle: true) if you "
                         "trust the file")
    if not safe and not pickled:
        raise ModelError(f"{folder} has no weight file (model.safetensors); point to the folder "
                         "that holds the model's weights")
    for file in safe:
        check_safetensors(file)


def check_tokenizer_files(folder: Path) -> None:
    """Refuse a model folder without any tokenizer file."""
    if not any((Path(folder) / name).is_file() for name in TOKENIZER_FILES):
        raise ModelError(f"{folder} has no tokenizer files ({', '.join(TOKENIZER_FILES[:2])}, "
                         "...); save the tokenizer next to the model (tokenizer.save_pretrained)")


def check_safetensors(file: Path) -> None:
    """Raise ModelError if ``file`` is not a complete safetensors file."""
    size = file.stat().st_size
    try:
        with file.open("rb") as fh:
            (length,) = struct.unpack("<Q", fh.read(8))
            if length > size - 8:
                raise ValueError(f"header of {length} bytes in a file of {size}")
            header = json.loads(fh.read(length))
        ends = [t["data_offsets"][1] for k, t in header.items() if k != "__metadata__"]
    except (struct.error, ValueError, KeyError, TypeError, IndexError, AttributeError) as err:
        raise ModelError(f"{file} is not a valid safetensors file ({err}); re-save or re-copy "
                         "the model") from None
    needed = 8 + length + max(ends, default=0)
    if size < needed:
        raise ModelError(f"{file} is truncated: its header needs {needed} bytes but the file has "
                         f"{size}; re-copy or re-save the model")


def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the hub endpoint accepts a TCP connection (True behind a proxy: not testable)."""
    if any(os.environ.get(v) for v in _PROXY_VARS):
        return True
    url = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname or "huggingface.co", port), timeout=timeout):
            return True
    except OSError:
        return False


def hub_unreachable_error(spec: str) -> ModelError:
    return ModelError(f"cannot load model {spec!r}: it is not a local path and the Hugging Face "
                      "hub cannot be reached from here (no network?). Check the spelling, use "
                      "an embedded name such as 'smollm2-135m-instruct', or download the model "
                      "and pass its folder")
