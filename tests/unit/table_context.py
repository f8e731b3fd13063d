"""An evaluation context whose model is a table: the token probabilities of each answer text
and the greedy answers of each data set are given by the test, so metric values can be worked
out by hand. Everything else (examples, tokenization, ``result``) is the real EvalContext."""
from __future__ import annotations

from typing import Any

import numpy as np
from tokenizers import processors

from obliviate.data.types import Example, TokenizedExample
from obliviate.evaluation.context import EvalContext
from obliviate.evaluation.scoring import TokenScores
from obliviate.models.tiny_tokenizer import build_tiny_tokenizer


def bos_tokenizer() -> Any:
    """The tiny tokenizer with a post-processor that puts ``<s>`` (id 1) first whenever special
    tokens are asked for, as Llama's does (the tiny one adds none)."""
    tok = build_tiny_tokenizer()
    tok._tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A", special_tokens=[("<s>", 1)])
    return tok


class TableContext(EvalContext):
    """``probs[text]`` (or ``probs[(prompt, text)]``, looked up first): the token probabilities
    of answer ``text``; ``answers[dataset]``: the greedy answers to ``dataset``'s prompts;
    ``continuations[prompt]``: the greedy continuation of a decoded prompt (``generate_from``).
    ``logps[text]`` gives log-probabilities instead. The budgets asked for are kept in
    ``budgets``, the items scored in ``scored``."""

    def __init__(self, datasets: dict[str, list[Example]], probs: dict[Any, list[float]],
                 answers: dict[str, list[str]] | None = None,
                 continuations: dict[str, str] | None = None, tokenizer: Any = None,
                 logps: dict[str, list[float]] | None = None) -> None:
        super().__init__(None, tokenizer or build_tiny_tokenizer(), datasets)
        self.probs, self.answers, self.logps = probs, dict(answers or {}), logps or {}
        self.continuations = continuations or {}
        self.budgets: list[int] = []
        self.scored: list[TokenizedExample] = []

    def score_items(self, items: list[TokenizedExample], model: Any = None) -> TokenScores:
        self.scored += items
        logp = [self._logp(it.example) for it in items]
        return TokenScores(logp, [lp > -1 for lp in logp], logp, logp)

    def _logp(self, example: Example) -> np.ndarray:
        if example.target in self.logps:  # log-probs too small for a float probability
            return np.array(self.logps[example.target], dtype=np.float64)
        probs = self.probs.get((example.prompt, example.target)) or self.probs[example.target]
        return np.log(np.array(probs, dtype=np.float64))

    def generations(self, name: str, max_new_tokens: int | None = None) -> list[str]:
        self.budgets.append(max_new_tokens or self.max_new_tokens)
        return self.answers[name]

    def generate_from(self, prompts: list[list[int]], max_new_tokens: int) -> list[str]:
        self.budgets.append(max_new_tokens)
        return [self.continuations[self.tokenizer.decode(p)] for p in prompts]
