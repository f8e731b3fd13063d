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

With ``--tofu SOURCE`` (a folder of TOFU jsonl files) it instead compares, on the first
``--limit`` questions of forget01 and of retain99, obliviate's evaluation passes with the plain
way of computing the same numbers, alternating the two on the same inputs:

  * greedy generation (``--max-new-tokens``, 200 as TOFU's ROUGE protocol asks): Hugging Face
    ``generate`` on length-sorted, left-padded batches (obliviate's engine before, and the
    reference framework's) against ``obliviate.evaluation.generation.generate`` (finished rows
    leave the batch, the prompt pass computes its last position's logits only); it also counts
    the answers that came out identical;
  * teacher-forced scoring of the answers: full ``[B, T, V]`` logits and a log-softmax at every
    position against ``obliviate.evaluation.scoring.score`` (output layer only at the labelled
    positions), and the largest difference of the per-token log-probs.

    python benchmarks/eval_speed.py [--model NAME] [--n 64] [--batch-size 8] [--repeats 3]
                                    [--threads 1]
    python benchmarks/eval_speed.py --model smollm2-135m-instruct --tofu ../shared/data/tofu \
        --limit 16 --max-new-tokens 200 --batch-size 32 --repeats 1
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


def _tofu_items(source: str, name: str, limit: int, tok: Any) -> list:
    import json
    from pathlib import Path
    rows = [json.loads(line) for line in (Path(source) / f"{name}.jsonl").open()][:limit]
    return tokenize_examples([Example(r["question"], r["answer"]) for r in rows], tok, 512, "qa")


@torch.no_grad()
def hf_generate(model: Any, tok: Any, prompts: list[list[int]], max_new: int, batch_size: int
                ) -> list[str]:
    """Plain batched greedy generation with ``model.generate`` (length-sorted, left-padded)."""
    from obliviate.evaluation.generation import stop_ids
    pad, stops = pad_id(tok), stop_ids(model, tok)
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]), reverse=True)
    out = [""] * len(prompts)
    for start in range(0, len(order), batch_size):
        chunk = order[start:start + batch_size]
        batch = [prompts[i] for i in chunk]
        width = max(len(p) for p in batch)
        ids = torch.tensor([[pad] * (width - len(p)) + p for p in batch])
        mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in batch])
        gen = model.generate(input_ids=ids, attention_mask=mask, do_sample=False,
                             max_new_tokens=max_new, pad_token_id=pad,
                             eos_token_id=sorted(stops), top_p=None, top_k=None, temperature=None)
        for i, row in zip(chunk, gen[:, width:].tolist()):
            cut = next((k for k, t in enumerate(row) if t in stops), len(row))
            out[i] = tok.decode(row[:cut], skip_special_tokens=True)
    return out


@torch.no_grad()
def full_logit_scores(model: Any, items: list, pad: int, batch_size: int) -> list:
    """Per-token target log-probs from full logits and a log-softmax at every position."""
    out = []
    for start in range(0, len(items), batch_size):
        batch = pad_items(items[start:start + batch_size], pad)
        logp = model(input_ids=batch["input_ids"],
                     attention_mask=batch["attention_mask"]).logits.float().log_softmax(-1)
        targets = batch["labels"][:, 1:]
        keep = targets != -100
        picked = logp[:, :-1].gather(-1, targets.clamp(min=0)[..., None])[..., 0]
        out += [row[k].numpy() for row, k in zip(picked, keep)]
    return out


def tofu_main(args: argparse.Namespace, model: Any, tok: Any) -> None:
    from obliviate.evaluation.generation import generate, prompt_ids
    from obliviate.evaluation.scoring import score
    sets = {n: _tofu_items(args.tofu, n, args.limit, tok) for n in ("forget01", "retain99")}
    prompts = [prompt_ids(it) for items in sets.values() for it in items]
    items = [it for items in sets.values() for it in items]
    answers: dict[str, list[str]] = {}
    gen = {"plain": lambda: answers.__setitem__("plain", hf_generate(
               model, tok, prompts, args.max_new_tokens, args.batch_size)),
           "obliviate": lambda: answers.__setitem__("obliviate", generate(
               model, tok, prompts, args.max_new_tokens, args.batch_size))}
    t_plain, t_ours = best_of_interleaved(args.repeats, gen["plain"], gen["obliviate"])
    same = sum(a == b for a, b in zip(answers["plain"], answers["obliviate"]))
    lengths = sorted(len(tok(a, add_special_tokens=False)["input_ids"]) for a in answers["obliviate"])
    print(f"answer lengths (tokens): min {lengths[0]}, median {lengths[len(lengths) // 2]}, "
          f"max {lengths[-1]}; {sum(n >= args.max_new_tokens for n in lengths)} hit the budget")
    print(f"model: {args.model}; TOFU forget01 + retain99, first {args.limit} of each "
          f"({len(prompts)} questions), batch size {args.batch_size}")
    print(f"generation ({args.max_new_tokens} new tokens max): plain {t_plain:.1f} s, obliviate "
          f"{t_ours:.1f} s, speed-up {t_plain / t_ours:.2f}x; identical answers {same}/{len(prompts)}")
    scores: dict[str, Any] = {}
    t_full, t_score = best_of_interleaved(
        args.repeats,
        lambda: scores.__setitem__("plain", full_logit_scores(model, items, pad_id(tok),
                                                              args.batch_size)),
        lambda: scores.__setitem__("obliviate", score(model, items, pad_id(tok),
                                                      args.batch_size).logp))
    diff = max(float(abs(a - b).max()) for a, b in zip(scores["plain"], scores["obliviate"]))
    print(f"teacher-forced scoring: plain {t_full:.2f} s, obliviate {t_score:.2f} s, speed-up "
          f"{t_full / t_score:.2f}x; largest per-token log-prob difference {diff:.2e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model spec for load_model (default: a small random Llama)")
    parser.add_argument("--n", type=int, default=64, help="examples per set")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (1 gives stable timings on a shared machine)")
    parser.add_argument("--tofu", default=None, help="folder of TOFU jsonl files: compare "
                        "generation and scoring with the plain way on forget01 / retain99")
    parser.add_argument("--limit", type=int, default=16, help="questions per TOFU set (--tofu)")
    parser.add_argument("--max-new-tokens", type=int, default=200, help="generation budget (--tofu)")
    args = parser.parse_args()
    torch.set_num_threads(max(1, args.threads))
    model, tok = make_model(args.model)
    if args.tofu:
        return tofu_main(args, model, tok)
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
