"""The evaluation store: the same evaluation is read back, any change evaluates again."""
from __future__ import annotations

import json

import pytest

import obliviate.assessment as assessment
from obliviate.data.types import Example
from obliviate.evaluation import stored
from obliviate.models import load_model

SUITE = [("answer_prob", "forget"), ("keyword_accuracy", "forget")]


@pytest.fixture
def counted(monkeypatch, tmp_path):
    """Store under tmp_path; count the real evaluations."""
    monkeypatch.setenv("OBLIVIATE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("OBLIVIATE_EVAL_CACHE", raising=False)
    calls = []
    real = assessment.assess

    def assess(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(assessment, "assess", assess)
    return calls


def _data(answer: str = "Paris") -> dict[str, list[Example]]:
    return {"forget": [Example("What is the capital of France?", answer, {"keywords": [answer]}),
                       Example("Who wrote it?", "Ann", {"keywords": ["Ann"]})]}


def test_second_evaluation_is_read_back(counted, model_dir, tmp_path) -> None:
    loaded = load_model(str(model_dir))
    first = stored.assess_stored(loaded, _data(), SUITE, max_new_tokens=4)
    second = stored.assess_stored(loaded, _data(), SUITE, max_new_tokens=4)
    assert len(counted) == 1
    assert "from_cache" in second["timings"] and "from_cache" not in first["timings"]
    assert second["metrics"] == json.loads(json.dumps(first["metrics"]))
    assert len(list((tmp_path / "cache" / "evaluations").glob("*.json"))) == 1


def test_any_change_evaluates_again(counted, model_dir) -> None:
    loaded = load_model(str(model_dir))
    stored.assess_stored(loaded, _data(), SUITE, max_new_tokens=4)
    stored.assess_stored(loaded, _data("Lyon"), SUITE, max_new_tokens=4)  # data
    stored.assess_stored(loaded, _data(), SUITE, max_new_tokens=5)  # generation budget
    stored.assess_stored(loaded, _data(), SUITE[:1], max_new_tokens=4)  # suite
    loaded.weights_hash = "files:other"
    stored.assess_stored(loaded, _data(), SUITE, max_new_tokens=4)  # weights
    assert len(counted) == 5


def test_prompt_format_is_part_of_the_key(counted, model_dir) -> None:
    loaded = load_model(str(model_dir))
    stored.assess_stored(loaded, _data(), SUITE, max_new_tokens=4)
    loaded.tokenizer.chat_template = "{% for m in messages %}<<{{ m['content'] }}>>{% endfor %}"
    stored.assess_stored(loaded, _data(), SUITE, max_new_tokens=4)
    assert len(counted) == 2


def test_store_can_be_turned_off(counted, model_dir, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("OBLIVIATE_EVAL_CACHE", "0")
    loaded = load_model(str(model_dir))
    for _ in range(2):
        stored.assess_stored(loaded, _data(), SUITE, max_new_tokens=4)
    assert len(counted) == 2 and not (tmp_path / "cache").exists()
