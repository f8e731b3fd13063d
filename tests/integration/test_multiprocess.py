"""Two CPU processes (``torchrun``, gloo) give what one process gives, and fail together.

Each scenario launches the real CLI under ``torch.distributed.run`` and compares with the same
config run in this process. The data are built so every example has the same number of tokens
(the tiny tokenizer is byte-level): then each process's slice of a micro-batch holds the same
number of target tokens, and the token-averaged loss parts (retain NLL, KL, RMU's activation
MSE) of two processes average to exactly the one-process value (docs/scaling.md says why).
"""
from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import obliviate
from obliviate.cli import main
from tests.conftest import write_jsonl

SRC = str(Path(obliviate.__file__).resolve().parents[1])
DDP_CONFIG = Path(__file__).resolve().parents[2] / "configs" / "accelerate" / "ddp.yaml"
WORDS = ["amber", "birch", "cedar", "delta", "ember", "flint", "grove", "haven"]


def _qa(prefix: str, words: list[str]) -> list[dict]:
    return [{"question": f"{prefix} {i}: which word?", "answer": f"The word is {w}."}
            for i, w in enumerate(words)]


@pytest.fixture
def even_data(tmp_path) -> dict[str, Path]:
    """Six (or five) forget and four retain QA pairs, all of the same length in bytes."""
    return {"forget": write_jsonl(tmp_path / "forget.jsonl", _qa("F", WORDS[:6])),
            "forget5": write_jsonl(tmp_path / "forget5.jsonl", _qa("F", WORDS[:5])),
            "retain": write_jsonl(tmp_path / "retain.jsonl", _qa("R", WORDS[4:]))}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _launch(args: list[str], cwd: Path, script: Path | None = None,
            accelerate: bool = False, config: Path = DDP_CONFIG) -> subprocess.CompletedProcess:
    """Two processes with ``torchrun``, or with ``accelerate launch`` and the shipped DDP
    config (on CPUs obliviate has accelerate form a gloo group)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")]),
           "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    target = [str(script)] if script else ["-m", "obliviate.cli"]
    port = str(_free_port())
    launcher = (["accelerate.commands.launch", "--config_file", str(config),
                 "--num_processes", "2", "--main_process_port", port] if accelerate else
                ["torch.distributed.run", "--standalone", "--nproc_per_node", "2"])
    cmd = [sys.executable, "-m", *launcher, *target, *args]
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=400)


def _train_args(model_dir: Path, data: dict, out: Path, method: str) -> list[str]:
    """NPO runs on 5 forget examples without retain data: its second batch holds one example,
    which process 0 takes with loss weight 2 while process 1 runs a stand-in with weight 0."""
    sets = ([f"data.forget={data['forget5']}"] if method == "npo" else
            [f"data.forget={data['forget']}", f"data.retain={data['retain']}"])
    extra = {"npo": ["eval=none"], "ga_kl": ["eval=before_after", "eval_max_new_tokens=4"],
             "rmu": ["eval=none", "method_args.layer=1", "method_args.alpha=10"]}
    return ["run", f"model={model_dir}", f"method={method}", *sets,
            "train.batch_size=4", "train.max_steps=3",
            "train.lr=1e-3", "train.warmup_steps=0", f"output_dir={out}", *extra[method]]


def _with_output(args: list[str], out: Path) -> list[str]:
    """``args`` writing into ``out`` (the one-process twin of a launched run)."""
    return [f"output_dir={out}" if a.startswith("output_dir=") else a for a in args]


def _one_then_two(args: list[str], tmp_path: Path, capsys, config: str,
                  spy: str | None = None) -> subprocess.CompletedProcess:
    """Run ``args`` in one process into ``tmp_path/one``, then launch them on 2 processes with
    the shipped accelerate ``config`` (through the ``spy`` script when given); the launch
    must succeed."""
    assert main(_with_output(args, tmp_path / "one")) == 0
    capsys.readouterr()
    script = None
    if spy is not None:
        script = tmp_path / "spy.py"
        script.write_text(spy)
    proc = _launch(args, tmp_path, script, accelerate=True, config=DDP_CONFIG.with_name(config))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def _steps(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "steps.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("method", ["npo", "ga_kl", "rmu"])
def test_two_processes_train_like_one(method, model_dir, even_data, tmp_path, capsys):
    one, two = tmp_path / "one", tmp_path / "two"
    assert main(_train_args(model_dir, even_data, one, method)) == 0
    capsys.readouterr()
    proc = _launch(_train_args(model_dir, even_data, two, method), tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    _assert_trained_like_one(proc, one, two, model_dir, method, "ddp")


def _assert_trained_like_one(proc: subprocess.CompletedProcess, one: Path, two: Path,
                             model_dir: Path, method: str, engine: str, accum: int = 1) -> None:
    """The 2-process run ``two`` wrote its folder once and matches the 1-process run ``one``:
    step log, final weights, and (GA-KL) the evaluations before and after. ``accum``: the
    runs' ``train.grad_accum`` (of a global batch of 4)."""
    tmp_path = two.parent
    assert proc.stdout.count("written to") == 1, "only the main process reports"
    assert {p.name for p in two.iterdir()} == {p.name for p in one.iterdir()}
    assert not [p for p in tmp_path.iterdir() if ".partial" in p.name or ".old" in p.name]
    s1, s2 = _steps(one), _steps(two)
    assert [s["step"] for s in s2] == [1, 2, 3]
    for a, b in zip(s1, s2):
        assert b["tokens"] == a["tokens"], "tokens are summed over both processes"
        for key in a:
            if key not in ("elapsed_s", "step", "tokens"):
                assert b[key] == pytest.approx(a[key], rel=1e-4, abs=1e-5), key
    w1, w2 = load_file(one / "model.safetensors"), load_file(two / "model.safetensors")
    changed = [k for k in w1 if not torch.equal(w1[k], load_file(
        model_dir / "model.safetensors")[k])]
    assert changed, "training changed nothing"
    assert w2.keys() == w1.keys(), "the saved model is the full state dict"
    for key in w1:
        torch.testing.assert_close(w2[key], w1[key], rtol=1e-4, atol=1e-5)
    run = json.loads((two / "run.json").read_text())
    assert run["distributed"] == {"processes": 2, "engine": engine, "backend": "gloo",
                                  "global_batch": 4, "per_process_batch": 2 // accum,
                                  "grad_accum": accum}
    single = json.loads((one / "run.json").read_text())["distributed"]
    assert single["processes"] == 1 and single["per_process_batch"] == 4 // accum
    if method == "ga_kl":  # evaluated before and after, by both processes together
        r1, r2 = (json.loads((o / "results.json").read_text()) for o in (one, two))
        assert r2["before"]["metrics"] == r1["before"]["metrics"], "same model, same numbers"
        assert r2["samples"] == r1["samples"] and r2["distributed"]["processes"] == 2
        for key, entry in r1["metrics"].items():  # weights equal to float tolerance, so these
            if not key.startswith("run/"):        # too (run/ holds wall times)
                for field in ("value", "per_sample"):
                    assert r2["metrics"][key][field] == pytest.approx(entry[field], rel=1e-5)


