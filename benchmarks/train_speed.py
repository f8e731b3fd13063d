"""Training step speed: obliviate's NPO + retain NLL step against the reference framework's way.

Both sides train the same model (the embedded SmolLM2-135M-Instruct by default) on the same
batches of real TOFU forget01 / retain99 pairs (batch 4 each), with the same optimizer (AdamW,
lr 1e-5) and the same NPO+RT objective (Zhang et al. 2024, arXiv:2404.05868: beta 0.1, retain
weight 1). They differ in how they compute it:

- baseline, written here the way open-unlearning's NPO trainer does it: a Hugging Face model,
  logits over the whole vocabulary at every position, a deep-copied reference model run on the
  forget batch at every step, the retain loss from the model's own ``labels=`` loss;
- obliviate: the ``npo`` method as the engine runs it: reference log-probs computed once before
  training (their cost is counted here, once per forget batch), logits and log-softmax only at
  the positions that carry a label (``obliviate.models.head``).

Speed is measured in one process, the two steps alternating on the same batch (the order swaps
every step), so that a busy machine slows both alike; tokens/s counts the non-padding tokens of
the forget and retain batches. Peak memory is measured in two fresh subprocesses (one per side,
same steps): the peak resident set size on CPU (CUDA allocator peak on a GPU), and the peak
above the process's size once the one model is loaded.

    python benchmarks/train_speed.py [--source /path/to/tofu] [--steps 4] [--threads 1]
"""
from __future__ import annotations

import argparse
import copy
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from obliviate.data.collate import collate
from obliviate.data.tokenize import tokenize_examples
from obliviate.data.types import Example
from obliviate.methods import build_method
from obliviate.methods.base import StepInputs
from obliviate.training.optim import build_optimizer
from obliviate.training.references import attach_reference_logprobs

BETA, LR, BATCH = 0.1, 1e-5, 4
DEFAULT_SOURCE = Path("../shared/data/tofu")  # beside the repository, as in the issue


def load_batches(source: Path, tokenizer: Any, steps: int) -> list[dict[str, list[dict]]]:
    """``steps + 1`` pairs of forget01 / retain99 rows (the first pair is the warm-up)."""
    read = lambda name: [json.loads(line) for line in (source / f"{name}.jsonl").open()]  # noqa: E731
    as_items = lambda rows: [{"input_ids": t.input_ids, "labels": t.labels} for t in  # noqa: E731
                             tokenize_examples([Example(r["question"], r["answer"]) for r in rows],
                                               tokenizer, 512, "qa")]
    forget, retain = as_items(read("forget01")), as_items(read("retain99"))
    g = torch.Generator().manual_seed(0)
    f_order = torch.randperm(len(forget), generator=g).tolist()
    r_order = torch.randperm(len(retain), generator=g).tolist()
    pick = lambda rows, order, i: [rows[order[(i * BATCH + j) % len(order)]]  # noqa: E731
                                   for j in range(BATCH)]
    return [{"forget": pick(forget, f_order, i), "retain": pick(retain, r_order, i)}
            for i in range(steps + 1)]


def batch_nll(model: Any, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Summed NLL per sequence from full logits, as open-unlearning's ``compute_batch_nll``."""
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    shifted = batch["labels"][:, 1:]
    loss = F.cross_entropy(logits[:, :-1].transpose(-1, -2), shifted, ignore_index=-100,
                           reduction="none")
    return loss.sum(dim=-1)


def baseline_step(model: Any, reference: Any, optimizer: Any, pair: dict, pad: int) -> float:
    forget, retain = collate(pair["forget"], pad), collate(pair["retain"], pad)
    nll = batch_nll(model, forget)
    with torch.no_grad():
        ref_nll = batch_nll(reference, forget)
    npo = -(2.0 / BETA) * F.logsigmoid(BETA * (ref_nll - nll)).mean()
    retain_loss = model(input_ids=retain["input_ids"], attention_mask=retain["attention_mask"],
                        labels=retain["labels"]).loss
    loss = npo + retain_loss
    loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return float(loss.detach())


def obliviate_step(model: Any, method: Any, optimizer: Any, pair: dict, pad: int) -> float:
    out = method.loss(model, StepInputs(forget=collate(pair["forget"], pad),
                                        retain=collate(pair["retain"], pad)))
    out.loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return float(out.loss.detach())


def n_tokens(pair: dict) -> int:
    return sum(len(item["input_ids"]) for rows in pair.values() for item in rows)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_mb(device: torch.device) -> float:
    from obliviate.training.memory import peak_memory_mb
    return peak_memory_mb(device)


class Side:
    """One side's model, optimizer and step function."""

    def __init__(self, name: str, model: Any, pad: int, own: bool = False) -> None:
        self.name, self.pad = name, pad
        self.model = (model if own else copy.deepcopy(model)).train()
        if name == "baseline":  # Hugging Face Trainer's default optimizer with torch >= 2.8
            self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=LR, fused=True)
            self.reference = copy.deepcopy(model).eval().requires_grad_(False)
        else:  # what the engine builds for optimizer "adamw"
            self.optimizer = build_optimizer("adamw", self.model.parameters(), LR, 0.01, {})
            self.method = build_method("npo", {"beta": BETA, "retain_weight": 1.0})

    def prepare(self, pair: dict) -> dict:
        """A copy of ``pair``; obliviate's gets ``ref_logp``, which the engine computes once
        before training with the original weights (its time is reported apart). Here it is
        computed with the weights of the moment: the same work, other values."""
        pair = copy.deepcopy(pair)
        if self.name == "obliviate":
            attach_reference_logprobs(self.model, pair["forget"], self.pad, BATCH)
        return pair

    def step(self, pair: dict) -> float:
        if self.name == "baseline":
            return baseline_step(self.model, self.reference, self.optimizer, pair, self.pad)
        return obliviate_step(self.model, self.method, self.optimizer, pair, self.pad)


