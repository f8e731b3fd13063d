"""bench --seeds: median and range per number, seeds meeting the criterion; bench --sweep's
choice of trial."""
from __future__ import annotations

import pytest

from obliviate.bench.seeds import aggregate, to_markdown
from obliviate.bench.tuning import pick
from obliviate.errors import ConfigError


def _row(method, fq, ratio, kind="unlearned"):
    return {"benchmark": "synthetic", "split": "forget10", "method": method, "kind": kind,
            "forget_quality": fq, "forget_quality_ci_low": 0.0, "forget_quality_ci_high": 1.0,
            "utility_vs_original": ratio, "steps": 10}


def test_median_range_and_criterion_count():
    per_seed = [(0, [_row("npo", 0.30, 0.95), _row("original", 1e-8, 1.0, "original")]),
                (1, [_row("npo", 0.10, 0.97), _row("original", 2e-8, 1.0, "original")]),
                (2, [_row("npo", 0.25, 0.85), _row("original", 3e-8, 1.0, "original")])]
    rows = aggregate(per_seed, "forget_quality >= 0.2 and utility_vs_original >= 0.9")
    npo = next(r for r in rows if r["method"] == "npo")
    assert npo["seeds"] == "0,1,2" and npo["met_criterion"] == "1/3"  # seed 2: ratio 0.85
    assert (npo["forget_quality"], npo["forget_quality_min"], npo["forget_quality_max"]) == \
        (0.25, 0.10, 0.30)
    assert npo["utility_vs_original"] == 0.95
    assert "forget_quality_ci_low" not in npo and "steps" not in npo
    md = to_markdown(rows, "x")
    assert "| npo | unlearned | 0,1,2 | 1/3 | 0.250 [0.100, 0.300] |" in md


def test_criterion_on_a_missing_column_is_a_config_error():
    with pytest.raises(ConfigError, match="--criterion reads privleak"):
        aggregate([(0, [_row("npo", 0.3, 0.9)])], "privleak > 0")


def test_sweep_pick_best_forget_quality_under_the_utility_constraint():
    rows = [{"trial": 0, "state": "complete", "train.lr": 1e-4, "method_args.beta": 0.1,
             "forget_quality": 0.5, "model_utility": 0.80},   # 0.80 < 0.9 * 0.9
            {"trial": 1, "state": "complete", "train.lr": 2e-4, "method_args.beta": 0.2,
             "forget_quality": 0.2, "model_utility": 0.85},
            {"trial": 2, "state": "complete", "train.lr": 3e-4, "method_args.beta": 0.3,
             "forget_quality": 0.1, "model_utility": 0.88},
            {"trial": 3, "state": "fail", "train.lr": 4e-4, "method_args.beta": 0.4}]
    chosen = pick(rows, {"forget_quality": 1e-8, "model_utility": 0.9})
    assert chosen["trial"] == 1 and chosen["met_constraint"]
    assert chosen["train"] == {"lr": 2e-4} and chosen["method_args"] == {"beta": 0.2}
    # none meets it: the best utility is kept, and said so
    chosen = pick(rows, {"forget_quality": 1e-8, "model_utility": 1.0})
    assert chosen["trial"] == 2 and not chosen["met_constraint"]


def test_median_over_seeds_keeps_keys_every_seed_has():
    """The --sweep-on all-seeds objective: per metric, the median across seeds (3 seeds: the
    middle value; 2 seeds: the mean of the two); a key one seed lacks is left out."""
    from obliviate.sweep.median import median_metrics

    three = {0: {"forget_quality": 0.30, "model_utility": 0.90, "x": 1.0},
             1: {"forget_quality": 0.01, "model_utility": 0.95},
             2: {"forget_quality": 0.20, "model_utility": 0.80}}
    assert median_metrics(three) == {"forget_quality": 0.20, "model_utility": 0.90}
    two = {3: {"forget_quality": 0.1}, 7: {"forget_quality": 0.4}}
    assert median_metrics(two)["forget_quality"] == pytest.approx(0.25)


def test_bench_options_check_seeds_and_sweep_on():
    from obliviate.bench.runner import BenchOptions

    assert BenchOptions("synthetic", ["npo"]).seeds == [0, 1, 2]
    with pytest.raises(ConfigError, match="different seeds"):
        BenchOptions("synthetic", ["npo"], seeds=[0, 0])
    with pytest.raises(ConfigError, match="first-seed or all-seeds"):
        BenchOptions("synthetic", ["npo"], sweep_on="median")
