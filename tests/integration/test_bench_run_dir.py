"""The bench's run folder: a new one per bench (never shared by two benches started in the same
second), ``--run-dir`` to continue a stopped ``--sweep``, and cached evaluations keyed by the
evaluation code's version."""
from __future__ import annotations

import csv
import json

from obliviate.bench import runner
from obliviate.bench.finetune import cached_results
from obliviate.bench.runner import BenchOptions, new_run_dir
from obliviate.bench.tiny import write_tiny_model
from obliviate.cli import main
from obliviate.data.types import Example
from obliviate.evaluation import stored

TINY = ["--model", "tiny", "--n-people", "10", "--epochs", "0.05", "--max-length", "96",
        "--no-progress"]


def test_benches_started_in_the_same_second_get_their_own_folders(tmp_path, monkeypatch):
    monkeypatch.setattr(runner.time, "strftime", lambda fmt: "20261205-120000")
    opts = BenchOptions(benchmark="synthetic", methods=["npo"], workdir=tmp_path)
    folders = [new_run_dir(opts) for _ in range(3)]
    assert [f.name for f in folders] == ["synthetic-20261205-120000", "synthetic-20261205-120000-2",
                                         "synthetic-20261205-120000-3"]
    assert all(f.is_dir() for f in folders)


def test_run_dir_is_used_as_given_and_kept(tmp_path):
    given = tmp_path / "mine" / "run"
    opts = BenchOptions(benchmark="synthetic", methods=["npo"], workdir=tmp_path, run_dir=given)
    assert new_run_dir(opts) == given and given.is_dir()
    (given / "kept.txt").write_text("x")
    assert new_run_dir(opts) == given and (given / "kept.txt").is_file()


def _trials(run_dir):
    path = run_dir / "forget10" / "sweep-npo" / "trials.csv"
    return list(csv.DictReader(path.open()))


def test_run_dir_continues_a_stopped_sweep(tmp_path):
    """A bench stopped after one trial of a --sweep, restarted with --run-dir on its folder and
    more trials, keeps the finished trial (not run again) and runs only the new ones."""
    run_dir = tmp_path / "run"
    args = ["bench", "synthetic", "--methods", "npo", "--workdir", str(tmp_path / "w"),
            "--steps", "2", "--max-new-tokens", "4", "--seeds", "0", "--run-dir", str(run_dir),
            "--criterion", "forget_quality >= 0", *TINY]
    assert main([*args, "--sweep", "1"]) == 0
    [first] = _trials(run_dir)
    assert main([*args, "--sweep", "2"]) == 0
    trials = _trials(run_dir)
    assert [t["trial"] for t in trials] == ["0", "1"]
    assert trials[0] == {**first, "on_front": trials[0]["on_front"]}  # same values, same cost
    assert trials[1]["train.lr"] != first["train.lr"]  # a new draw, not trial 0 again
    assert not (tmp_path / "w" / "runs").exists()  # nothing written beside the given folder
    tuned = json.loads((run_dir / "tuned.json").read_text())["forget10/npo"]
    assert tuned["trial"] in (0, 1)


def test_cached_results_follow_the_evaluation_code(tmp_path, monkeypatch):
    """An evaluation cached in a model folder is reused while the evaluation code is the same,
    and computed again (under another name) once it changes (a metric fix)."""
    model_dir = tmp_path / "model"
    sets = {"forget": [Example(prompt="Q: who?", target="Ann")],
            "retain": [Example(prompt="Q: where?", target="Oslo")]}
    write_tiny_model(model_dir, ["Q: who? Ann", "Q: where? Oslo"] * 20, seed=0)
    kw = {"max_new_tokens": 2, "max_length": 32}
    cached_results(model_dir, "s", sets, "default", None, **kw)
    [entry] = model_dir.glob("results-s-*.json")
    entry.write_text(json.dumps({"metrics": {"marker": {"value": 1}}}))
    assert cached_results(model_dir, "s", sets, "default", None, **kw)["metrics"] == \
        {"marker": {"value": 1}}  # the same code: read from the cache
    monkeypatch.setattr(stored, "code_hash", lambda: "another version of the metrics")
    fresh = cached_results(model_dir, "s", sets, "default", None, **kw)
    assert "marker" not in fresh["metrics"]
    assert len(list(model_dir.glob("results-s-*.json"))) == 2
