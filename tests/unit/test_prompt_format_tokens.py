"""The prompt format and the tokens each metric scores, as open-unlearning scores them: the
chat target ends with the appended EOS, which extraction strength and Min-K% leave out."""
from __future__ import annotations

import pytest

from obliviate.data import Example, tokenize_examples
from obliviate.data.prompting import (PromptFormat, prompt_format_of, set_default_prompt_format,
                                      set_prompt_format)
from obliviate.errors import ConfigError
from obliviate.evaluation.context import EvalContext
from obliviate.evaluation.metrics.extraction_strength import (extraction_strength,
                                                              extraction_strength_metric)
from obliviate.evaluation.metrics.mia import min_k
from obliviate.models.tiny_tokenizer import build_tiny_tokenizer

QA = [Example("Who guards the gate?", "The warden Ilsa."), Example("Where?", "Calder Vale.")]


def _labels(item):
    return [t for t in item.labels if t != -100]


def test_formats_render_and_tokenize():
    tok = build_tiny_tokenizer()
    sys = PromptFormat("chat", "You are a helpful assistant.")
    assert sys.render(tok, "Q?") == ("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
                                     "<|im_start|>user\nQ?<|im_end|>\n<|im_start|>assistant\n")
    assert PromptFormat("plain").render(tok, "Q?") == "Question: Q?\nAnswer: "
    assert PromptFormat("[INST] {question} [/INST]").render(tok, "Q?") == "[INST] Q? [/INST]"
    (chat,) = tokenize_examples(QA[:1], tok, 128, "qa", sys)
    # open-unlearning: the rendered assistant turn "answer<|im_end|>\n", then EOS appended
    assert tok.decode(_labels(chat)) == f"The warden Ilsa.<|im_end|>\n{tok.eos_token}"
    (inst,) = tokenize_examples(QA[:1], tok, 128, "qa", PromptFormat("[INST] {question} [/INST]"))
    assert tok.decode(_labels(inst)) == f"The warden Ilsa.{tok.eos_token}"  # TOFU: answer + EOS


def test_format_follows_the_tokenizer_then_the_process_default():
    tok = build_tiny_tokenizer()
    assert prompt_format_of(tok) == PromptFormat()
    try:
        set_default_prompt_format("plain")
        assert prompt_format_of(tok).format == "plain"
        set_prompt_format(tok, {"format": "chat", "system": "S"})
        assert prompt_format_of(tok) == PromptFormat("chat", "S")
    finally:
        set_default_prompt_format(None)


@pytest.mark.parametrize("bad", [{"format": "Q: {q}"}, {"format": "plain", "system": "S"},
                                 {"format": "chat", "system": ""}, {"style": "chat"}])
def test_bad_formats_are_config_errors(bad):
    from obliviate.data.prompting import prompt_format
    with pytest.raises(ConfigError):
        prompt_format(bad)


def test_extraction_strength_and_min_k_leave_out_the_final_eos(tiny_model, tiny_tokenizer):
    ctx = EvalContext(tiny_model, tiny_tokenizer, {"forget": QA})
    scores = ctx.scores("forget")
    assert all(_labels(it)[-1] == tiny_tokenizer.eos_token_id for it in ctx.tokenized("forget"))
    es = extraction_strength_metric(ctx, "forget", {})
    assert es.per_sample == pytest.approx([extraction_strength(c[:-1]) for c in scores.correct])
    mk = ctx.result("mia_min_k", "forget", {"holdout": "forget"})
    assert mk.per_sample == pytest.approx([min_k(lp[:-1], 0.4) for lp in scores.logp])
