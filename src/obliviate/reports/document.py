"""The report as a format-neutral document: titled sections of paragraphs, key/value cards,
tables and figures. :mod:`.html` and :mod:`.markdown` render the same document."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

from obliviate.reports.attacks import attack_rows
from obliviate.reports.leaderboard import choose_axes, leaderboard_table, tradeoff_plot
from obliviate.reports.loading import RunData
from obliviate.reports.plots_eval import eval_curves
from obliviate.reports.plots_run import attacks_plot, roc_plot, training_curves, truth_ratio_plot
from obliviate.reports.style import Figure
from obliviate.reports.tables import Table, attacks_table, metrics_table, samples_table, summary_card


@dataclass
class Card:
    pairs: list[tuple[str, str]]


Block = Union[str, Card, Table, Figure]


@dataclass
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)
    anchor: str = ""
    in_nav: bool = True


@dataclass
class Document:
    title: str
    subtitle: str
    sections: list[Section]

    def figures(self) -> list[Figure]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, Figure)]


VERDICT_NOTE = ("Goal: the direction that is good for unlearning (knowledge metrics on forget "
                "sets should go down). Verdict compares after with before: \"within CI\" = the "
                "new value lies inside the original's 95% bootstrap interval; closeness metrics "
                "are judged by their distance to the target, or not at all when none is known.")


def run_sections(run: RunData, retain: dict[str, Any] | None, prefix: str = "") -> list[Section]:
    """The sections of one run's report (empty parts left out). ``retain`` is the retain
    model's whole results document."""
    retain = (retain or {}).get("metrics") or None
    sections = [Section("Summary", [Card(summary_card(run))], f"{prefix}summary")]
    metrics = [metrics_table(run, retain), VERDICT_NOTE]
    if not run.before:
        metrics.insert(0, "Only one model was evaluated: no before/after comparison.")
    sections.append(Section("Metrics", metrics, f"{prefix}metrics"))
    samples = samples_table(run)
    if samples.rows:
        sections.append(Section("Sample answers", [samples], f"{prefix}samples"))
    plots = [("Training curves", training_curves(run), "curves"),
             ("Evaluation during training", eval_curves(run), "eval-curves"),
             ("Truth-ratio distributions", truth_ratio_plot(run, retain), "truth-ratio"),
             ("Membership inference", roc_plot(run, retain), "mia")]
    for title, figure, anchor in plots:
        if figure is not None:
            sections.append(Section(title, [figure], f"{prefix}{anchor}"))
    if run.attacks is not None:
        rows = attack_rows(run.attacks)
        blocks: list[Block] = [attacks_table(rows)] if rows else [
            "attack_results.json holds no rows with original/unlearned/attacked scores."]
        figure = attacks_plot(rows)
        if figure is not None:
            blocks.append(figure)
        blocks.append("Recovery = (attacked - unlearned) / (original - unlearned): 0 = nothing "
                      "came back, 1 = back to the original model's level.")
        sections.append(Section("Attacks", blocks, f"{prefix}attacks"))
    return sections


def build_document(runs: list[RunData], retain: dict[str, Any] | None,
                   forget_metric: str | None = None,
                   utility_metric: str | None = None) -> Document:
    """One run: its report. Several: the leaderboard and trade-off plot, then each run."""
    if len(runs) == 1:
        run = runs[0]
        return Document(f"Unlearning report: {run.name}",
                        f"{run.method} on {run.model_id}", run_sections(run, retain))
    forget_key, utility_key = choose_axes(runs, forget_metric, utility_metric)
    compare = Section("Leaderboard", [
        f"Forget axis: {forget_key}; utility axis: {utility_key} (choose with "
        "--forget-metric / --utility-metric). Best forgetting first; bold = best value of "
        "its column for unlearning.",
        leaderboard_table(runs, forget_key, utility_key, retain)], "leaderboard")
    sections = [compare]
    figure = tradeoff_plot(runs, forget_key, utility_key, retain)
    if figure is not None:
        sections.append(Section("Forget-versus-utility trade-off", [figure], "tradeoff"))
    for i, run in enumerate(runs):
        for j, section in enumerate(run_sections(run, retain, prefix=f"run{i}-")):
            section.title = f"{run.name}: {section.title}"
            section.in_nav = j == 0
            sections.append(section)
    return Document(f"Unlearning leaderboard: {len(runs)} runs",
                    ", ".join(sorted({r.method for r in runs})), sections)
