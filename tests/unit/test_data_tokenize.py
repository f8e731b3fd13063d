"""Label masking on a real (tiny, built in place) fast tokenizer, with and without a template."""
import warnings

import pytest
from tokenizers import Tokenizer, models, pre_tokenizers, processors
from transformers import PreTrainedTokenizerFast

from obliviate.data import Example, render_prompt, tokenize_examples
from obliviate.errors import DataError

SPECIAL = ["<unk>", "<pad>", "<s>", "</s>", "<|user|>", "<|assistant|>", "<|end|>"]
WORDS = "Question : Answer who wrote it Ann did a long passage of text".split()
TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }} <|end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|> {% endif %}"
)


def make_tokenizer(template=None):
    vocab = {tok: i for i, tok in enumerate(SPECIAL + WORDS)}
    core = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    core.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 2)])
    tok = PreTrainedTokenizerFast(
        tokenizer_object=core, bos_token="<s>", eos_token="</s>", pad_token="<pad>",
        unk_token="<unk>", additional_special_tokens=SPECIAL[4:],
    )
    tok.chat_template = template
    return tok


def ids(tok, text):
    return tok(text, add_special_tokens=False)["input_ids"]


QA = Example("who wrote it", "Ann did")


def test_plain_prompt_bos_and_eos():
    tok = make_tokenizer()
    (item,) = tokenize_examples([QA], tok, max_length=64, fmt="qa")
    prompt = [tok.bos_token_id] + ids(tok, "Question: who wrote it\nAnswer: ")
    target = ids(tok, "Ann did") + [tok.eos_token_id]
    assert item.input_ids == prompt + target
    assert item.labels == [-100] * len(prompt) + target
    assert item.n_target_tokens == 3


def test_chat_template_labels_answer_and_end_of_turn():
    tok = make_tokenizer(TEMPLATE)
    prompt_text = render_prompt(tok, QA.prompt)
    assert prompt_text == "<|user|> who wrote it <|end|>\n<|assistant|> "
    (item,) = tokenize_examples([QA], tok, max_length=64, fmt="qa")
    # open-unlearning's labels: the rendered assistant turn (end-of-turn marker included), then
    # EOS because the template's rendering does not end with it
    target = ids(tok, "Ann did <|end|>") + [tok.eos_token_id]
    assert target[-2] == tok.convert_tokens_to_ids("<|end|>")
    assert item.input_ids == ids(tok, prompt_text) + target
    labelled = [t for t in item.labels if t != -100]
    assert labelled == target
    assert item.input_ids[0] != tok.bos_token_id


def test_template_without_end_marker_falls_back_to_eos():
    tok = make_tokenizer("{% for m in messages %}{{ m['content'] }} {% endfor %}")
    (item,) = tokenize_examples([QA], tok, max_length=64, fmt="qa")
    assert [t for t in item.labels if t != -100] == ids(tok, "Ann did") + [tok.eos_token_id]


def test_text_labels_every_token_after_bos():
    tok = make_tokenizer()
    (item,) = tokenize_examples([Example("", "a long passage of text")], tok, 64, "text")
    body = ids(tok, "a long passage of text")
    assert item.input_ids == [tok.bos_token_id] + body
    assert item.labels == [-100] + body


def test_truncation_warns_once_with_count():
    tok = make_tokenizer()
    examples = [Example("", "a long passage of text")] * 3 + [Example("", "text")]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        items = tokenize_examples(examples, tok, max_length=4, fmt="text")
    assert len(caught) == 1
    message = str(caught[0].message)
    assert "3 of 4" in message and "max_length=4" in message and "train.max_length=" in message
    assert [len(i.input_ids) for i in items] == [4, 4, 4, 2]
    assert items[0].labels == [-100] + ids(tok, "a long passage")


def test_long_prompt_keeps_its_end_and_one_target_token():
    tok = make_tokenizer()
    with pytest.warns(UserWarning, match="1 of 1"):
        (item,) = tokenize_examples([Example("who " * 20, "Ann did")], tok, 5, "qa")
    assert len(item.input_ids) == 5
    assert item.labels == [-100] * 4 + ids(tok, "Ann")
    assert item.input_ids[:4] == ids(tok, render_prompt(tok, "who " * 20))[-4:]


def test_empty_text_raises():
    with pytest.raises(DataError, match="example 2 has no target token"):
        tokenize_examples([Example("", "text"), Example("", "")], make_tokenizer(), 8, "text")
