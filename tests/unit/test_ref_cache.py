"""ReferenceCache: reference log-probs computed once per (items, batch size), then reused."""
from __future__ import annotations

from obliviate.data.types import Example
from obliviate.data.tokenize import tokenize_examples
from obliviate.training import batches
from obliviate.training.ref_cache import ReferenceCache
from obliviate.training.references import attach_reference_logprobs


def test_second_attach_reuses_the_first_values(tiny_model, tiny_tokenizer):
    examples = [Example(prompt="Who is Ilsa?", target="The warden."),
                Example(prompt="Where is Calder Vale?", target="In the north.")]
    tokenized = tokenize_examples(examples, tiny_tokenizer, 64, "qa")
    pad = tiny_tokenizer.pad_token_id
    fresh = batches.as_items(tokenized)
    attach_reference_logprobs(tiny_model, fresh, pad, 2)
    cache = ReferenceCache()
    first, second = batches.as_items(tokenized), batches.as_items(tokenized)
    cache.attach(tiny_model, first, pad, 2)
    for p in tiny_model.parameters():  # served from the cache: the start model's values
        p.data.add_(0.5)
    cache.attach(tiny_model, second, pad, 2)
    assert (cache.misses, cache.hits) == (1, 1)
    assert [i["ref_logp"] for i in second] == [i["ref_logp"] for i in first] \
        == [i["ref_logp"] for i in fresh]
    cache.attach(tiny_model, batches.as_items(tokenized[:1]), pad, 2)  # other items: computed
    assert cache.misses == 2