def test_two_processes_evaluate_like_one(model_dir, data_files, tmp_path, capsys):
    args = ["eval", str(model_dir), "--forget", str(data_files["forget"]), "--retain",
            str(data_files["retain"]), "--batch-size", "2", "--max-new-tokens", "6"]
    assert main([*args, "--out", str(tmp_path / "one")]) == 0
    capsys.readouterr()
    proc = _launch([*args, "--out", str(tmp_path / "two")], tmp_path, accelerate=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    one = json.loads((tmp_path / "one" / "results.json").read_text())
    two = json.loads((tmp_path / "two" / "results.json").read_text())
    assert two["metrics"] == one["metrics"]
    assert two["samples"] == one["samples"]
    assert two["distributed"] == {"processes": 2, "backend": "gloo"}
    assert one["distributed"]["processes"] == 1


def test_bad_data_on_one_process_stops_all_and_writes_nothing(model_dir, data_files, tmp_path):
    """Rank 1 reads a different (malformed) forget file, as a node with its own disk might."""
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "no answer here"\n')
    script = tmp_path / "per_rank.py"
    script.write_text(
        "import os, sys\nfrom obliviate.cli import main\n"
        f"forget = {str(bad)!r} if os.environ['RANK'] == '1' else {str(data_files['forget'])!r}\n"
        f"sys.exit(main(['run', 'model={model_dir}', 'method=npo', 'data.forget=' + forget, "
        f"'train.max_steps=1', 'train.batch_size=2', 'eval=none', "
        f"'output_dir={tmp_path / 'out'}']))\n")
    proc = _launch([], tmp_path, script)
    assert proc.returncode != 0
    # the two processes print the same line (their writes may interleave on one line)
    same = (f"obliviate: error: process 1 of 2 failed while checking the config and data: "
            f"{bad}:1: malformed JSON line")
    assert proc.stderr.count("obliviate: error:") == 2, proc.stderr[-3000:]
    assert proc.stderr.count(same) == 2, proc.stderr[-3000:]
    assert not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.iterdir() if ".partial" in p.name]


SPY = """\
import json, os, sys
from obliviate.training import cpu_fsdp
from obliviate.cli import main
shard, calls = cpu_fsdp.shard, []

def spy(model):  # what FSDP2 left on this process: its shard of every parameter
    out = shard(model)
    calls.append([sum(cpu_fsdp.local(p).numel() for p in out.parameters()),
                  sum(p.numel() for p in out.parameters())])
    return out

cpu_fsdp.shard = spy
code = main(sys.argv[1:])
with open(f"shards{os.environ['RANK']}.json", "w") as f:
    json.dump(calls, f)
sys.exit(code)
"""


