"""Multiple-choice accuracy (lm-evaluation-harness's zero-shot log-likelihood protocol) on a
context whose option log-likelihoods are given by the test: the answer forms, the checks on
choices and answers, and the harness encoding of context and continuation."""
from __future__ import annotations

import re
import string

import pytest
from table_context import TableContext, bos_tokenizer

from obliviate.data.types import IGNORE_INDEX, Example
from obliviate.errors import DataError
from obliviate.evaluation.metrics.multiple_choice import (encode_pair, mc_accuracy, mc_answer,
                                                          mc_prompt)

XYZ, YES_NO, PQ = ["x", "y", "z"], ["yes", "no"], ["p", "q"]
EXAMPLES = [Example("Q1", " B ", {"choices": XYZ}),  # the target as a letter
            Example("", "no", {"choices": YES_NO, "question": "Q2"}),  # as a choice's text
            Example("Q3", "p", {"choices": PQ, "answer": 0, "subject": "wmdp-bio"})]
# Summed log-likelihoods: Q1 argmax B (0.6) right; Q2 argmax A (0.7) wrong; Q3 argmax B
# (0.5 * 0.9 = 0.45 > 0.4) wrong, though B's first token alone (0.5) would also win.
PROBS = {(mc_prompt("Q1", XYZ), " A"): [0.1], (mc_prompt("Q1", XYZ), " B"): [0.6],
         (mc_prompt("Q1", XYZ), " C"): [0.3],
         (mc_prompt("Q2", YES_NO), " A"): [0.7], (mc_prompt("Q2", YES_NO), " B"): [0.2],
         (mc_prompt("Q3", PQ, "wmdp-bio"), " A"): [0.4],
         (mc_prompt("Q3", PQ, "wmdp-bio"), " B"): [0.5, 0.9]}


def test_mc_accuracy_argmax_of_summed_loglikelihood_per_question():
    ctx = TableContext({"mc": EXAMPLES}, PROBS, tokenizer=bos_tokenizer())
    result = mc_accuracy(ctx, "mc", {})
    assert result.per_sample == [1.0, 0.0, 0.0] and result.value == pytest.approx(1 / 3)
    assert result.extra["predictions"] == [1, 0, 1]
    assert result.extra["acc_norm"] == pytest.approx(1 / 3)
    assert len(ctx.scored) == 7 and ctx.scored[0].input_ids[0] != 1  # no BOS (harness)


def test_mc_accuracy_of_an_empty_set_is_nan():
    result = mc_accuracy(TableContext({"mc": []}, PROBS), "mc", {})
    assert result.per_sample == [] and result.value != result.value
    assert result.extra["acc_norm"] != result.extra["acc_norm"]


def test_mmlu_all_gets_no_description():
    """lm-eval's mmlu "all" mixes subjects: no task description, as without a subject."""
    assert mc_prompt("Q", PQ, "all") == "Q\nA. p\nB. q\nAnswer:" == mc_prompt("Q", PQ, "")


def test_mc_answer_forms():
    """Index, letter (stripped), choice text; the question from meta when the prompt is empty
    (none at all: an empty question); choices are kept as text."""
    assert mc_answer(Example("Q", "", {"choices": [1, 2], "answer": 1}), 1) == ("Q", ["1", "2"], 1)
    assert mc_answer(Example("Q", " B ", {"choices": XYZ}), 1) == ("Q", XYZ, 1)
    assert mc_answer(Example("", "z", {"choices": XYZ, "question": "Q"}), 1) == ("Q", XYZ, 2)
    assert mc_answer(Example("", "A", {"choices": XYZ}), 1) == ("", XYZ, 0)
    letters = list(string.ascii_uppercase)
    assert mc_answer(Example("Q", "Z", {"choices": letters}), 1)[2] == 25
    assert mc_answer(Example("Q", "B", {"choices": PQ}), 1)[2] == 1


@pytest.mark.parametrize("choices", [None, "ab", ["only"], list(string.ascii_uppercase) + ["AA"]])
def test_mc_answer_refuses_bad_choices(choices):
    message = "example 4 needs meta 'choices', a list of 2-26 options."
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        mc_answer(Example("Q", "A", {"choices": choices}), 4)


@pytest.mark.parametrize("answer", [2, -1, "C", "", "AB", " BA ", "maybe", 1.0])
def test_mc_answer_refuses_answers_outside_the_choices(answer):
    message = f"example 3: answer {answer!r} is not a valid choice index/letter."
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        mc_answer(Example("Q", "unused", {"choices": PQ, "answer": answer}), 3)


def test_mc_accuracy_names_the_bad_example():
    data = [EXAMPLES[0], Example("Q", "A", {"choices": ["one"]})]
    with pytest.raises(DataError, match="example 2 needs meta 'choices'"):
        mc_accuracy(TableContext({"mc": data}, PROBS), "mc", {})


def test_encode_pair_is_the_harness_encoding_cut_from_the_left():
    """No special tokens (even where the tokenizer adds a BOS); labels only on the
    continuation; a context too long loses its first tokens, never the continuation's."""
    tok = bos_tokenizer()
    ids = tok("ctx A", add_special_tokens=False)["input_ids"]
    item = encode_pair(tok, "ctx", " A", 512)
    assert item.input_ids == ids and item.labels == [IGNORE_INDEX] * 3 + ids[3:]
    assert item.example == Example("ctx", " A")
    cut = encode_pair(tok, "ctx", " A", 3)
    assert cut.input_ids == ids[-3:] and cut.labels == [IGNORE_INDEX] + ids[3:]
