"""Tokenize examples and mask the labels so the loss only sees the target tokens.

QA prompts follow the prompt format (:mod:`obliviate.data.prompting`; by default the one
attached to the tokenizer). With the chat template the target is the assistant turn exactly as
the template renders it after the generation prompt (answer, end-of-turn marker and anything the
template writes after it), followed by the EOS token unless it already ends with it: the tokens
open-unlearning (``preprocess_chat_instance``) trains and scores. Otherwise the prompt is the
plain or custom template (after the BOS token when the tokenizer adds one) and the target is the
answer followed by EOS, as TOFU's own code scores it. Prompt and target are tokenized separately
so the boundary between them is exact.
"""
from __future__ import annotations

import warnings
from typing import Any

from obliviate.data.prompting import PLAIN_PROMPT, PromptFormat, prompt_format_of
from obliviate.data.types import IGNORE_INDEX, Example, Format, TokenizedExample
from obliviate.errors import ConfigError, DataError

__all__ = ["PLAIN_PROMPT", "has_chat_template", "render_prompt", "tokenize_examples"]


def has_chat_template(tokenizer: Any) -> bool:
    """True when the tokenizer carries a chat template."""
    return bool(getattr(tokenizer, "chat_template", None))


def render_prompt(tokenizer: Any, question: str, prompt: PromptFormat | None = None) -> str:
    """The prompt string for a question in format ``prompt`` (default: the tokenizer's, see
    :func:`~obliviate.data.prompting.prompt_format_of`). Used for training and generation."""
    return (prompt or prompt_format_of(tokenizer)).render(tokenizer, question)


def tokenize_examples(
    examples: list[Example], tokenizer: Any, max_length: int, fmt: Format,
    prompt: PromptFormat | None = None,
) -> list[TokenizedExample]:
    """Tokenize ``examples`` in format ``fmt`` ("qa" or "text"), labels -100 on the prompt;
    QA prompts in prompt format ``prompt`` (default: the tokenizer's).

    Sequences longer than ``max_length`` are cut (the end of the target first; the start of the
    prompt if the prompt alone is too long) and one warning per call says how many were cut.
    """
    if fmt not in ("qa", "text"):
        raise ConfigError(f"unknown data format {fmt!r}. Known formats: qa, text.")
    if isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 2:
        raise ConfigError(f"max_length must be an integer >= 2, got {max_length!r}.")
    style = prompt or prompt_format_of(tokenizer)
    bos = _bos(tokenizer)
    out, n_cut = [], 0
    for index, example in enumerate(examples, start=1):
        if fmt == "qa":
            prompt_ids, target_ids = _qa_ids(tokenizer, example, bos, style)
        else:
            prompt_ids, target_ids = _text_ids(tokenizer, example, bos)
        if not target_ids:
            raise DataError(
                f"example {index} has no target token (empty answer/text and no EOS token); "
                "remove it or give it a non-empty target."
            )
        if len(prompt_ids) + len(target_ids) > max_length:
            prompt_ids, target_ids = _truncate(prompt_ids, target_ids, max_length)
            n_cut += 1
        labels = [IGNORE_INDEX] * len(prompt_ids) + list(target_ids)
        out.append(TokenizedExample(prompt_ids + target_ids, labels, example))
    if n_cut:
        warnings.warn(
            f"{n_cut} of {len(examples)} examples were longer than max_length={max_length} "
            f"tokens and were truncated to {max_length}; raise the limit with "
            f"train.max_length=... to keep them whole.",
            stacklevel=2,
        )
    return out


def _truncate(prompt: list[int], target: list[int], max_length: int) -> tuple[list[int], list[int]]:
    """Keep the prompt and cut the target's end; if the prompt alone is too long, keep its last
    ``max_length - 1`` tokens and the first target token."""
    if len(prompt) >= max_length:
        return prompt[len(prompt) - (max_length - 1):], target[:1]
    return prompt, target[: max_length - len(prompt)]


def _encode(tokenizer: Any, text: str) -> list[int]:
    if not text:
        return []
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def _bos(tokenizer: Any) -> list[int]:
    """``[bos_id]`` when the tokenizer adds a BOS token by itself, else ``[]``."""
    bos = getattr(tokenizer, "bos_token_id", None)
    if bos is None:
        return []
    with_special = tokenizer("a", add_special_tokens=True)["input_ids"]
    without = tokenizer("a", add_special_tokens=False)["input_ids"]
    adds = bool(with_special) and with_special[0] == bos and without[:1] != [bos]
    return [bos] if adds else []


def _eos(tokenizer: Any) -> list[int]:
    eos = getattr(tokenizer, "eos_token_id", None)
    return [] if eos is None else [eos]


def _qa_ids(tokenizer: Any, example: Example, bos: list[int],
            style: PromptFormat) -> tuple[list[int], list[int]]:
    prompt_text = style.render(tokenizer, example.prompt)
    if not style.uses_template(tokenizer):
        prompt = bos + _encode(tokenizer, prompt_text)
        return prompt, _encode(tokenizer, example.target) + _eos(tokenizer)
    target_text = _chat_target(tokenizer, example, prompt_text, style)
    if target_text is None:
        return _encode(tokenizer, prompt_text), _encode(tokenizer, example.target) + _eos(tokenizer)
    target = _encode(tokenizer, target_text)
    if target[-1:] != _eos(tokenizer):
        target += _eos(tokenizer)
    return _encode(tokenizer, prompt_text), target


def _chat_target(tokenizer: Any, example: Example, prompt_text: str,
                 style: PromptFormat) -> str | None:
    """The assistant turn as the template renders it after ``prompt_text`` (end-of-turn marker
    and what follows it included), or None when the rendering does not extend the prompt (some
    templates rewrite earlier turns) or the template has no end-of-turn marker."""
    full = tokenizer.apply_chat_template(style.messages(example.prompt, example.target),
                                         tokenize=False)
    if not full.startswith(prompt_text):
        return None
    target = full[len(prompt_text):]
    if target.rstrip().endswith(example.target.rstrip()):
        return None  # nothing after the answer: fall back to answer + EOS
    return target


def _text_ids(tokenizer: Any, example: Example, bos: list[int]) -> tuple[list[int], list[int]]:
    return list(bos), _encode(tokenizer, example.target)
