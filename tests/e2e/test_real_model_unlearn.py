"""The real embedded model (SmolLM2-135M-Instruct from its GGUF) through `unlearn()`."""
from __future__ import annotations

import json

import pytest
import torch

from obliviate.config import load_config
from obliviate.data import collate, load_examples, tokenize_examples
from obliviate.methods.losses import masked_nll
from obliviate.models import load_model
from obliviate.pipeline import unlearn
from tests.conftest import FORGET_QA, RETAIN_QA, write_jsonl

pytestmark = pytest.mark.e2e


@torch.no_grad()
def _nll(model, tokenizer, path) -> float:
    items = tokenize_examples(load_examples(str(path)), tokenizer, 128, "qa")
    batch = collate(items, tokenizer.pad_token_id)
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    return masked_nll(logits, batch["labels"]).item()


def test_graddiff_on_the_embedded_model(tmp_path):
    forget = write_jsonl(tmp_path / "forget.jsonl", FORGET_QA[:4])
    retain = write_jsonl(tmp_path / "retain.jsonl", RETAIN_QA)
    out = tmp_path / "run"
    config = load_config(None, ["model=smollm2-135m-instruct", f"data.forget={forget}",
                                f"data.retain={retain}", "method=graddiff", "train.lr=5e-5",
                                "train.max_steps=3", "train.batch_size=2", f"output_dir={out}"])
    loaded = load_model(config.model)
    before = _nll(loaded.model, loaded.tokenizer, forget)
    unlearn(config, loaded=loaded, progress=False)

    run = json.loads((out / "run.json").read_text())
    assert run["steps"] == 3 and run["model"]["id"] == "smollm2-135m-instruct"
    unlearned = load_model(str(out))
    assert _nll(unlearned.model, unlearned.tokenizer, forget) > before
    assert unlearned.tokenizer.chat_template == loaded.tokenizer.chat_template
