"""The real embedded model: converted once into $OBLIVIATE_HOME (default ~/.cache/obliviate), reused after.

Uses the normal cache on purpose so CI pays the ~25 s conversion only once per machine/cache.
"""
import re
import time

import pytest
import torch

from obliviate.models import embedded_model_dir, load_model

NAME = "smollm2-135m-instruct"
pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def loaded():
    pytest.importorskip("gguf")
    start = time.perf_counter()
    model = load_model(NAME, device="cpu", dtype="fp32")
    print(f"\nfirst load_model({NAME!r}): {time.perf_counter() - start:.1f}s")
    return model


def test_cache_is_a_plain_safetensors_model(loaded):
    directory = embedded_model_dir(NAME)
    assert (directory / "model.safetensors").is_file() and (directory / "config.json").is_file()
    assert not any(p.name.startswith(f".{NAME}.tmp-") for p in directory.parent.iterdir())
    assert loaded.source == "embedded" and loaded.weights_hash.startswith("files:")
    assert loaded.model.config.tie_word_embeddings
    assert loaded.tokenizer.chat_template and loaded.tokenizer.pad_token is not None


def test_greedy_chat_answer_is_english(loaded):
    tokenizer, model = loaded.tokenizer, loaded.model
    messages = [{"role": "user", "content": "What is the capital of France?"}]
    prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    batch = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
    with torch.no_grad():
        out = model.generate(**batch, max_new_tokens=12, do_sample=False, pad_token_id=tokenizer.pad_token_id)
    answer = tokenizer.decode(out[0, batch["input_ids"].shape[1]:], skip_special_tokens=True).strip()
    print(f"answer: {answer!r}")
    words = re.findall(r"[A-Za-z]+", answer)
    assert len(words) >= 2, answer
    assert "paris" in answer.lower()


def test_second_load_is_fast(loaded):
    start = time.perf_counter()
    again = load_model(NAME, device="cpu", dtype="fp32")
    elapsed = time.perf_counter() - start
    print(f"cached load_model({NAME!r}): {elapsed:.1f}s")
    assert again.weights_hash == loaded.weights_hash
    assert elapsed < 20
