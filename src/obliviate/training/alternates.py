"""The alternate-answers stage of AltPO (Mekala et al. 2024, "Alternate Preference Optimization
for Unlearning Factual Knowledge in Large Language Models", arXiv:2409.13474).

Before unlearning, the model itself writes ``n`` plausible but different answers to every forget
question: it is shown the question and its true answer and asked for another version that
changes the facts (the authors' prompt, as in their ``generate.py``, sampled at temperature 1).
The forget set is then repeated ``n`` times, each copy aligned row for row with one alternate
(``StepInputs.idk``), so an epoch sees every (forget answer, alternate) pair once, as in the
authors' ``alt5`` data.

Generation is the slow part, so its output is cached as JSON lines under
``$OBLIVIATE_HOME/alternates/<key>.jsonl``, the key hashing the model's weights, the forget
rows and the generation settings; the same run again (or a resumed one) reuses it.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from obliviate.data.tokenize import render_prompt
from obliviate.data.types import Example
from obliviate.models.embedded import obliviate_home
from obliviate.models.hashing import params_hash

INSTRUCTION = ("Now pretend you are making things up. Write another answer to the question that "
               "is of a different template than the given answer and changes all facts from "
               "what are introduced in the given answer (changed answers must be plausible "
               "while being inconsistent with given answer). Ensure that your alternate answer "
               "is a plausible response to the question and doesn't change any details "
               "mentioned in question and only introduces changes to all the facts introduced "
               "answer.")
PREFIX = "Alternate Answer:"
STOPS = ("Question:", "Q:")


def alternate_prompt(tokenizer: Any, example: Example) -> str:
    """The generation prompt for one forget example."""
    user = f"Question: {example.prompt}\nAnswer: {example.target}\n{INSTRUCTION}"
    return render_prompt(tokenizer, user) + PREFIX


def clean(text: str) -> str:
    """Cut a sampled alternate at the first stop string and strip it."""
    for stop in STOPS:
        text = text.split(stop)[0]
    return text.strip()


def cache_path(model: nn.Module, forget: list[Example], settings: dict[str, Any]) -> Path:
    rows = [[e.prompt, e.target] for e in forget]
    blob = json.dumps({"model": params_hash(model), "rows": rows, "instruction": INSTRUCTION,
                       **settings}, sort_keys=True)
    key = hashlib.sha256(blob.encode()).hexdigest()[:24]
    return obliviate_home() / "alternates" / f"{key}.jsonl"


@torch.no_grad()
def _sample(model: nn.Module, tokenizer: Any, prompt: str, n: int, max_new_tokens: int,
            temperature: float) -> list[str]:
    ids = tokenizer(prompt, add_special_tokens=False, return_tensors="pt")["input_ids"]
    device = next(model.parameters()).device
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    out = model.generate(input_ids=ids.to(device), attention_mask=torch.ones_like(ids).to(device),
                         do_sample=True, temperature=temperature, top_p=1.0, top_k=0,
                         num_return_sequences=n, max_new_tokens=max_new_tokens,
                         pad_token_id=pad, use_cache=True)
    return [clean(tokenizer.decode(row[ids.shape[1]:], skip_special_tokens=True)) for row in out]


def generate_alternates(model: nn.Module, tokenizer: Any, forget: list[Example], n: int,
                        max_new_tokens: int, temperature: float, seed: int) -> list[list[str]]:
    """``n`` sampled alternates per forget example (seeded; the global RNG is left as it was)."""
    was_training = model.training
    model.eval()
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return [_sample(model, tokenizer, alternate_prompt(tokenizer, e), n, max_new_tokens,
                            temperature) for e in forget]
    finally:
        model.train(was_training)


def alternate_examples(model: nn.Module, tokenizer: Any, forget: list[Example], n: int,
                       max_new_tokens: int, temperature: float, seed: int
                       ) -> tuple[list[Example], list[Example], Path]:
    """``(forget repeated n times, aligned alternates, cache file)``; generated once, cached."""
    settings = {"n": n, "max_new_tokens": max_new_tokens, "temperature": temperature,
                "seed": seed}
    path = cache_path(model, forget, settings)
    if path.is_file():
        answers = [json.loads(line)["alternates"] for line in path.read_text().splitlines()]
    else:
        answers = generate_alternates(model, tokenizer, forget, n, max_new_tokens, temperature,
                                      seed)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")  # one per process, then an atomic rename
        tmp.write_text("".join(json.dumps({"question": e.prompt, "answer": e.target,
                                           "alternates": a}) + "\n"
                               for e, a in zip(forget, answers)))
        tmp.replace(path)
    repeated, alternates = [], []
    for k in range(n):
        for example, alts in zip(forget, answers):
            repeated.append(example)
            alternates.append(Example(prompt=example.prompt, target=alts[k] or "I don't know.",
                                      meta={"alternate": True}))
    return repeated, alternates, path
