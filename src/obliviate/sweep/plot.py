"""The sweep's Pareto plot: every finished trial, the front joined by a line, and the original
and retain models marked (forgetting on x, utility on y; the first two objectives)."""
from __future__ import annotations

from typing import Any

from obliviate.reports.style import PALETTE, Figure, new_figure, render
from obliviate.sweep.front import Objective


def pareto_plot(rows: list[dict[str, Any]], front: list[dict[str, Any]],
                objectives: list[Objective], marks: dict[str, dict[str, float]]) -> Figure | None:
    """``marks``: named reference points (``original``, ``retain``) -> their metric values."""
    if len(objectives) < 2:
        return None
    x, y = objectives[0].key, objectives[1].key
    fig, (ax,) = new_figure(6.4, 4.4)
    done = [r for r in rows if isinstance(r.get(x), float) and isinstance(r.get(y), float)]
    ax.scatter([r[x] for r in done], [r[y] for r in done], color="#999999", s=22,
               label=f"trials ({len(done)})", zorder=2)
    pts = sorted((r[x], r[y], r["trial"]) for r in front)
    if pts:
        ax.plot([p[0] for p in pts], [p[1] for p in pts], color=PALETTE[0], marker="o",
                label=f"Pareto front ({len(pts)})", zorder=3)
        for px, py, n in pts:
            ax.annotate(f"#{n}", (px, py), textcoords="offset points", xytext=(4, 4), fontsize=7)
    styles = {"original": ("*", PALETTE[5]), "retain": ("D", PALETTE[7])}
    for name, values in marks.items():
        if values and values.get(x) is not None and values.get(y) is not None:
            marker, colour = styles.get(name, ("P", PALETTE[3]))
            ax.scatter([values[x]], [values[y]], marker=marker, color=colour, s=110,
                       label=f"{name} model", zorder=4, edgecolors="white")
    if x == "forget_quality":
        ax.set_xscale("log")
    ax.set(xlabel=f"{x} ({objectives[0].direction})", ylabel=f"{y} ({objectives[1].direction})",
           title="Sweep: forgetting against utility")
    ax.legend(fontsize=8)
    alt = (f"Scatter of {len(done)} trials, {x} against {y}, with the {len(pts)} Pareto-optimal "
           f"trials joined by a line and the {', '.join(marks)} model(s) marked.")
    return render(fig, "pareto", "Pareto front", alt)
