"""Anchored terms for Who's Harry Potter: load a term dictionary, translate text, align tokens.

Eldan and Russinovich 2023 (arXiv:2310.02238), section 3: idiosyncratic terms of the forget
data ("anchored terms") are replaced by generic ones, the baseline model predicts the next token
on the translated text, and those predictions are mapped back onto the original text's tokens.
The mapping is computed on token ids (:func:`generic_sources`), so it is exact whatever the
tokenizer does at the edges of a replaced term.
"""
from __future__ import annotations

import difflib
import json
import re
from importlib import resources
from pathlib import Path

import torch
import yaml

from obliviate.data.types import Batch, Example
from obliviate.errors import ConfigError, DataError

BUILTIN_PREFIX = "builtin:"


def load_anchor_terms(path: str) -> dict[str, str]:
    """A ``{"specific term": "generic term"}`` dictionary from a JSON or YAML file, or a shipped
    one named ``builtin:<name>`` (``builtin:hp_anchors``, about 40 Harry Potter terms)."""
    if path.startswith(BUILTIN_PREFIX):
        name = path[len(BUILTIN_PREFIX):]
        source = resources.files("obliviate.data").joinpath(f"resources/{name}.json")
        if not source.is_file():
            raise ConfigError(f"whp: no shipped anchor dictionary {name!r}; the shipped one is "
                              "'builtin:hp_anchors'.")
        text, suffix = source.read_text(encoding="utf-8"), ".json"
    else:
        file = Path(path)
        if not file.is_file():
            raise ConfigError(f"whp: anchor_terms_path {path!r} is not a file; give a JSON or "
                              "YAML mapping of specific terms to generic ones.")
        text, suffix = file.read_text(encoding="utf-8"), file.suffix.lower()
    try:
        data = json.loads(text) if suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise DataError(f"whp: cannot parse the anchor dictionary {path!r}: {exc}") from exc
    return _checked(data, path)


def _checked(data: object, path: str) -> dict[str, str]:
    if not isinstance(data, dict) or not data:
        raise DataError(f"whp: the anchor dictionary {path!r} must be a non-empty mapping "
                        '{"specific term": "generic term", ...}.')
    bad = [k for k, v in data.items() if not isinstance(k, str) or not k.strip()
           or not isinstance(v, str)]
    if bad:
        raise DataError(f"whp: anchor dictionary {path!r} has entries that are not "
                        f"non-empty string -> string: {bad[:3]!r}.")
    return {k: v for k, v in data.items()}


def translate(text: str, anchors: dict[str, str]) -> str:
    """Replace every whole-word occurrence of an anchored term (case-sensitive, longest term
    first, in one pass so replacements are never translated again)."""
    if not text or not anchors:
        return text
    terms = sorted(anchors, key=len, reverse=True)
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(t) for t in terms) + r")(?!\w)")
    return pattern.sub(lambda m: anchors[m.group(0)], text)


def translate_examples(examples: list[Example], anchors: dict[str, str]) -> list[Example]:
    """The examples with prompt and target translated, row for row."""
    return [Example(prompt=translate(e.prompt, anchors), target=translate(e.target, anchors),
                    meta={**e.meta, "anchored": True}) for e in examples]


def generic_sources(original: list[int], translated: list[int]) -> list[int]:
    """For each original token ``i``, the position in ``translated`` whose next-token logits
    stand in for the original's prediction of token ``i``; -1 where there is none.

    Tokens in blocks the two sequences share map to their counterpart ``j`` (source ``j - 1``).
    The first token of a replaced term maps to the position just before its generic replacement,
    so the model learns to predict the generic term there; the term's later tokens get -1 (the
    paper does not train on the inside of an anchored term).
    """
    sources = [-1] * len(original)
    matcher = difflib.SequenceMatcher(a=original, b=translated, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for k in range(i2 - i1):
                sources[i1 + k] = j1 + k - 1
        elif tag in ("replace", "delete") and j1 < len(translated):
            sources[i1] = j1 - 1  # replace and delete blocks are never empty (i1 < i2)
    return sources


def source_index(forget: Batch, generic: Batch) -> torch.Tensor:
    """``[B, T-1]`` long: for each logits position ``t`` of the forget batch (predicting token
    ``t + 1``), the position in the generic batch whose logits stand in for it, or -1."""
    ids, mask = forget["input_ids"], forget["attention_mask"].bool()
    g_ids, g_mask = generic["input_ids"], generic["attention_mask"].bool()
    index = torch.full((ids.shape[0], ids.shape[1] - 1), -1, dtype=torch.long)
    for b in range(ids.shape[0]):
        pos = mask[b].nonzero().flatten().tolist()
        g_pos = g_mask[b].nonzero().flatten().tolist()
        sources = generic_sources(ids[b, pos].tolist(), g_ids[b, g_pos].tolist())
        for k, src in enumerate(sources):
            if src >= 0 and pos[k] >= 1:
                index[b, pos[k] - 1] = g_pos[src]
    return index.to(ids.device)
