"""The report's curves of the evaluation during training (``train.eval_every``): each metric
logged as ``eval/<key>`` in ``steps.jsonl``, with the original model at step 0 and the step
that ``train.select`` kept marked."""
from __future__ import annotations

from obliviate.reports.loading import RunData, number
from obliviate.reports.style import PALETTE, Figure, new_figure, render, series_style

PREFIX = "eval/"


def eval_keys(steps: list[dict]) -> list[str]:
    keys: list[str] = []
    for record in steps:
        keys += [k for k in record if k.startswith(PREFIX) and k not in keys]
    return keys


def eval_curves(run: RunData) -> Figure | None:
    """One line per metric evaluated during training (None when nothing was)."""
    keys = eval_keys(run.steps)
    if not keys:
        return None
    during = run.run_info.get("eval_during_training") or {}
    original = during.get("original") or {}
    fig, (ax,) = new_figure(7.2, 4.0)
    for i, key in enumerate(keys):
        name = key[len(PREFIX):]
        pts = [(r["step"], number(r.get(key))) for r in run.steps]
        pts = [(s, v) for s, v in pts if v is not None]
        if number(original.get(name)) is not None:
            pts.insert(0, (0, number(original[name])))
        if pts:
            ax.plot(*zip(*pts), label=name, markersize=4, **series_style(i))
    chosen = run.run_info.get("selected_step")
    if chosen is not None:
        ax.axvline(chosen, color=PALETTE[7], linestyle=":", label=f"kept (step {chosen})")
    ax.set(xlabel="optimizer step (0 = original model)", ylabel="metric value",
           title="Evaluation during training")
    ax.legend(fontsize=7)
    alt = (f"Line chart of {len(keys)} metric(s) evaluated during training over optimizer "
           f"steps, the original model at step 0"
           + (f"; the kept checkpoint is step {chosen}." if chosen is not None else "."))
    return render(fig, "eval_curves", "Evaluation during training", alt)
