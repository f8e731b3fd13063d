"""Report plots: PNGs with alt text, ROC points worked out by hand, absent data -> no plot."""
from __future__ import annotations

import numpy as np
import pytest

from test_report_fixtures import make_run, retain_results

from obliviate.reports.attacks import attack_rows
from obliviate.reports.leaderboard import tradeoff_plot
from obliviate.reports.loading import load_run, load_results_file
from obliviate.reports.plots_run import (
    attacks_plot, auc, loss_parts, mia_scores, roc_plot, roc_points, training_curves,
    truth_ratio_plot,
)

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def run_and_retain(tmp_path):
    retain = retain_results(tmp_path / "retain" / "results.json")
    return load_run(make_run(tmp_path / "npo", retain_path=retain)), load_results_file(retain)


def test_roc_points_by_hand():
    # members 3, 1; non-members 2, 0 -> thresholds 3, 2, 1, 0
    fpr, tpr = roc_points([3.0, 1.0], [2.0, 0.0])
    assert fpr.tolist() == [0.0, 0.0, 0.5, 0.5, 1.0]
    assert tpr.tolist() == [0.0, 0.5, 0.5, 1.0, 1.0]
    assert auc(fpr, tpr) == pytest.approx(0.75)  # = Mann-Whitney: 3 of 4 pairs ordered


def test_mia_scores_keys():
    assert mia_scores({"extra": {"scores_members": [1, 2], "scores_nonmembers": [0]}},
                      "forget/custom") == ([1.0, 2.0], [0.0])
    assert mia_scores({"per_sample": [1, None], "extra": {"holdout_scores": [0.5]}},
                      "forget/mia_loss") == ([1.0], [0.5])
    assert mia_scores({"per_sample": [1], "extra": {}}, "forget/answer_prob") is None


def test_run_plots_are_pngs_with_alt_text(run_and_retain):
    run, retain = run_and_retain
    figures = [training_curves(run), truth_ratio_plot(run, retain["metrics"]),
               roc_plot(run, retain["metrics"]), attacks_plot(attack_rows(run.attacks))]
    for figure in figures:
        assert figure is not None and figure.png.startswith(PNG)
        assert len(figure.alt) > 40
    assert "retain model" in figures[1].alt and "retain model AUC" in figures[2].alt
    assert "forget_nll" in figures[0].alt


def test_missing_data_gives_no_plot(run_and_retain):
    run, _ = run_and_retain
    run.steps, run.attacks = [], None
    run.after = {k: v for k, v in run.after.items() if "truth_ratio" not in k and "mia" not in k}
    assert training_curves(run) is None
    assert truth_ratio_plot(run, None) is None and roc_plot(run, None) is None
    assert attacks_plot([]) is None


def test_loss_parts_order():
    steps = [{"step": 1, "lr": 1e-5, "forget_nll": 2.0, "loss": 1.0, "tokens": 3},
             {"step": 2, "lr": 1e-5, "retain_loss": 1.0, "loss": 0.5, "note": "x"}]
    assert loss_parts(steps) == ["loss", "forget_nll", "retain_loss"]


def test_many_mia_metrics_stack_into_one_png(run_and_retain):
    run, _ = run_and_retain
    for i in range(3):
        run.after[f"forget/mia_extra{i}"] = {"value": 0.6, "extra": {
            "scores_members": list(np.arange(5.0)), "scores_nonmembers": [0.5, 1.5]}}
    figure = roc_plot(run, None)
    assert figure is not None and figure.png.startswith(PNG)


def test_tradeoff_marks_original_and_retain(tmp_path):
    retain = retain_results(tmp_path / "retain" / "results.json")
    runs = [load_run(make_run(tmp_path / m, m, f, s, retain)) for m, f, s in
            (("npo", 0.7, 1), ("ga", 0.95, 2))]
    figure = tradeoff_plot(runs, "forget/forget_quality", "retain/model_utility",
                           load_results_file(retain))
    assert figure is not None
    assert "original model at" in figure.alt and "retain model at (1," in figure.alt
