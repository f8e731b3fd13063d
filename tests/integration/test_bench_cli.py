"""``obliviate finetune`` and ``obliviate bench`` end to end with a tiny model and a handful of
steps (correctness of the plumbing, not of the numbers)."""
from __future__ import annotations

import csv
import json

import pytest

from obliviate.cli import main

TINY = ["--model", "tiny", "--n-people", "10", "--epochs", "0.05", "--max-length", "96",
        "--no-progress"]


def test_finetune_writes_model_and_results(tmp_path):
    out = tmp_path / "retain"
    code = main(["finetune", "synthetic", "--data", "retain90", "--out", str(out),
                 "--workdir", str(tmp_path / "w"), *TINY])
    assert code == 0
    assert (out / "config.json").is_file() and (out / "model.safetensors").is_file()
    assert (out / "run.json").is_file()
    results = json.loads((out / "results.json").read_text())
    assert results["metrics"]["forget_quality"]["value"] == 1.0  # its own reference
    assert "model_utility" in results["metrics"]


def test_bench_synthetic_writes_leaderboard(tmp_path, capsys):
    code = main(["bench", "synthetic", "--methods", "graddiff", "--forget", "10",
                 "--workdir", str(tmp_path), "--steps", "1", "--max-new-tokens", "4",
                 "--seeds", "0", *TINY])
    assert code == 0
    [run_dir] = list((tmp_path / "runs").iterdir())
    assert not list(run_dir.glob("seed-*"))  # one seed: a plain bench, no per-seed folders
    assert json.loads((run_dir / "bench.json").read_text())["options"]["run_seed"] == 0
    md = (run_dir / "leaderboard.md").read_text()
    rows = list(csv.DictReader((run_dir / "leaderboard.csv").open()))
    assert [r["method"] for r in rows] == ["retain", "original", "graddiff"]
    for column in ("split", "forget_quality", "forget_quality_ci_low", "forget_quality_ci_high",
                   "model_utility", "model_utility_ci_low", "forget_truth_ratio", "forget_prob",
                   "forget_rouge", "privleak", "extraction_strength", "utility_vs_original"):
        assert column in rows[0], column
    assert float(rows[0]["forget_quality"]) == 1.0
    assert "| graddiff |" in md
    assert (run_dir / "forget10" / "graddiff" / "results.json").is_file()
    # a second run reuses the cached target and retain models
    cached = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert main(["bench", "synthetic", "--methods", "graddiff", "--workdir", str(tmp_path),
                 "--steps", "1", "--max-new-tokens", "4", "--seeds", "0", *TINY]) == 0
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == cached


def test_presets_ship_with_the_package():
    """The presets are package data (obliviate/bench/presets/*.yaml), found through
    importlib.resources, not through a configs/ folder next to the source tree."""
    import argparse

    from obliviate.bench.presets import PRESETS, load_preset, options_from, packaged_preset

    for name in PRESETS:
        assert packaged_preset(name) is not None, name
        assert load_preset(name)["benchmark"] in ("synthetic", "muse", "wmdp")
    args = argparse.Namespace(
        preset="privacy", benchmark=None, model=None, source=None, workdir=None, device=None,
        n_people=None, seed=None, forget_corpus=None, retain_corpus=None, mmlu_source=None,
        max_new_tokens=None, methods=None, forget=None, muse_scal=False, muse_sust=False,
        no_progress=True, lr=None, epochs=None, batch_size=None, max_length=None,
        unlearn_lr=None, steps=7, set=[])
    opts = options_from(args)
    assert opts.benchmark == "synthetic" and opts.model == "tiny"
    assert opts.unlearn.max_steps == 7  # flags override the preset


def test_bench_runs_three_seeds_by_default():
    """Without --seeds the leaderboard is the median over seeds 0, 1 and 2; --seeds 0 is one
    quick run (checked on the parsed settings, before anything trains)."""
    from obliviate.bench.presets import options_from
    from obliviate.cli import build_parser

    argv = ["bench", "synthetic", "--methods", "npo"]
    assert options_from(build_parser().parse_args(argv)).seeds == [0, 1, 2]
    assert options_from(build_parser().parse_args([*argv, "--seeds", "0"])).seeds == [0]
    assert options_from(build_parser().parse_args(argv)).sweep_on == "first-seed"


