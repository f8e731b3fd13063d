"""MUSE's protocol (Shi et al. 2024; swj0419/muse_bench metrics/*.py): knowmem few-shot prompt,
32 tokens, stop strings, ROUGE-L F1 without stemming x100; verbmem prompt as given and the
first 128 tokens of gt; privleak texts scored whole, zlib over the scored text."""
from __future__ import annotations

import numpy as np
import pytest

from obliviate.data.types import Example
from obliviate.evaluation import evaluate, generate
from obliviate.evaluation.context import EvalContext
from obliviate.evaluation.metrics.knowmem import STOPS, knowmem, knowmem_prompt
from obliviate.evaluation.metrics.mia import min_k, scored_text, zlib_entropy
from obliviate.evaluation.metrics.rouge import cut_at_stops, rouge_l
from obliviate.evaluation.metrics.verbmem import verbmem, verbmem_pair

SHOTS = [{"question": "Who runs the mill?", "answer": "Ada Fenn"},
         {"question": "Where is the pier?", "answer": "North bay"}]


def test_knowmem_prompt_is_muse_few_shot_format():
    assert knowmem_prompt("Who won?", SHOTS) == (
        "Question: Who runs the mill?\nAnswer: Ada Fenn\n\n"
        "Question: Where is the pier?\nAnswer: North bay\n\n"
        "Question: Who won?\nAnswer: ")
    assert STOPS == ("\n\n", "\nQuestion", "Question:")
    assert cut_at_stops("Ada\nQuestion: next", STOPS) == "Ada"
    assert cut_at_stops("Ada Fenn\n\nQuestion:", STOPS) == "Ada Fenn"


def test_rouge_without_stemming_differs_from_tofus():
    """MUSE: use_stemmer=False, so "running dogs" vs "run dog" shares no token (F1 0);
    TOFU's stemmer maps both to "run dog" (F1 1)."""
    assert rouge_l("running dogs", "run dog", stemmer=False)[1] == 0.0
    assert rouge_l("running dogs", "run dog", stemmer=True)[1] == 1.0


def test_knowmem_end_to_end(tiny_model, tiny_tokenizer):
    qa = [Example("Who won?", "Ada Fenn", {"icl": SHOTS}),
          Example("Where is it?", "North bay", {"icl": SHOTS})]
    ctx = EvalContext(tiny_model, tiny_tokenizer, {"kf": qa})
    result = knowmem(ctx, "kf", {})
    prompts = [knowmem_prompt(e.prompt, SHOTS) for e in qa]
    ids = [tiny_tokenizer(p, add_special_tokens=True)["input_ids"] for p in prompts]
    raw = generate(tiny_model, tiny_tokenizer, ids, max_new_tokens=32)
    expected = [100 * rouge_l(e.target, cut_at_stops(g, STOPS), stemmer=False)[1]
                for e, g in zip(qa, raw)]
    assert result.per_sample == pytest.approx(expected)
    assert result.extra["max_new_tokens"] == 32 and result.extra["stemmer"] is False
    assert result.extra["samples"][0]["prompt"] == prompts[0]


def test_verbmem_feeds_prompt_as_given_and_scores_first_gt_tokens(tiny_model, tiny_tokenizer):
    tok = tiny_tokenizer
    prompt, gt = "The council voted on Tuesday to close", " the old ferry pier for good."
    ids, reference = verbmem_pair(tok, prompt, gt, max_new=8, prefix_tokens=32)
    assert ids == tok(prompt, add_special_tokens=True)["input_ids"]
    first = tok(gt, add_special_tokens=True)["input_ids"][:8]
    assert reference == tok.decode(first, skip_special_tokens=True)
    ctx = EvalContext(tiny_model, tok, {"vm": [Example(prompt, gt)]})
    result = verbmem(ctx, "vm", {"max_new_tokens": 8})
    out = generate(tiny_model, tok, [ids], max_new_tokens=8)[0]
    assert result.value == pytest.approx(100 * rouge_l(reference, out, stemmer=False)[1])


def test_privleak_texts_are_scored_whole_and_zlib_matches(tiny_model, tiny_tokenizer):
    long = [Example("", f"Passage {i}: " + "the ferry left the harbour at dawn. " * 6)
            for i in range(3)]
    hold = [Example("", f"Note {i}: " + "a gull sat on the mast all day long. " * 6)
            for i in range(3)]
    data = {"pf": long, "ph": hold}
    with pytest.warns(UserWarning, match="truncated"):
        cut = evaluate(tiny_model, tiny_tokenizer, data,
                       [("mia_min_k", "pf", {"holdout": "ph"})], max_length=16)
    whole = evaluate(tiny_model, tiny_tokenizer, data,
                     [("mia_min_k", "pf", {"holdout": "ph", "whole_text": True})],
                     max_length=16)
    ctx = EvalContext(tiny_model, tiny_tokenizer, data, max_length=4096)
    full = [min_k(lp, 0.4) for lp in ctx.scores("pf").logp]
    assert whole["pf/mia_min_k"].per_sample == pytest.approx(full, rel=1e-5)
    assert cut["pf/mia_min_k"].per_sample != pytest.approx(full, rel=1e-5)
    item = EvalContext(tiny_model, tiny_tokenizer, data, max_length=16).tokenized("pf")[0]
    text = scored_text(tiny_tokenizer, item)
    assert long[0].target.startswith(text) and len(text) < len(long[0].target)
    assert zlib_entropy(text) < zlib_entropy(long[0].target)
    assert scored_text(tiny_tokenizer, ctx.tokenized("pf")[0]) == long[0].target
    assert np.isfinite(whole["pf/mia_min_k"].value)
