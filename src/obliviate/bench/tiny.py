"""``--model tiny``: a small Llama trained from scratch on the benchmark itself, with a small
byte-level BPE tokenizer trained (``tokenizers``) on the benchmark's own text, so that a whole
benchmark runs on a laptop CPU in minutes. Hidden 128, 2 layers by default (about 0.7M weights); the weights are
seeded, so the same data and settings give the same model."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from obliviate.models.tiny import build_tiny_model
from obliviate.models.tiny_tokenizer import CHAT_TEMPLATE, SPECIAL_TOKENS

TINY_NAME = "tiny"

#: Architecture of ``--model tiny`` (a LlamaConfig subset, see models/tiny.py).
TINY_ARCH: dict[str, Any] = {"hidden_size": 128, "num_hidden_layers": 2,
                             "num_attention_heads": 4, "num_key_value_heads": 4,
                             "intermediate_size": 384, "max_position_embeddings": 256}


def train_tokenizer(texts: Iterable[str], vocab_size: int = 1024) -> PreTrainedTokenizerFast:
    """A byte-level BPE tokenizer trained on ``texts``, with the specials and chat template of
    :func:`obliviate.models.tiny_tokenizer.build_tiny_tokenizer` (pad=0, bos=1)."""
    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    core.train_from_iterator(list(texts), trainer=trainer)
    tok = PreTrainedTokenizerFast(tokenizer_object=core, bos_token="<s>", eos_token="<|im_end|>",
                                  pad_token="<pad>", additional_special_tokens=SPECIAL_TOKENS[2:])
    tok.chat_template = CHAT_TEMPLATE
    return tok


def write_tiny_model(out: Path, texts: Iterable[str], seed: int = 0,
                     arch: dict[str, Any] | None = None, vocab_size: int = 1024) -> Path:
    """Save a freshly initialised tiny Llama and its trained tokenizer into ``out``."""
    tok = train_tokenizer(texts, vocab_size)
    model = build_tiny_model(len(tok), seed=seed, pad_token_id=tok.pad_token_id,
                             bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                             **(arch or TINY_ARCH))
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out), safe_serialization=True)
    tok.save_pretrained(str(out))
    return out
