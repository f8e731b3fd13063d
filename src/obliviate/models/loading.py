"""Load a causal LM from an embedded name, a local directory, a PEFT adapter, a GGUF file or a hub id."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError

from obliviate.errors import ModelError
from obliviate.models.device import pick_device, pick_dtype
from obliviate.models.embedded import embedded_model_dir, ensure_pad_token, is_embedded, load_gguf
from obliviate.models.hashing import combine, files_hash, params_hash, weight_files
from obliviate.models.safety import (check_tokenizer_files, check_weight_files, hub_reachable,
                                     hub_unreachable_error)

_CAUSAL_SUFFIXES = ("ForCausalLM", "LMHeadModel")


@dataclass
class LoadedModel:
    """A model ready to use: eval mode, on its device, tokenizer with a pad token.

    ``source`` is one of "embedded", "local", "adapter", "gguf", "hub". ``weights_hash`` is
    described in :mod:`obliviate.models.hashing`.
    """

    model: Any
    tokenizer: Any
    name: str
    source: str
    weights_hash: str


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def check_causal(config: Any, where: str) -> None:
    """Raise ModelError unless ``config`` describes a causal (decoder-only) language model."""
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    archs = list(getattr(config, "architectures", None) or [])
    causal_names = set(MODEL_FOR_CAUSAL_LM_MAPPING_NAMES.values())
    if archs:
        ok = any(a in causal_names or a.endswith(_CAUSAL_SUFFIXES) for a in archs)
    else:
        auto_map = getattr(config, "auto_map", None) or {}
        ok = config.model_type in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES or "AutoModelForCausalLM" in auto_map
    if not ok:
        shown = ", ".join(archs) or config.model_type
        raise ModelError(
            f"{where} is a {config.model_type!r} model ({shown}), not a causal language model; "
            "obliviate needs a decoder-only model with a language-modelling head (e.g. *ForCausalLM)."
        )


def _from_pretrained(where: str, dtype: torch.dtype, trust_remote_code: bool,
                     allow_pickle: bool = False, local_only: bool = False) -> tuple[Any, Any]:
    """Config check, tokenizer and weights through the transformers Auto classes."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    opts = {"trust_remote_code": trust_remote_code, "local_files_only": local_only or _offline()}
    config = AutoConfig.from_pretrained(where, **opts)
    check_causal(config, where)
    tokenizer = AutoTokenizer.from_pretrained(where, **opts)
    model = AutoModelForCausalLM.from_pretrained(
        where, config=config, dtype=dtype, use_safetensors=None if allow_pickle else True, **opts
    )
    return model, tokenizer


def _load_local_dir(path: Path, dtype: torch.dtype, trust: bool,
                    allow_pickle: bool = False) -> tuple[Any, Any, str]:
    if not (path / "config.json").is_file():
        raise ModelError(
            f"{path} has neither config.json (a Hugging Face model) nor adapter_config.json "
            "(a PEFT adapter); point to the directory that holds the model files."
        )
    check_weight_files(path, allow_pickle)
    check_tokenizer_files(path)
    try:
        model, tokenizer = _from_pretrained(str(path), dtype, trust, allow_pickle)
    except (OSError, ValueError, SafetensorError) as exc:
        raise ModelError(f"cannot load the model in {path}: {_first_line(exc)}") from exc
    return model, tokenizer, files_hash(weight_files(path))


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _load_hub(spec: str, dtype: torch.dtype, trust: bool,
              allow_pickle: bool = False) -> tuple[Any, Any, str]:
    local_only = not _offline() and not hub_reachable()  # offline: the cache, quickly, or stop
    try:
        model, tokenizer = _from_pretrained(spec, dtype, trust, allow_pickle, local_only)
    except (OSError, ValueError) as exc:
        if local_only:
            raise hub_unreachable_error(spec) from None
        offline = " (HF_HUB_OFFLINE is set, so only the local hub cache was searched)" if _offline() else ""
        raise ModelError(
            f"cannot load model {spec!r}: it is neither a local path (no file or directory of that "
            f"name was found from {Path.cwd()}) nor a reachable Hugging Face hub id{offline}. Check "
            f"the path, use an embedded name such as 'smollm2-135m-instruct', or download the model "
            f"first. Detail: {_first_line(exc)}"
        ) from exc
    return model, tokenizer, params_hash(model)


