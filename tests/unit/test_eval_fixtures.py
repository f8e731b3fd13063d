"""Shared helpers for the evaluation tests: a word-level tokenizer and a tiny Llama, built
offline. (Importable as ``test_eval_fixtures``; the one test here checks the helpers.)"""
from __future__ import annotations

import torch
from tokenizers import Tokenizer, models, pre_tokenizers, processors
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from obliviate.data.types import Example

WORDS = ("the cat sat on mat a dog ran in park who wrote book alice bob paris london is "
         "capital of france england red blue green question answer yes no big small city "
         "river tree house one two three four five six").split()


def make_tokenizer() -> PreTrainedTokenizerFast:
    """Word-level tokenizer, 50 ids: <pad>=0, <s>=1, </s>=2, <unk>=3, then WORDS and ':' '?' '.'."""
    vocab = {t: i for i, t in enumerate(["<pad>", "<s>", "</s>", "<unk>", ":", "?", "."] + WORDS)}
    assert len(vocab) <= 50
    core = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    core.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 1)])
    return PreTrainedTokenizerFast(tokenizer_object=core, bos_token="<s>", eos_token="</s>",
                                   pad_token="<pad>", unk_token="<unk>")


def make_model(seed: int = 0) -> LlamaForCausalLM:
    """The tiny Llama of the brief (vocab 50), seeded, in eval mode."""
    torch.manual_seed(seed)
    config = LlamaConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                         num_key_value_heads=2, intermediate_size=64, vocab_size=50,
                         pad_token_id=0, bos_token_id=1, eos_token_id=2)
    return LlamaForCausalLM(config).eval()


def qa_set(n: int = 6, offset: int = 0) -> list[Example]:
    """Small QA examples with TOFU-style paraphrased / perturbed answers."""
    out = []
    for i in range(n):
        w = WORDS[(i + offset) % len(WORDS)]
        out.append(Example(f"who wrote the {w} book ?", f"alice wrote the {w} book",
                           {"paraphrased_answer": f"the {w} book is by alice",
                            "perturbed_answer": [f"bob wrote the {w} book",
                                                 f"the dog wrote the {w} book"]}))
    return out


def text_set(n: int = 6, offset: int = 0) -> list[Example]:
    """Small raw-text examples of varying length."""
    return [Example("", " ".join(WORDS[(i * 3 + offset + j) % len(WORDS)] for j in range(5 + i)))
            for i in range(n)]


def test_helpers_build() -> None:
    tok = make_tokenizer()
    ids = tok("the cat sat")["input_ids"]
    assert ids[0] == 1 and len(ids) == 4
    assert make_model().config.vocab_size == 50
