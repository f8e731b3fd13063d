"""The helpers that method files share (methods/_common.py): hyper-parameter checks, the log
parts of a forget term, the batch NLL and a wrapped method's renamed part."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import pytest
import torch

from methods_testkit import forget_batch, tiny_llama
from obliviate.errors import ConfigError
from obliviate.methods import LossOutput
from obliviate.methods._common import (batch_nll, check_fields, check_flag, check_int,
                                       forget_parts, logits_of, renamed_part)


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
