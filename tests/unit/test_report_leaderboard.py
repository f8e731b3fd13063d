"""Choosing the trade-off axes and the leaderboard table."""
from __future__ import annotations

import pytest

from test_report_fixtures import make_run, retain_results

from obliviate.errors import ConfigError
from obliviate.reports.leaderboard import choose_axes, leaderboard_table
from obliviate.reports.loading import load_results_file, load_run


@pytest.fixture
def runs(tmp_path):
    retain = retain_results(tmp_path / "retain" / "results.json")
    return ([load_run(make_run(tmp_path / m, m, f, s, retain)) for m, f, s in
             (("npo", 0.7, 1), ("ga", 0.95, 2), ("graddiff", 0.4, 3))],
            load_results_file(retain))


def test_default_axes_prefer_forget_quality_and_model_utility(runs):
    assert choose_axes(runs[0]) == ("forget/forget_quality", "retain/model_utility")


def test_axes_fall_back_when_forget_quality_is_missing(runs):
    for run in runs[0]:
        run.after.pop("forget/forget_quality")
        run.after.pop("retain/model_utility")
    assert choose_axes(runs[0]) == ("forget/keyword_accuracy", "retain/answer_prob")


def test_asked_axes_by_key_or_metric_name(runs):
    assert choose_axes(runs[0], "forget/answer_prob", "model_utility") == (
        "forget/answer_prob", "retain/model_utility")
    with pytest.raises(ConfigError, match="no run has metric 'nope'"):
        choose_axes(runs[0], "nope")


def test_leaderboard_orders_by_forgetting_and_marks_best(runs):
    table = leaderboard_table(runs[0], "forget/forget_quality", "retain/model_utility", runs[1])
    names = [row[0].text for row in table.rows]
    assert names == ["ga", "npo", "graddiff", "original model", "retain model"]
    header = table.headers.index("retain/model_utility")
    best = [row[0].text for row in table.rows if row[header].tag == "best"]
    assert best == ["graddiff"]  # most utility kept; reference rows never marked
    assert table.rows[-1][table.headers.index("forget/forget_quality")].text == "1"
