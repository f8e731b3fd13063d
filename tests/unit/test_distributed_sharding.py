"""How one run's batches are split over processes, worked out by hand."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch.utils.data import DataLoader

from obliviate.errors import ConfigError
from obliviate.evaluation.sharding import chunk_order, map_sharded, my_indices
from obliviate.training import cpu_deepspeed, cpu_fsdp
from obliviate.training.distributed import (check_requested_engine, loss_weight,
                                             per_process_batch, shard_loader, shard_slice)


def test_global_batch_splits_over_processes_and_accumulation():
    assert per_process_batch(32, processes=8, grad_accum=2) == 2
    assert per_process_batch(4, processes=1, grad_accum=1) == 4
    with pytest.raises(ConfigError, match=r"multiple of processes x train.grad_accum = 3 x 2 = 6"):
        per_process_batch(8, processes=3, grad_accum=2)


def test_slices_differ_by_at_most_one_and_are_weighted_by_their_share():
    # 5 examples over 2 processes: 3 and 2; weights 2*3/5 and 2*2/5 average to 1
    assert shard_slice([10, 11, 12, 13, 14], 0, 2) == ([10, 11, 12], 1.2)
    assert shard_slice([10, 11, 12, 13, 14], 1, 2) == ([13, 14], 0.8)
    # 1 example over 2 processes: the second runs a stand-in with weight 0
    assert shard_slice([7], 0, 2) == ([7], 2.0)
    assert shard_slice([7], 1, 2) == ([7], 0.0)


def test_sharded_loader_gives_each_process_its_slice_of_the_same_shuffled_batches():
    def loader(n: int) -> DataLoader:
        return DataLoader(list(range(n)), batch_size=4, shuffle=True,
                          generator=torch.Generator().manual_seed(3))
    full = [b.tolist() for b in loader(6)]
    parts = [shard_loader(loader(6), rank, 2) for rank in (0, 1)]
    seen = [[b.tolist() for b in p] for p in parts]
    assert [seen[0][i] + seen[1][i] for i in range(2)] == full
    assert len(parts[0]) == len(full) == 2
    assert loss_weight(parts[0]) == 1.0  # the last batch (2 of 6) split 1 / 1
    # 5 examples: the last batch holds one; process 1 repeats it with weight 0
    last = [[b.tolist() for b in shard_loader(loader(5), rank, 2)][-1] for rank in (0, 1)]
    assert last[0] == last[1] == [[b.tolist() for b in loader(5)][-1][0]]
    tail = shard_loader(loader(5), 1, 2)
    weights = [loss_weight(tail) for _ in tail]
    assert weights == [1.0, 0.0]


def test_chunks_follow_the_one_process_batching_and_are_dealt_round_robin():
    lengths = [3, 9, 5, 9, 1]  # longest first, ties kept in input order: 1, 3, 2, 0, 4
    assert chunk_order(5, 2, lambda i: lengths[i]) == [[1, 3], [2, 0], [4]]
    assert my_indices(5, 2, 0, 2, lambda i: lengths[i]) == [1, 3, 4]
    assert my_indices(5, 2, 1, 2, lambda i: lengths[i]) == [2, 0]
    assert chunk_order(3, 2, None) == [[0, 1], [2]]


def test_map_sharded_with_one_process_is_the_plain_pass():
    assert map_sharded(["a", "bb"], lambda xs: [len(x) for x in xs], 1) == [1, 2]


def test_local_only_runs_the_whole_pass_even_in_a_group(monkeypatch):
    from obliviate.distributed import World
    from obliviate.evaluation import sharding
    monkeypatch.setattr(sharding, "world", lambda: World(1, 2, "gloo"))
    seen = []
    with sharding.local_only():
        assert map_sharded(["a", "bb", "ccc"], lambda xs: seen.extend(xs) or [1] * len(xs), 1)
    assert seen == ["a", "bb", "ccc"]
    assert my_indices(3, 1, 1, 2) == [1]  # what rank 1 of 2 would have run outside


@pytest.mark.parametrize("name, kind", [("ddp", "MULTI_GPU"), ("fsdp", "FSDP"),
                                        ("deepspeed_zero2", "DEEPSPEED"),
                                        ("deepspeed_zero3", "DEEPSPEED")])
def test_shipped_accelerate_configs_load(name, kind):
    from accelerate.commands.config.config_args import load_config_from_file
    path = Path(__file__).resolve().parents[2] / "configs" / "accelerate" / f"{name}.yaml"
    config = load_config_from_file(str(path))
    assert str(config.distributed_type).endswith(kind)
    if name.startswith("deepspeed"):
        assert config.deepspeed_config["zero_stage"] == int(name[-1])
    if name == "deepspeed_zero3":  # saving gathers the full weights only with this flag
        assert config.deepspeed_config["zero3_save_16bit_model"] is True
    if name == "fsdp":
        assert config.fsdp_config["fsdp_state_dict_type"] == "FULL_STATE_DICT"


@pytest.mark.skipif(torch.cuda.is_available(), reason="the check is for machines without CUDA")
def test_deepspeed_on_one_cpu_process_is_refused_and_on_two_is_not(monkeypatch):
    """One process has nothing to partition over; with 2 or more the engine runs ZeRO itself
    (training/cpu_deepspeed.py), as it runs FSDP (training/cpu_fsdp.py)."""
    monkeypatch.setenv("ACCELERATE_USE_DEEPSPEED", "true")
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    with pytest.raises(ConfigError, match="asks for DeepSpeed on one CPU process"):
        check_requested_engine()
    monkeypatch.setenv("WORLD_SIZE", "2")
    check_requested_engine()
    monkeypatch.setenv("ACCELERATE_USE_DEEPSPEED", "false")
    monkeypatch.delenv("WORLD_SIZE")
    check_requested_engine()
    monkeypatch.setenv("ACCELERATE_USE_FSDP", "true")
    check_requested_engine()


@pytest.mark.skipif(torch.cuda.is_available(), reason="the check is for machines without CUDA")
def test_deepspeed_on_cpus_refuses_what_it_cannot_do_before_loading(monkeypatch):
    monkeypatch.setenv("ACCELERATE_USE_DEEPSPEED", "true")
    monkeypatch.setenv("WORLD_SIZE", "1")
    assert not cpu_deepspeed.requested()
    cpu_deepspeed.check_options(5, 5, 0.5, "sophia")  # DeepSpeed does not run: nothing refused
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert cpu_deepspeed.requested()
    monkeypatch.setattr(cpu_deepspeed, "installed", lambda: True)
    cpu_deepspeed.check_options(None, None, None, "adamw")
    for args, name in [((2, None, None, "adamw"), "train.save_every"),
                       ((None, 3, None, "adamw"), "train.eval_every"),
                       ((None, None, 0.5, "adamw"), "localize.saliency"),
                       ((None, None, None, "sophia"), "optimizer=sophia")]:
        with pytest.raises(ConfigError, match=f"{name} is not supported with DeepSpeed on CPUs"):
            cpu_deepspeed.check_options(*args)
    monkeypatch.setenv("ACCELERATE_DEEPSPEED_ZERO_STAGE", "1")
    with pytest.raises(ConfigError, match="ZeRO stage 1 is not supported on CPUs"):
        cpu_deepspeed.check_options(None, None, None, "adamw")
    monkeypatch.setattr(cpu_deepspeed, "installed", lambda: False)
    with pytest.raises(ConfigError, match="asks for DeepSpeed, which is not installed; on CPUs "
                                          "install it with `DS_ACCELERATOR=cpu DS_BUILD_OPS=0"):
        cpu_deepspeed.check_options(None, None, None, "adamw")


@pytest.mark.skipif(torch.cuda.is_available(), reason="the check is for machines without CUDA")
def test_fsdp_on_cpus_is_requested_by_a_multi_process_fsdp_launch_only(monkeypatch):
    monkeypatch.setenv("ACCELERATE_USE_FSDP", "true")
    monkeypatch.setenv("WORLD_SIZE", "1")
    assert not cpu_fsdp.requested(), "one process: nothing to shard over"
    cpu_fsdp.check_options(5, 5, 0.5)  # nothing refused when FSDP does not run
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert cpu_fsdp.requested()
    cpu_fsdp.check_options(None, None, None)
    for args, name in [((2, None, None), "train.save_every"),
                       ((None, 3, None), "train.eval_every"),
                       ((None, None, 0.5), "localize.saliency")]:
        with pytest.raises(ConfigError, match=f"{name} is not supported with FSDP on CPUs"):
            cpu_fsdp.check_options(*args)
    monkeypatch.setenv("ACCELERATE_USE_FSDP", "false")
    assert not cpu_fsdp.requested()


def test_lora_merge_with_sharded_weights_is_refused(monkeypatch):
    monkeypatch.setenv("ACCELERATE_USE_FSDP", "true")
    with pytest.raises(ConfigError, match="lora.merge=true is not supported with FSDP"):
        check_requested_engine(lora_merge=True)
