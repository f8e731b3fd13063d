"""Input-based baselines: guardrail and in-context unlearning prompt wrappers."""
import pytest

from obliviate.data.types import Example
from obliviate.errors import ConfigError
from obliviate.inputs import build_wrapper, wrap_datasets

FORGET = [Example("Who is Harry's friend?", "Ron."), Example("Where is Hogwarts?", "Scotland.")]
RETAIN = [Example("Capital of France?", "Paris.")]


def test_guardrail_wraps_questions_and_leaves_text():
    wrapper = build_wrapper("guardrail", topic="Harry Potter")
    out = wrap_datasets({"forget": FORGET, "text": [Example("", "a passage")]}, wrapper)
    assert out["forget"][0].prompt.startswith("You must not reveal any information about "
                                              "Harry Potter.")
    assert out["forget"][0].prompt.endswith("Question: Who is Harry's friend?")
    assert out["forget"][0].target == "Ron." and out["text"][0].prompt == ""


def test_icul_puts_flipped_forget_and_true_retain_demos_first():
    wrapper = build_wrapper("icul", forget=FORGET, retain=RETAIN, n_forget=2, n_retain=1)
    prompt = wrapper([Example("Who teaches potions?", "Snape.")])[0].prompt
    assert prompt.endswith("Question: Who teaches potions?\nAnswer:")
    assert prompt.count("Question:") == 4
    assert "Answer: Paris." in prompt and "Answer: Ron." not in prompt
    same = wrapper([Example("Who teaches potions?", "Snape.")])[0].prompt
    assert same == prompt  # demonstrations are fixed


def test_icul_needs_forget_examples_and_unknown_names():
    with pytest.raises(ConfigError, match="needs forget examples"):
        build_wrapper("icul", forget=[])
    with pytest.raises(ConfigError, match="unknown prompt wrapper"):
        build_wrapper("guardrails")
