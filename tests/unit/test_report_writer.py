"""write_report and `obliviate report`: the HTML is self-contained, the Markdown links its
plots, tables hold every metric before and after, and user errors exit with status 2."""
from __future__ import annotations

import re
from pathlib import Path

from test_report_fixtures import make_metrics, make_run, retain_results

from obliviate.cli import main
from obliviate.evaluation.results import build_results, write_results
from obliviate.reports import write_report
from obliviate.reports.writer import report_paths


def test_single_run_report(tmp_path):
    retain = retain_results(tmp_path / "retain" / "results.json")
    run = make_run(tmp_path / "npo", retain_path=retain)
    html, md = write_report([run], None, retain_results=retain)
    assert (html, md) == (run / "report.html", run / "report.md")
    page = html.read_text()
    assert "http://" not in page.replace("http://www.w3.org", "") and "https://" not in page
    assert "<script" not in page and 'http-equiv="Content-Security-Policy"' in page
    images = re.findall(r'<img src="([^"]+)" alt="([^"]+)"', page)
    assert len(images) == 4 and all(src.startswith("data:image/png;base64,") for src, _ in images)
    for section in ("Summary", "Metrics", "Sample answers", "Training curves",
                    "Truth-ratio distributions", "Membership inference", "Attacks"):
        assert f">{section}</h2>" in page
    assert "before [95% CI]" in page and "0.4519 (retain model)" in page
    text = md.read_text()
    links = re.findall(r"!\[[^\]]+\]\(([^)]+)\)", text)
    assert len(links) == 4 and all((md.parent / link).is_file() for link in links)
    assert "| forget/answer_prob | probability, 0-1 | lower |" in text and "✓ better" in text
    assert "I cannot recall that." in text


def test_report_without_before_or_extras(tmp_path):
    path = write_results(tmp_path / "eval" / "results.json",
                         build_results(make_metrics(0.3), model_id="m"))
    html, md = write_report([path], tmp_path / "out" / "x.html")
    assert (html, md) == (tmp_path / "out" / "x.html", tmp_path / "out" / "x.md")
    text = md.read_text()
    assert "value [95% CI]" in text and "no before/after comparison" in text
    assert "Training curves" not in text and "Attacks" not in text


def test_leaderboard_report_and_default_location(tmp_path):
    dirs = [make_run(tmp_path / "runs" / m, m, f, s) for m, f, s in
            (("npo", 0.7, 1), ("ga", 0.95, 2))]
    html, md = write_report(dirs)
    assert html.parent == tmp_path / "runs"
    text = md.read_text()
    assert "## Leaderboard" in text and "## Forget-versus-utility trade-off" in text
    assert "Forget axis: forget/keyword_accuracy" in text  # no forget quality without retain
    assert report_paths([], tmp_path / "r.md") == (tmp_path / "r.html", tmp_path / "r.md")


def test_cli_report(tmp_path, capsys):
    retain = retain_results(tmp_path / "retain.json")
    dirs = [str(make_run(tmp_path / m, m, f, s, retain)) for m, f, s in
            (("npo", 0.7, 1), ("ga", 0.95, 2))]
    out = tmp_path / "board"
    code = main(["report", *dirs, "-o", str(out), "--retain-results", str(retain),
                 "--forget-metric", "forget/answer_prob", "--utility-metric", "retain/answer_prob"])
    assert code == 0 and "report written to" in capsys.readouterr().out
    assert "Forget axis: forget/answer_prob; utility axis: retain/answer_prob" in Path(
        out / "report.md").read_text()


def test_cli_errors_are_one_line(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err
    run = make_run(tmp_path / "a")
    assert main(["report", str(run), str(run), "--forget-metric", "bogus"]) == 2
    assert "no run has metric 'bogus'" in capsys.readouterr().err
