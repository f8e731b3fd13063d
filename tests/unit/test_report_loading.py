"""Loading runs for the report: results.json with and without 'before', the step log, attack
results in any nesting, and clear errors for bad inputs."""
from __future__ import annotations

import json

import pytest

from test_report_fixtures import make_metrics, make_run, retain_results

from obliviate.errors import DataError
from obliviate.evaluation.results import build_results, write_results
from obliviate.reports.attacks import attack_rows
from obliviate.reports.loading import load_run, read_steps, unique_names


def test_run_dir_with_before_after(tmp_path):
    run = load_run(make_run(tmp_path / "npo", "npo"))
    assert run.name == "npo" and run.method == "npo" and run.model_id == "tiny-llama"
    assert "forget/answer_prob" in run.after and set(run.before) == set(run.after)
    assert run.samples_after and run.samples_before
    assert len(run.steps) == 25 and run.run_info["wall_time_s"] == 12.5
    assert run.attacks is not None


def test_results_path_and_single_model(tmp_path):
    path = write_results(tmp_path / "only" / "results.json",
                         build_results(make_metrics(0.5), model_id="m", config={"method": "ga"}))
    run = load_run(path)
    assert run.before == {} and run.steps == [] and run.attacks is None
    assert run.method == "ga" and run.path == tmp_path / "only"


def test_bad_inputs_raise_data_errors(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_run(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="results.json"):
        load_run(tmp_path / "empty")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "results.json").write_text(
        '{"schema_version": "1", "metrics": {}, "before": 3}')
    with pytest.raises(DataError, match="before"):
        load_run(tmp_path / "bad")
    (tmp_path / "bad" / "results.json").write_text("{not json")
    with pytest.raises(DataError, match="cannot read"):
        load_run(tmp_path / "bad")


def test_step_log_skips_broken_lines(tmp_path):
    path = tmp_path / "steps.jsonl"
    path.write_text('{"step": 1, "loss": 2.0}\n\nnot json\n{"loss": 1}\n{"step": 2, "loss": 1.5')
    assert read_steps(path) == [{"step": 1, "loss": 2.0}]


def test_attack_rows_from_nested_documents():
    doc = {"settings": {"original": 1, "unlearned": 0, "attacked": 0},
           "attacks": {"relearn": {"metrics": {"forget/answer_prob": {
               "original": 0.8, "unlearned": 0.2, "attacked": 0.5, "recovery": 0.5}}},
               "quant": {"views": [{"variant": "int8", "metrics": {"forget/rouge": {
                   "original": 0.8, "unlearned": 0.2, "attacked": 0.2, "recovery": None,
                   "note": "undefined"}}}]}}}
    rows = attack_rows(doc)
    assert [(r.attack, r.metric, r.recovery) for r in rows] == [
        ("relearn", "forget/answer_prob", 0.5), ("quant / int8", "forget/rouge", None)]
    assert rows[1].note == "undefined"
    assert attack_rows([]) == [] and attack_rows({"x": 1}) == []


def test_attack_rows_from_the_attack_runner_schema():
    from test_report_fixtures import attack_document
    rows = attack_rows(attack_document(0.7))
    assert [(r.attack, r.metric) for r in rows] == [
        ("relearn (heldout)", "forget/answer_prob"), ("quantize (int4_sym)", "forget/answer_prob"),
        ("probes", "-")]
    assert rows[0].recovery == pytest.approx((0.6 - 0.255) / (0.85 - 0.255))
    assert rows[2].note == "skipped: needs hidden states" and rows[2].recovery is None


def test_unique_names(tmp_path):
    a = load_run(make_run(tmp_path / "a" / "out"))
    b = load_run(make_run(tmp_path / "b" / "out"))
    unique_names([a, b])
    assert (a.name, b.name) == ("out", "out (2)")


def test_retain_fixture_has_ratios_and_mia(tmp_path):
    doc = json.loads(retain_results(tmp_path / "r.json").read_text())
    assert doc["metrics"]["forget/truth_ratio"]["extra"]["ratios"]
    assert doc["metrics"]["forget/mia_min_k"]["extra"]["holdout_scores"]
