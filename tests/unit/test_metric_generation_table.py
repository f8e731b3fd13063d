"""The generation metrics' plumbing on a context whose greedy answers are given by the test:
ROUGE-L (TOFU) with its stop strings, budget and stemmer options, keyword accuracy's checks,
and MUSE's verbmem prompt/reference split with a tokenizer that adds a BOS."""
from __future__ import annotations

import re

import pytest
from table_context import TableContext, bos_tokenizer

from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

from obliviate.data.types import Example
from obliviate.errors import DataError
from obliviate.evaluation.metrics.keyword_accuracy import contains_keyword, keywords_of
from obliviate.evaluation.metrics.rouge import (cut_at_stops, rouge_l_f1, rouge_l_recall,
                                                rouge_result)
from obliviate.evaluation.metrics.verbmem import split_prefix, verbmem_pair

QA = [Example("q1", "the cat sat"), Example("q2", "a red fox")]


def test_rouge_cuts_at_stops_strips_and_reports_its_options():
    """Answer 1 "  the cat END sat" is cut at " END" and stripped: "the cat", recall 2/3,
    precision 1, F1 0.8. Answer 2 "a fox": the same. An empty stop string cuts nothing."""
    ctx = TableContext({"qa": QA}, {}, {"qa": ["  the cat END sat", "a fox"]})
    options = {"max_new_tokens": 7, "stop": ["", " END"]}
    recall = rouge_l_recall(ctx, "qa", options)
    assert recall.per_sample == pytest.approx([2 / 3, 2 / 3])
    assert rouge_l_f1(ctx, "qa", options).per_sample == pytest.approx([0.8, 0.8])
    assert recall.extra["max_new_tokens"] == 7 and recall.extra["stop"] == ["", " END"]
    assert recall.extra["stemmer"] is True and ctx.budgets == [7, 7]
    assert recall.extra["samples"][1] == {"prompt": "q2", "reference": "a red fox",
                                          "generation": "a fox"}


def test_rouge_defaults_and_stemmer_option():
    """No budget: the context's (64); no stop strings; "cats" matches "cat" only with the
    stemmer: recall 1 with it, 1/2 without."""
    ctx = TableContext({"qa": [Example("q", "black cats")]}, {}, {"qa": ["black cat"]})
    stemmed = rouge_l_recall(ctx, "qa", {})
    assert stemmed.per_sample == [1.0] and ctx.budgets == [64] and stemmed.extra["stop"] == []
    plain = rouge_l_recall(ctx, "qa", {"stemmer": False})
    assert plain.per_sample == [0.5] and plain.extra["stemmer"] is False


def test_rouge_result_scales_and_keeps_five_samples():
    refs = [f"word{i} end" for i in range(7)]
    result = rouge_result(refs, ["end"] * 7, [f"q{i}" for i in range(7)], 0, scale=100.0,
                          unit="percent")
    assert result.per_sample == pytest.approx([50.0] * 7) and result.extra["unit"] == "percent"
    assert [s["prompt"] for s in result.extra["samples"]] == ["q0", "q1", "q2", "q3", "q4"]
    assert result.extra["stemmer"] is True
    assert cut_at_stops("a\n\nb", ["\n\n", "a"]) == ""


@pytest.mark.parametrize("words", [None, [], [5], ["ok", "  "]])
def test_keywords_must_be_non_empty_strings(words):
    message = ("forget example 2 has no 'keywords' list (the words that make an answer "
               "correct); add one to every record to use keyword_accuracy")
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        keywords_of({"keywords": words}, "forget example 2")


def test_keyword_match_is_caseless():
    """casefold, not lower: "STRASSE" contains "straße" (ß folds to ss)."""
    assert contains_keyword("Die STRASSE", ["straße"])
    assert keywords_of({"keywords": "x"}, "") == ["x"]


def test_split_prefix_halves_short_texts_and_caps_the_continuation():
    assert split_prefix(list(range(10)), 32, 3) == ([0, 1, 2, 3, 4], [5, 6, 7])
    head, tail = split_prefix(list(range(100)), 32, 128)
    assert head == list(range(32)) and tail == list(range(32, 100))


def test_verbmem_reference_counts_the_bos_among_the_first_tokens():
    """MUSE encodes gt with special tokens and keeps its first max_new tokens: <s> a b c."""
    tok = bos_tokenizer()
    ids, reference = verbmem_pair(tok, "The", "abcdef", max_new=4, prefix_tokens=32)
    assert ids == tok("The")["input_ids"] and ids[0] == 1 and reference == "abc"


def test_verbmem_raw_text_keeps_the_bos_out_of_the_split():
    """No prompt: <s> stays in front; the first 3 text tokens are the prefix, the next 4 the
    reference."""
    tok = bos_tokenizer()
    ids, reference = verbmem_pair(tok, "", "abcdefgh", max_new=4, prefix_tokens=3)
    assert ids == tok("abc")["input_ids"] and reference == "defg"
    ids, reference = verbmem_pair(tok, "", "<s>abcdefgh", max_new=4, prefix_tokens=3)
    assert ids == [1] + tok("<s>ab", add_special_tokens=False)["input_ids"] and reference == "cdef"


def test_verbmem_raw_text_reference_drops_special_tokens():
    """As with a prompt, the reference is decoded without special tokens: d <s> e f -> "def"."""
    ids, reference = verbmem_pair(bos_tokenizer(), "", "abcd<s>efgh", max_new=4, prefix_tokens=3)
    assert reference == "def"


def test_verbmem_reference_is_decoded_with_tokenization_spaces_cleaned_up():
    """MUSE decodes the reference with clean_up_tokenization_spaces=True. Transformers applies
    it to WordPiece tokenizers (it ignores it for BPE ones): "a , b" becomes "a, b"."""
    core = Tokenizer(models.WordPiece({"[UNK]": 0, "a": 1, ",": 2, "b": 3}, unk_token="[UNK]"))
    core.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    core.decoder = decoders.WordPiece(cleanup=False)
    tok = PreTrainedTokenizerFast(tokenizer_object=core, unk_token="[UNK]")
    assert tok.decode([1, 2, 3]) == "a , b"
    assert verbmem_pair(tok, "a", "a, b", max_new=8, prefix_tokens=32) == ([1], "a, b")