def test_bench_seeds_and_sweep(tmp_path, capsys):
    """--seeds 0,1 runs the whole bench per seed; --sweep 2 tunes on the first seed only and
    every seed runs the tuned setting; the top table gives median [min, max] and the count."""
    code = main(["bench", "synthetic", "--methods", "npo", "--workdir", str(tmp_path),
                 "--steps", "2", "--max-new-tokens", "4", "--seeds", "0,1", "--sweep", "2",
                 "--criterion", "forget_quality >= 0 and model_utility >= 0",
                 "--set", "npo.train.eval_every=1", *TINY])
    assert code == 0
    [root] = list((tmp_path / "runs").iterdir())
    rows = list(csv.DictReader((root / "leaderboard.csv").open()))
    assert [r["method"] for r in rows] == ["retain", "original", "npo"]
    npo = rows[2]
    assert npo["seeds"] == "0,1" and npo["met_criterion"] == "2/2"
    assert float(npo["forget_quality_min"]) <= float(npo["forget_quality"]) \
        <= float(npo["forget_quality_max"])
    tuned = json.loads((root / "seed-0" / "tuned.json").read_text())["forget10/npo"]
    assert set(tuned["train"]) == {"lr", "max_steps"} and "beta" in tuned["method_args"]
    assert not (root / "seed-1" / "tuned.json").exists()  # tuned once
    sweep = root / "seed-0" / "forget10" / "sweep-npo"
    assert len(list(csv.DictReader((sweep / "trials.csv").open()))) == 2
    for seed in ("seed-0", "seed-1"):
        run = json.loads((root / seed / "forget10" / "npo" / "run.json").read_text())
        assert run["steps"] == tuned["train"]["max_steps"]
    # the tuned trial, re-run for the leaderboard, reproduces the sweep's forget quality
    trial = next(r for r in csv.DictReader((sweep / "trials.csv").open())
                 if int(r["trial"]) == tuned["trial"])
    seed0 = list(csv.DictReader((root / "seed-0" / "leaderboard.csv").open()))[2]
    assert float(seed0["forget_quality"]) == pytest.approx(float(trial["forget_quality"]))
    assert "median [min, max]" in capsys.readouterr().out.lower()
    # evaluation during training uses the benchmark's sets and suite (forget quality)
    steps = (root / "seed-1" / "forget10" / "npo" / "steps.jsonl").read_text().splitlines()
    assert all("eval/forget_quality" in json.loads(line) for line in steps)


def test_bench_sweep_on_all_seeds(tmp_path):
    """--sweep-on all-seeds: each trial runs once per seed (each from its seed's target) and
    reports the median; the kept setting is written once, at the top, and every seed runs it."""
    import statistics

    code = main(["bench", "synthetic", "--methods", "npo", "--workdir", str(tmp_path),
                 "--steps", "2", "--max-new-tokens", "4", "--seeds", "0,1", "--sweep", "2",
                 "--sweep-on", "all-seeds", "--criterion", "forget_quality >= 0", *TINY])
    assert code == 0
    [root] = list((tmp_path / "runs").iterdir())
    trials = list(csv.DictReader((root / "forget10" / "sweep-npo" / "trials.csv").open()))
    assert len(trials) == 2
    for trial in trials:
        for key in ("forget_quality", "model_utility"):
            seeds = [float(trial[f"{key}_seed{s}"]) for s in (0, 1)]
            assert float(trial[key]) == pytest.approx(statistics.median(seeds))
    # the two seeds' targets differ, so the same setting scores differently on them
    assert any(t[f"{k}_seed0"] != t[f"{k}_seed1"] for t in trials
               for k in ("forget_quality", "model_utility")), trials
    tuned = json.loads((root / "tuned.json").read_text())["forget10/npo"]
    assert not list(root.glob("seed-*/tuned.json")) and not list(root.glob("seed-*/*/sweep-*"))
    for seed in ("seed-0", "seed-1"):
        run = json.loads((root / seed / "forget10" / "npo" / "run.json").read_text())
        assert run["steps"] == tuned["train"]["max_steps"]
