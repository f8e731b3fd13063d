"""The helpers that method files share (methods/_common.py): hyper-parameter checks, the log
parts of a forget term, the batch NLL and a wrapped method's renamed part."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import pytest
import torch

from methods_testkit import forget_batch, left_padded, make_batch, tiny_llama
from obliviate.errors import ConfigError
from obliviate.methods import LossOutput, StepInputs
from obliviate.methods._common import (batch_nll, check_fields, check_flag, check_int,
                                       check_number, decoder_layers, forget_parts, logits_of,
                                       renamed_part, retain_nll, sequence_stats, target_logprobs,
                                       target_stats)


@dataclass
class _Toy:
    a: object = 1
    b: object = 2.5
    name: ClassVar[str] = "toy"


def test_check_fields_stores_floats_in_order_and_names_the_bad_field():
    toy = _Toy()
    check_fields(toy, "a", "b", positive=True)
    assert (toy.a, toy.b) == (1.0, 2.5) and isinstance(toy.a, float)
    with pytest.raises(ConfigError, match=r"^toy: a must be > 0, got 0\.$"):
        check_fields(_Toy(a=0, b=-1), "a", "b", positive=True)  # the first bad field is named
    with pytest.raises(ConfigError, match=r"^toy: b must be >= 0, got -1\.$"):
        check_fields(_Toy(a=0, b=-1), "a", "b", non_negative=True)
    with pytest.raises(ConfigError, match="finite number"):
        check_fields(_Toy(b=True), "b")


@pytest.mark.parametrize("value", [True, 1.0, "3", None, 0])
def test_check_int_refuses_bools_floats_and_values_below_the_minimum(value):
    with pytest.raises(ConfigError, match=rf"^toy: k must be an integer >= 1, got {value!r}\.$"):
        check_int("toy", "k", value, 1)


def test_check_int_and_check_flag_return_good_values():
    assert check_int("toy", "k", 0, 0) == 0 and check_int("toy", "k", 7, 1) == 7
    assert check_flag("toy", "f", False) is False
    with pytest.raises(ConfigError, match=r"^toy: f must be true or false, got 1\.$"):
        check_flag("toy", "f", 1)


def test_batch_nll_and_forget_parts_by_hand():
    model, batch = tiny_llama(), forget_batch()
    logits = logits_of(model, batch)
    logp = torch.log_softmax(logits[:, :-1].float(), dim=-1)
    targets = batch["labels"][:, 1:]
    keep = targets != -100
    by_hand = -logp[keep].gather(-1, targets[keep].unsqueeze(-1)).mean()
    nll = batch_nll(model, batch)
    assert nll.requires_grad and math.isclose(nll.item(), by_hand.item(), rel_tol=1e-5)
    parts = forget_parts(torch.tensor(-0.25), logits, batch["labels"])
    assert list(parts) == ["forget_loss", "forget_nll"] and parts["forget_loss"] == -0.25
    assert math.isclose(parts["forget_nll"], by_hand.item(), rel_tol=1e-5)


def test_renamed_part_moves_the_key_to_the_end_and_leaves_the_input_alone():
    loss = torch.tensor(1.5)
    out = LossOutput(loss, {"a": 1.0, "idk_nll": 2.0, "c": 3.0})
    renamed = renamed_part(out, "idk_nll", "alternate_nll")
    assert renamed.loss is loss
    assert list(renamed.parts.items()) == [("a", 1.0), ("c", 3.0), ("alternate_nll", 2.0)]
    assert out.parts == {"a": 1.0, "idk_nll": 2.0, "c": 3.0}


def test_check_number_and_check_fields_accept_any_finite_number_without_a_flag():
    assert check_number("toy", "x", -2) == -2.0 and check_number("toy", "x", 0.0) == 0.0
    toy = _Toy(a=-3, b=0)
    check_fields(toy, "a", "b")
    assert (toy.a, toy.b) == (-3.0, 0.0)


def _one_token_batch() -> dict[str, torch.Tensor]:
    """One row, one target token (13 after the prompt 5 6 7): the batch's mean NLL is that one
    token's NLL, so a divisor other than the token count shows."""
    return make_batch([([5, 6, 7], [13])])