def load(args: argparse.Namespace) -> tuple[Any, int, list]:
    from obliviate.evaluation.generation import pad_id
    from obliviate.models import load_model
    loaded = load_model(args.model)
    pad = pad_id(loaded.tokenizer)
    return loaded.model.float(), pad, load_batches(Path(args.source), loaded.tokenizer, args.steps)


def memory_run(args: argparse.Namespace) -> None:
    """Subprocess: one side alone; prints its memory as one JSON line."""
    model, pad, pairs = load(args)
    loaded_mb = rss_mb()
    side = Side(args.only, model, pad, own=True)
    for pair in pairs:
        side.step(side.prepare(pair))
    device = next(side.model.parameters()).device
    peak = peak_mb(device)
    print(json.dumps({"side": args.only, "peak_mb": peak, "loaded_mb": loaded_mb,
                      "above_loaded_mb": peak - loaded_mb}))


def speed_run(args: argparse.Namespace) -> dict[str, float]:
    model, pad, pairs = load(args)
    sides = [Side("baseline", model, pad), Side("obliviate", model, pad, own=True)]
    del model
    times = {s.name: 0.0 for s in sides} | {"reference": 0.0}
    for s in sides:
        s.step(s.prepare(pairs[0]))  # warm-up
    for i, pair in enumerate(pairs[1:]):
        for s in (sides if i % 2 == 0 else sides[::-1]):
            start = time.perf_counter()
            prepared = s.prepare(pair)
            ready = time.perf_counter()
            s.step(prepared)
            times[s.name] += time.perf_counter() - ready
            times["reference"] += ready - start if s.name == "obliviate" else 0.0
    tokens = sum(n_tokens(p) for p in pairs[1:])
    return {"tokens": tokens, "baseline_s": times["baseline"], "obliviate_s": times["obliviate"],
            "reference_s": times["reference"]}


def memory(args: argparse.Namespace, side: str) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--only", side, "--steps", str(args.steps), "--model",
           args.model, "--source", str(args.source), "--threads", str(args.threads)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--source", default=str(DEFAULT_SOURCE), help="folder with TOFU jsonl files")
    parser.add_argument("--steps", type=int, default=4, help="timed steps (plus one warm-up)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=10, help="epochs of the run the reference "
                        "pass is spread over (10: open-unlearning's TOFU recipe)")
    parser.add_argument("--only", choices=("baseline", "obliviate"), help=argparse.SUPPRESS)
    parser.add_argument("--no-memory", action="store_true", help="skip the memory subprocesses")
    args = parser.parse_args()
    torch.set_num_threads(max(1, args.threads))
    if args.only:
        return memory_run(args)
    sp = speed_run(args)
    tokens = sp["tokens"]
    ours = {"once": sp["obliviate_s"] + sp["reference_s"],
            "amortised": sp["obliviate_s"] + sp["reference_s"] / args.epochs}
    print(f"model {args.model}; TOFU forget01/retain99, batch {BATCH}+{BATCH}; "
          f"{args.steps} steps x {tokens // args.steps} tokens; {args.threads} thread(s)")
    print(f"baseline : {tokens / sp['baseline_s']:8.1f} tokens/s")
    print(f"obliviate: {tokens / ours['amortised']:8.1f} tokens/s (reference log-probs "
          f"{sp['reference_s']:.1f} s, once per batch per run of {args.epochs} epochs)")
    print(f"obliviate, reference pass counted in full (a 1-epoch run): "
          f"{tokens / ours['once']:8.1f} tokens/s")
    print(f"speed ratio obliviate/baseline: {sp['baseline_s'] / ours['amortised']:.2f}x "
          f"({args.epochs} epochs), {sp['baseline_s'] / ours['once']:.2f}x (1 epoch) "
          f"(target >= 1.3x)")
    if not args.no_memory:
        mem = {side: memory(args, side) for side in ("baseline", "obliviate")}
        for side, m in mem.items():
            print(f"{side:9s}: peak {m['peak_mb']:7.0f} MB, {m['above_loaded_mb']:7.0f} MB above "
                  f"the loaded model")
        print(f"peak memory ratio: {mem['obliviate']['peak_mb'] / mem['baseline']['peak_mb']:.2f}x; "
              f"above the loaded model: {mem['obliviate']['above_loaded_mb'] / mem['baseline']['above_loaded_mb']:.2f}x "
              f"(target <= 0.6x)")


if __name__ == "__main__":
    main()