@pytest.mark.skipif(torch.cuda.device_count() == 1, reason=(
    "accelerate's FSDP launch takes one GPU per process: needs 2 GPUs, or none (on CPUs "
    "obliviate shards the model itself with FSDP2 over gloo)"))
@pytest.mark.parametrize("method", ["npo", "ga_kl", "rmu"])
def test_fsdp_two_processes_train_like_one(method, model_dir, even_data, tmp_path, capsys):
    """configs/accelerate/fsdp.yaml with 2 processes: on CPUs accelerate (1.16) would run plain
    DDP, so the engine shards the trained model and the frozen reference (GA-KL, RMU) with FSDP2
    (training/cpu_fsdp.py); the full state dict is gathered for the save and the final
    evaluation reloads it. Same step log, weights and metrics as one process."""
    args = [*_train_args(model_dir, even_data, tmp_path / "two", method), "dtype=float32",
            'train.mixed_precision="no"']  # quoted: YAML reads a bare no as false
    proc = _one_then_two(args, tmp_path, capsys, "fsdp.yaml", SPY)
    _assert_trained_like_one(proc, tmp_path / "one", tmp_path / "two", model_dir, method,
                             "fsdp")
    if torch.cuda.is_available():
        return  # accelerate sharded the model; the spy saw nothing
    shards = [json.loads((tmp_path / f"shards{r}.json").read_text()) for r in (0, 1)]
    assert len(shards[0]) == (1 if method == "npo" else 2), "GA-KL, RMU: the reference too"
    for (local0, full), (local1, _) in zip(*shards):
        assert local0 < full and local1 < full and local0 + local1 == full


DS_SPY = """\
import json, os, sys
from obliviate.training import cpu_deepspeed
from obliviate.cli import main
initialize, shard_reference, calls = cpu_deepspeed.initialize, cpu_deepspeed.shard_reference, []

def held(module):  # [elements this process holds, elements of the model]
    params = list(module.parameters())
    return [sum(cpu_deepspeed.local(p).numel() for p in params),
            sum(getattr(p, "ds_numel", p.numel()) for p in params)]

def spy_init(model, optimizer, ds_config):
    engine, wrapped = initialize(model, optimizer, ds_config)
    calls.append(held(engine.module))
    return engine, wrapped

def spy_reference(reference, ds_config):
    out = shard_reference(reference, ds_config)
    if out is not None:
        calls.append(held(out.module if hasattr(out, "module") else out))
    return out

cpu_deepspeed.initialize, cpu_deepspeed.shard_reference = spy_init, spy_reference
code = main(sys.argv[1:])
with open(f"shards{os.environ['RANK']}.json", "w") as f:
    json.dump(calls, f)
sys.exit(code)
"""


@pytest.mark.skipif(importlib.util.find_spec("deepspeed") is None, reason=(
    "DeepSpeed is not installed; on CPUs: DS_ACCELERATOR=cpu DS_BUILD_OPS=0 pip install "
    "--no-deps --no-build-isolation deepspeed einops hjson msgpack ninja py-cpuinfo "
    "(.ci/run installs it)"))
@pytest.mark.skipif(torch.cuda.is_available(), reason=(
    "on GPUs accelerate runs DeepSpeed itself; this checks obliviate's own CPU path"))
@pytest.mark.parametrize("stage", [2, 3])
@pytest.mark.parametrize("method", ["npo", "ga_kl", "rmu"])
def test_deepspeed_two_processes_train_like_one(stage, method, model_dir, even_data, tmp_path,
                                                capsys):
    """configs/accelerate/deepspeed_zero{2,3}.yaml with 2 CPU processes: accelerate (1.16)
    would run plain DDP, so the engine wraps the model with deepspeed.initialize itself
    (training/cpu_deepspeed.py). Same step log, weights and metrics as one process; at ZeRO-3
    each process holds half of the trained and of the reference model (GA-KL, RMU) and the
    saved model is the full state dict, gathered by both and written once. RMU accumulates
    2 micro-batches per step (the launch's own accumulation setting, 1, must not win)."""
    accum = 2 if method == "rmu" else 1
    args = [*_train_args(model_dir, even_data, tmp_path / "two", method), "dtype=float32",
            'train.mixed_precision="no"', f"train.grad_accum={accum}"]
    proc = _one_then_two(args, tmp_path, capsys, f"deepspeed_zero{stage}.yaml", DS_SPY)
    _assert_trained_like_one(proc, tmp_path / "one", tmp_path / "two", model_dir, method,
                             f"deepspeed-zero{stage}", accum)
    shards = [json.loads((tmp_path / f"shards{r}.json").read_text()) for r in (0, 1)]
    assert len(shards[0]) == (1 if method == "npo" else 2), "GA-KL, RMU: the reference too"
    for (local0, full), (local1, _) in zip(*shards):
        if stage == 3:  # partitioned: each holds half (DeepSpeed pads to even partitions)
            assert local0 < full and local1 < full and local0 + local1 >= full
        else:  # ZeRO-2 partitions gradients and optimizer state only
            assert local0 == local1 == full


