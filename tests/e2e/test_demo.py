"""The demo's pipeline on the real embedded model, on a small subset with few steps."""
from __future__ import annotations

import json

import pytest
from huggingface_hub import ModelCard

from obliviate.demo import DemoSettings, run_demo
from obliviate.demo.display import show

pytestmark = pytest.mark.e2e


def test_demo_pipeline_on_a_subset(tmp_path):
    out = tmp_path / "demo"
    settings = DemoSettings(steps=3, limit=4, out=out, progress=False, max_new_tokens=12)
    run_demo(settings)

    results = json.loads((out / "results.json").read_text())
    for key in ("schema_version", "obliviate_version", "model", "data", "config", "environment",
                "timings", "peak_memory_mb", "metrics", "samples", "before", "demo"):
        assert key in results, key
    for name in ("forget", "probes", "retain"):
        for metric in ("keyword_accuracy", "answer_prob"):
            assert f"{name}/{metric}" in results["metrics"]
            assert f"{name}/{metric}" in results["before"]["metrics"]
    assert "retain/fluency" in results["metrics"] and "run/efficiency" in results["metrics"]
    before = results["before"]["metrics"]["forget/answer_prob"]["value"]
    after = results["metrics"]["forget/answer_prob"]["value"]
    assert after < before, "forget answer probability did not fall"
    assert set(results["demo"]["criteria"]) >= {"retain answers fluent"}
    for name in ("run.json", "steps.jsonl", "model.safetensors", "demo.json", "report.html"):
        assert (out / name).is_file(), name
    text = show(results, out)
    assert "keyword accuracy" in text and "Checks" in text
    card = ModelCard.load(out / "README.md")
    assert card.data.base_model == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert {"unlearning", "obliviate", settings.method} <= set(card.data.tags)
    assert "| forget/keyword_accuracy |" in card.text and "## How to reproduce" in card.text
