"""Accelerator throughput: tokens/s and MFU of a training step and an eval pass, plain Hugging
Face against obliviate's paths, at two model sizes.

Random-init Llama-shaped models (no download): ``135m`` has SmolLM2-135M's shape, ``1.5b`` a
~1.5B-parameter shape (hidden 1536, 28 layers, GQA 12/2, vocabulary 151,936 as Qwen2.5-1.5B).
Batches are random tokens, ``--batch`` x ``--seq``, every position a target (so the gain here is
not from skipping prompt positions). Modes:

- ``plain``: ``model(input_ids, labels=...)`` (full logits, Hugging Face's loss), AdamW step;
- ``obliviate``: the NLL through ``obliviate.methods._common.target_logprobs`` (logits only at
  labelled positions), fused AdamW where the device has it, and ``torch.compile`` of the model
  unless ``--no-compile``.

MFU = achieved FLOP/s / ``--peak-tflops`` (default 989, the H100/H200 dense bf16 figure; pass the
peak of your device, or 0 to skip MFU), with 6 N FLOPs per trained token and 2 N per evaluated
token plus attention (12 L d T per token for training, 4 L d T for evaluation).

    python benchmarks/gpu_speed.py                        # GPU: 135m and 1.5b, bf16, 8 x 512
    python benchmarks/gpu_speed.py --sizes tiny --batch 2 --seq 64 --steps 2 --peak-tflops 0
"""
from __future__ import annotations

import argparse
import time
from typing import Any, Callable

import torch
from transformers import LlamaConfig, LlamaForCausalLM

from obliviate.methods._common import target_logprobs

SHAPES = {
    "tiny": dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                 num_key_value_heads=2, intermediate_size=128, vocab_size=1024),
    "135m": dict(hidden_size=576, num_hidden_layers=30, num_attention_heads=9,
                 num_key_value_heads=3, intermediate_size=1536, vocab_size=49152,
                 tie_word_embeddings=True),
    "1.5b": dict(hidden_size=1536, num_hidden_layers=28, num_attention_heads=12,
                 num_key_value_heads=2, intermediate_size=8960, vocab_size=151936,
                 tie_word_embeddings=True),
}


def build(size: str, dtype: torch.dtype, device: torch.device, seq: int) -> LlamaForCausalLM:
    config = LlamaConfig(max_position_embeddings=max(seq, 2048), **SHAPES[size])
    torch.manual_seed(0)
    return LlamaForCausalLM(config).to(device=device, dtype=dtype)


def flops_per_token(model: LlamaForCausalLM, seq: int, train: bool) -> float:
    n = sum(p.numel() for p in model.parameters())  # tied head counted once: lookup is free
    c = model.config
    attention = (12 if train else 4) * c.num_hidden_layers * c.hidden_size * seq
    return (6 if train else 2) * n + attention


def train_step(model: Any, opt: Any, batch: dict, mode: str) -> None:
    if mode == "plain":
        loss = model(**batch).loss
    else:
        logp, mask = target_logprobs(model, batch)
        loss = -logp.sum() / mask.sum()
    loss.backward()
    opt.step()
    opt.zero_grad(set_to_none=True)


@torch.no_grad()
def eval_pass(model: Any, batch: dict, mode: str) -> None:
    if mode == "plain":
        model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits.float(
        ).log_softmax(-1)
    else:
        target_logprobs(model, batch)


def timed(fn: Callable[[], None], steps: int, device: torch.device) -> float:
    fn()  # warm-up (and compilation)
    fn()
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    sync()
    start = time.perf_counter()
    for _ in range(steps):
        fn()
    sync()
    return (time.perf_counter() - start) / steps


def run(size: str, mode: str, args: argparse.Namespace, device: torch.device) -> dict:
    dtype = getattr(torch, args.dtype)
    model = build(size, dtype, device, args.seq).train()
    fused = {"fused": True} if device.type == "cuda" and mode == "obliviate" else {}
    opt = torch.optim.AdamW(model.parameters(), lr=1e-5, **fused)
    forward = model
    if mode == "obliviate" and args.compile:
        forward = torch.compile(model)
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, model.config.vocab_size, (args.batch, args.seq), generator=g)
    batch = {"input_ids": ids.to(device), "attention_mask": torch.ones_like(ids).to(device),
             "labels": ids.to(device)}
    tokens = args.batch * args.seq
    t_train = timed(lambda: train_step(forward, opt, batch, mode), args.steps, device)
    model.eval()
    t_eval = timed(lambda: eval_pass(forward, batch, mode), args.steps, device)
    out = {"size": size, "mode": mode, "train_tok_s": tokens / t_train, "eval_tok_s": tokens / t_eval}
    if args.peak_tflops > 0:
        peak = args.peak_tflops * 1e12
        out["train_mfu"] = flops_per_token(model, args.seq, True) * out["train_tok_s"] / peak
        out["eval_mfu"] = flops_per_token(model, args.seq, False) * out["eval_tok_s"] / peak
    del model, opt, forward
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="135m,1.5b", help=f"comma list of {', '.join(SHAPES)}")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seq", type=int, default=512)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--dtype", default=None, help="default bfloat16 on GPU, float32 on CPU")
    parser.add_argument("--peak-tflops", type=float, default=989.0)
    parser.add_argument("--no-compile", dest="compile", action="store_false")
    args = parser.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    args.dtype = args.dtype or ("bfloat16" if device.type == "cuda" else "float32")
    print(f"device {device} ({torch.cuda.get_device_name() if device.type == 'cuda' else 'cpu'}), "
          f"{args.dtype}, batch {args.batch} x {args.seq}, {args.steps} timed steps, "
          f"compile={args.compile}")
    for size in args.sizes.split(","):
        rows = {mode: run(size, mode, args, device) for mode in ("plain", "obliviate")}
        for mode, r in rows.items():
            mfu = (f"  MFU train {r['train_mfu']:.3f} eval {r['eval_mfu']:.3f}"
                   if "train_mfu" in r else "")
            print(f"{size:5s} {mode:9s} train {r['train_tok_s']:10.0f} tok/s  eval "
                  f"{r['eval_tok_s']:10.0f} tok/s{mfu}")
        print(f"{size:5s} speed-up obliviate/plain: train "
              f"{rows['obliviate']['train_tok_s'] / rows['plain']['train_tok_s']:.2f}x, eval "
              f"{rows['obliviate']['eval_tok_s'] / rows['plain']['eval_tok_s']:.2f}x")


if __name__ == "__main__":
    main()
