"""How much the log-prob metrics of the default suite cost over one bare forward pass.

Builds a model (a small random Llama with the in-memory byte tokenizer by default, or
``--model NAME`` for anything ``obliviate.models.load_model`` accepts, e.g. the embedded
``smollm2-135m-instruct``), makes forget / retain / holdout QA sets, and times

  1. one bare batched forward pass (no grad) over every token of the three sets, and
  2. ``evaluate`` with every log-prob metric of the default suite (answer probability, exact
     memorisation, extraction strength, Min-K% on forget; answer probability on retain; LOSS,
     zlib, Min-K%, Min-K%++ membership inference forget vs holdout), tokenisation, metric
     arithmetic and bootstrap intervals included; the scores are cached, so this is about one
     pass plus arithmetic.

It prints tokens/s of each and the ratio (target: <= 1.25x).

    python benchmarks/eval_speed.py [--model NAME] [--n 64] [--batch-size 8] [--repeats 3]
                                    [--threads 1]
"""
from __future__ import annotations

import argparse
import random
import time
from typing import Any

import torch

from obliviate.data.tokenize import tokenize_examples
from obliviate.data.types import Example
from obliviate.evaluation import evaluate
from obliviate.evaluation.generation import pad_id
from obliviate.evaluation.scoring import pad_items

LOGPROB_SUITE = [(m, "forget") for m in ("answer_prob", "exact_memorization",
                                         "extraction_strength", "min_k", "mia_loss", "mia_zlib",
                                         "mia_min_k", "mia_min_k_plus_plus")]
LOGPROB_SUITE += [("answer_prob", "retain")]
WORDS = ("alice bob carol wrote painted built the a an old new red blue green house bridge "
         "song book poem city river in on near during winter summer famous quiet").split()


def make_model(name: str | None) -> tuple[Any, Any]:
    if name:
        from obliviate.models.loading import load_model
        loaded = load_model(name)
        return loaded.model, loaded.tokenizer
    from obliviate.models.tiny import build_tiny_model
    from obliviate.models.tiny_tokenizer import build_tiny_tokenizer
    tok = build_tiny_tokenizer()
    model = build_tiny_model(len(tok), seed=0, hidden_size=256, num_hidden_layers=4,
                             num_attention_heads=8, num_key_value_heads=4,
                             intermediate_size=688, max_position_embeddings=1024)
    return model, tok


def make_sets(n: int, seed: int = 0) -> dict[str, list[Example]]:
    rng = random.Random(seed)
    sentence = lambda k: " ".join(rng.choice(WORDS) for _ in range(k))  # noqa: E731
    return {name: [Example(f"What did {sentence(4)} do?", sentence(rng.randint(12, 40)))
                   for _ in range(n)] for name in ("forget", "retain", "holdout")}


@torch.no_grad()
def bare_pass(model: Any, items: list, pad: int, batch_size: int) -> None:
    """One forward pass over every item, batched by length exactly like the scoring engine."""
    items = sorted(items, key=lambda it: len(it.input_ids), reverse=True)
    device = next(model.parameters()).device
    for start in range(0, len(items), batch_size):
        batch = pad_items(items[start:start + batch_size], pad)
        model(input_ids=batch["input_ids"].to(device),
              attention_mask=batch["attention_mask"].to(device))


def timed(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def best_of_interleaved(repeats: int, first: Any, second: Any) -> tuple[float, float]:
    """Best time of each, runs alternating so that a busy machine slows both alike."""
    a, b = [], []
    for _ in range(repeats):
        a.append(timed(first))
        b.append(timed(second))
    return min(a), min(b)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model spec for load_model (default: a small random Llama)")
    parser.add_argument("--n", type=int, default=64, help="examples per set")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (1 gives stable timings on a shared machine)")
    args = parser.parse_args()
    torch.set_num_threads(max(1, args.threads))
    model, tok = make_model(args.model)
    sets = make_sets(args.n)
    items = [it for ex in sets.values() for it in tokenize_examples(ex, tok, 512, "qa")]
    n_tokens = sum(len(it.input_ids) for it in items)
    run_eval = lambda: evaluate(model, tok, sets, LOGPROB_SUITE, batch_size=args.batch_size)  # noqa: E731
    run_eval()  # warm-up (also the first bootstrap / allocator costs)
    t_bare, t_eval = best_of_interleaved(
        args.repeats, lambda: bare_pass(model, items, pad_id(tok), args.batch_size), run_eval)
    print(f"model: {args.model or 'random llama (hidden 256, 4 layers)'}; "
          f"{len(items)} sequences, {n_tokens} tokens, batch size {args.batch_size}")
    print(f"bare forward pass : {t_bare:8.3f} s  {n_tokens / t_bare:10.0f} tokens/s")
    print(f"log-prob metrics  : {t_eval:8.3f} s  {n_tokens / t_eval:10.0f} tokens/s "
          f"({len(LOGPROB_SUITE)} metrics)")
    print(f"ratio             : {t_eval / t_bare:.3f}x (target <= 1.25x)")


if __name__ == "__main__":
    main()