def _reference_worker(rank: int, port: int, folder: str) -> None:
    """One of two gloo processes: compute reference log-probs, note how many rows it ran."""
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE="2",
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), OMP_NUM_THREADS="1")
    from obliviate.models.tiny import build_tiny_model
    from obliviate.training.distributed import sharded_reference_logprobs
    model = build_tiny_model(64, seed=0, num_hidden_layers=2)
    rows = []
    model.register_forward_hook(lambda m, args, kwargs, out: rows.append(
        kwargs["input_ids"].shape[0]), with_kwargs=True)
    items = _reference_items()
    sharded_reference_logprobs(model, items, 0, batch_size=2)
    Path(folder, f"rank{rank}.json").write_text(json.dumps(
        {"rows": sum(rows), "ref_logp": [it["ref_logp"] for it in items]}))


def _reference_items() -> list[dict]:
    lengths = [5, 7, 4, 6, 8]  # 5 examples: batches of 2, 2 and 1
    return [{"input_ids": [(3 * i + j) % 60 + 1 for j in range(n)],
             "labels": [-100] * 2 + [(3 * i + j) % 60 + 1 for j in range(2, n)]}
            for i, n in enumerate(lengths)]


def test_reference_logprobs_are_computed_once_per_example_and_shared(tmp_path):
    import torch.multiprocessing as mp

    from obliviate.models.tiny import build_tiny_model
    from obliviate.training.references import attach_reference_logprobs
    mp.spawn(_reference_worker, args=(_free_port(), str(tmp_path)), nprocs=2, join=True)
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["rows"] for r in ranks] == [3, 2], "batch 0 and 2 on rank 0, batch 1 on rank 1"
    alone = _reference_items()
    attach_reference_logprobs(build_tiny_model(64, seed=0, num_hidden_layers=2), alone, 0, 2)
    expected = [it["ref_logp"] for it in alone]
    assert ranks[0]["ref_logp"] == ranks[1]["ref_logp"] == expected


@pytest.mark.skipif(torch.cuda.is_available(), reason=(
    "on GPUs accelerate shards the model itself; this checks obliviate's own CPU paths"))
@pytest.mark.parametrize("config", ["fsdp", "deepspeed_zero3"])
def test_lora_two_processes_train_like_one(config, model_dir, even_data, tmp_path, capsys):
    """LoRA under FSDP (FSDP2 over gloo) and under ZeRO-3 on 2 CPU processes: the saved adapter
    and the step log equal a one-process run's; the reference is the base model with the
    adapter disabled, never a copy. Dropout 0: with dropout the two runs draw different masks."""
    if config.startswith("deepspeed") and importlib.util.find_spec("deepspeed") is None:
        pytest.skip("DeepSpeed is not installed (bash scripts/setup_deepspeed_cpu.sh adds it)")
    args = [*_train_args(model_dir, even_data, tmp_path / "two", "ga_kl"), "dtype=float32",
            'train.mixed_precision="no"', "lora.enabled=true", "lora.dropout=0", "lora.r=4",
            "train.lr=1e-2"]
    proc = _one_then_two(args, tmp_path, capsys, f"{config}.yaml")
    one, two = tmp_path / "one", tmp_path / "two"
    assert proc.stdout.count("written to") == 1, "only the main process reports"
    assert {p.name for p in two.iterdir()} == {p.name for p in one.iterdir()}
    assert "adapter_model.safetensors" in {p.name for p in two.iterdir()}
    for a, b in zip(_steps(one), _steps(two), strict=True):
        assert b["loss"] == pytest.approx(a["loss"], rel=1e-4, abs=1e-5)
    w1 = load_file(one / "adapter_model.safetensors")
    w2 = load_file(two / "adapter_model.safetensors")
    assert w2.keys() == w1.keys() and any("lora_B" in k for k in w1)
    assert any(w1[k].abs().sum() > 0 for k in w1 if "lora_B" in k), "the adapter trained"
    for key in w1:
        torch.testing.assert_close(w2[key], w1[key], rtol=1e-4, atol=1e-6)
    engine = "fsdp" if config == "fsdp" else "deepspeed-zero3"
    assert json.loads((two / "run.json").read_text())["distributed"]["engine"] == engine
