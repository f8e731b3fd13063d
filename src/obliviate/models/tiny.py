"""A tiny random Llama for tests and demos (runs in milliseconds on a CPU)."""
from __future__ import annotations

from typing import Any

import torch
from transformers import LlamaConfig, LlamaForCausalLM


def tiny_llama_config(vocab_size: int, **overrides: Any) -> LlamaConfig:
    """LlamaConfig with hidden 32, 2 layers, 4 heads, 2 kv heads, intermediate 64, 256 positions.

    ``overrides`` replace any field (for instance ``pad_token_id=0`` or ``num_hidden_layers=4``).
    """
    fields: dict[str, Any] = {
        "vocab_size": vocab_size,
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "intermediate_size": 64,
        "max_position_embeddings": 256,
        "tie_word_embeddings": False,
    }
    fields.update(overrides)
    return LlamaConfig(**fields)


def build_tiny_model(vocab_size: int, seed: int = 0, **overrides: Any) -> LlamaForCausalLM:
    """A randomly initialised tiny LlamaForCausalLM in eval mode; same ``seed`` -> same weights."""
    generator_state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        model = LlamaForCausalLM(tiny_llama_config(vocab_size, **overrides))
    finally:
        torch.random.set_rng_state(generator_state)
    return model.eval()
