"""Model loading (embedded name, local dir, PEFT adapter, GGUF, hub id), devices and dtypes."""
from obliviate.models.device import pick_device, pick_dtype
from obliviate.models.embedded import EMBEDDED_MODELS, embedded_model_dir, obliviate_home
from obliviate.models.loading import LoadedModel, check_causal, load_model, save_model
from obliviate.models.tiny import build_tiny_model, tiny_llama_config

__all__ = [
    "EMBEDDED_MODELS",
    "LoadedModel",
    "build_tiny_model",
    "check_causal",
    "embedded_model_dir",
    "load_model",
    "obliviate_home",
    "pick_device",
    "pick_dtype",
    "save_model",
    "tiny_llama_config",
]