def _load_adapter(path: Path, dtype: torch.dtype, trust: bool, trainable: bool,
                  allow_pickle: bool = False) -> tuple[Any, Any, str]:
    from peft import PeftModel

    try:
        base = json.loads((path / "adapter_config.json").read_text()).get("base_model_name_or_path")
    except (ValueError, AttributeError, UnicodeDecodeError) as exc:
        raise ModelError(f"{path}/adapter_config.json is not a valid JSON object: {exc}") from None
    if not base:
        raise ModelError(f"{path}/adapter_config.json has no base_model_name_or_path; cannot find its base model.")
    if not Path(base).is_absolute() and (path / base).exists():
        base = str(path / base)
    check_weight_files(path, allow_pickle)
    try:
        base_model, tokenizer, base_hash, _ = _resolve(base, dtype, trust, trainable, allow_pickle)
    except ModelError as exc:
        raise ModelError(f"the adapter in {path} needs its base model {base!r}, which cannot be "
                         f"loaded: {exc}") from None
    try:
        model = PeftModel.from_pretrained(base_model, str(path), is_trainable=trainable)
    except (OSError, ValueError, RuntimeError, KeyError) as exc:
        raise ModelError(f"cannot apply the adapter in {path} to {base!r}: {exc}") from exc
    if (path / "tokenizer_config.json").is_file():
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(str(path), trust_remote_code=trust)
    return model, tokenizer, combine(base_hash, files_hash(weight_files(path)))


def _looks_like_path(spec: str) -> bool:
    return spec.startswith((".", "/", "~")) or spec.endswith(".gguf") or spec.count("/") > 1 or "\\" in spec


def _resolve(spec: str, dtype: torch.dtype, trust: bool, trainable: bool,
             allow_pickle: bool = False) -> tuple[Any, Any, str, str]:
    """Return (model, tokenizer, weights_hash, source) for any accepted spec."""
    if is_embedded(spec):
        return (*_load_local_dir(embedded_model_dir(spec), dtype, trust), "embedded")
    path = Path(spec).expanduser()
    if path.is_dir():
        if (path / "adapter_config.json").is_file():
            return (*_load_adapter(path, dtype, trust, trainable, allow_pickle), "adapter")
        return (*_load_local_dir(path, dtype, trust, allow_pickle), "local")
    if path.is_file() and path.suffix == ".gguf":
        model, tokenizer = load_gguf(path, dtype)
        return model, tokenizer, files_hash([path]), "gguf"
    if path.is_file():
        raise ModelError(f"{path} is a file but not a .gguf model; pass a model directory, a .gguf file or a hub id.")
    if _looks_like_path(spec):
        raise ModelError(f"model path not found: {path.resolve()} does not exist. Check the spelling.")
    return (*_load_hub(spec, dtype, trust, allow_pickle), "hub")


def _check_loaded(model: Any, spec: str) -> None:
    if not hasattr(model, "generate") or model.get_output_embeddings() is None:
        raise ModelError(f"{spec!r} loaded, but it has no language-modelling head; it is not a causal LM.")


def load_model(
    spec: str,
    device: str | torch.device | None = None,
    dtype: str | torch.dtype | None = None,
    trust_remote_code: bool = False,
    adapter_trainable: bool = False,
    allow_pickle: bool = False,
) -> LoadedModel:
    """Load a causal LM and its tokenizer, in eval mode, on ``device`` in ``dtype``.

    ``spec`` may be an embedded name (see EMBEDDED_MODELS), a local model directory, a local PEFT
    adapter directory (its base is resolved the same way), a ``.gguf`` file or a hub id.
    ``adapter_trainable`` keeps a PEFT adapter's weights trainable. Only safetensors weights
    are loaded unless ``allow_pickle`` (pickle files can run code); see ``models/safety.py``.
    """
    torch_device = pick_device(device)
    torch_dtype = pick_dtype(dtype, torch_device)
    model, tokenizer, weights_hash, source = _resolve(str(spec), torch_dtype, trust_remote_code,
                                                      adapter_trainable, allow_pickle)
    _check_loaded(model, str(spec))
    ensure_pad_token(tokenizer)
    if tokenizer.pad_token_id is not None:
        model.config.pad_token_id = tokenizer.pad_token_id
    model.to(torch_device)  # dtype was set at load time (PEFT keeps fp32 adapters on bf16 bases)
    model.eval()
    return LoadedModel(model, tokenizer, str(spec), source, weights_hash)


def save_model(model: Any, tokenizer: Any, out_dir: str | Path,
               state_dict: dict | None = None) -> Path:
    """Save with safetensors into ``out_dir`` (a PeftModel saves only its adapter; nothing is merged).

    ``state_dict``: the weights to write instead of the model's own (the full state dict that
    FSDP / ZeRO-3 processes gathered together). Plain save: the caller writes into a temporary
    directory and renames it when complete.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    extra = {} if state_dict is None else {"state_dict": state_dict}
    model.save_pretrained(str(out), safe_serialization=True, **extra)
    if tokenizer is not None:
        tokenizer.save_pretrained(str(out))
    return out
