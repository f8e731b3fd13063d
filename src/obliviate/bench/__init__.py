"""Benchmark workflow: fine-tune the target and retain models (cached), run methods, evaluate
with the benchmark's suite and write a leaderboard (``obliviate finetune`` / ``obliviate bench``)."""
from obliviate.bench.finetune import cached_finetune, cached_results, evaluate_model, finetune
from obliviate.bench.leaderboard import write_leaderboard
from obliviate.bench.runner import BenchOptions, run_bench

__all__ = ["BenchOptions", "cached_finetune", "cached_results", "evaluate_model", "finetune",
           "run_bench", "write_leaderboard"]