def test_stats_of_a_one_token_batch_divide_by_one():
    model, batch = tiny_llama(), _one_token_batch()
    with torch.no_grad():
        logits = logits_of(model, batch)
        by_hand = -torch.log_softmax(logits[0, 2].float(), dim=-1)[13]
        for logp, n, nll in (target_stats(model, batch), sequence_stats(logits, batch["labels"])):
            assert n.tolist() == [1]
            assert math.isclose(logp.item(), -by_hand.item(), rel_tol=1e-5)
            assert math.isclose(nll.item(), by_hand.item(), rel_tol=1e-5)
        nll = retain_nll(model, StepInputs(forget=forget_batch(), retain=batch), 1.0)
        assert math.isclose(nll.item(), by_hand.item(), rel_tol=1e-5)


def test_forward_helpers_pass_the_attention_mask():
    """Left padding changes the logits unless the padding is masked out; Llama derives the
    positions from the mask, so the masked model gives the unpadded numbers exactly."""
    model, batch = tiny_llama(), _one_token_batch()
    padded = left_padded(batch, 3)
    with torch.no_grad():
        assert torch.allclose(logits_of(model, padded)[:, 3:], logits_of(model, batch), atol=1e-5)
        logp, mask = target_logprobs(model, padded)
        want, want_mask = target_logprobs(model, batch)
        assert torch.equal(mask[:, 3:], want_mask) and not mask[:, :3].any()
        assert torch.allclose(logp[:, 3:], want, atol=1e-5)
        unmasked = model(input_ids=padded["input_ids"]).logits[:, 3:]
        assert not torch.allclose(unmasked, logits_of(model, batch), atol=1e-3)


def _tiny(kind: str) -> torch.nn.Module:
    """A two-block model of each supported layout, with a different count per layout."""
    from transformers import (GPT2Config, GPT2LMHeadModel, GPTNeoXConfig, GPTNeoXForCausalLM,
                              OPTConfig, OPTForCausalLM)
    if kind == "gpt2":
        return GPT2LMHeadModel(GPT2Config(vocab_size=64, n_embd=16, n_layer=3, n_head=2))
    if kind == "neox":
        return GPTNeoXForCausalLM(GPTNeoXConfig(vocab_size=64, hidden_size=16, num_hidden_layers=4,
                                                num_attention_heads=2, intermediate_size=32))
    return OPTForCausalLM(OPTConfig(vocab_size=64, hidden_size=16, num_hidden_layers=5,
                                    num_attention_heads=2, ffn_dim=32, word_embed_proj_dim=16))


@pytest.mark.parametrize("kind, path, depth", [("gpt2", "transformer.h", 3),
                                               ("neox", "gpt_neox.layers", 4),
                                               ("opt", "model.decoder.layers", 5)])
def test_decoder_layers_of_each_supported_layout(kind, path, depth):
    model = _tiny(kind)
    layers = decoder_layers(model)
    assert layers is model.get_submodule(path) and len(layers) == depth


def test_decoder_layers_under_a_peft_wrapper_and_the_error():
    from peft import LoraConfig, get_peft_model
    model = tiny_llama(layers=3)
    wrapped = get_peft_model(model, LoraConfig(r=2, target_modules=["q_proj"]))
    assert decoder_layers(wrapped) is model.model.layers and len(model.model.layers) == 3
    with pytest.raises(ConfigError, match=r"^cannot find the decoder layers of Linear; supported: "
                       r"model\.layers, transformer\.h, gpt_neox\.layers, model\.decoder\.layers\.$"):
        decoder_layers(torch.nn.Linear(2, 2))
