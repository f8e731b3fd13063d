"""Plots of one run: training curves, truth-ratio distributions, MIA ROC curves, attacks."""
from __future__ import annotations

import io
from typing import Any

import numpy as np

from obliviate.reports.attacks import AttackRow
from obliviate.reports.loading import RunData, extra, number, numbers
from obliviate.reports.direction import metric_name
from obliviate.reports.style import PALETTE, Figure, new_figure, render, series_style

#: Step-log fields that are bookkeeping, not loss parts.
NOT_LOSSES = {"step", "lr", "tokens", "elapsed_s", "epoch"}


def loss_parts(steps: list[dict[str, Any]]) -> list[str]:
    """The numeric loss parts of a step log, ``loss`` first, in order of appearance."""
    names: list[str] = []
    for record in steps:
        for key, value in record.items():
            if (key not in NOT_LOSSES and not key.startswith("eval/") and key not in names
                    and number(value) is not None):
                names.append(key)
    return sorted(names, key=lambda k: (k != "loss", names.index(k)))


def training_curves(run: RunData) -> Figure | None:
    """Every loss part per optimizer step (left) and the learning rate (right)."""
    parts = loss_parts(run.steps)
    if not parts:
        return None
    fig, (ax, ax_lr) = new_figure(9.6, 3.6, ncols=2)
    marker_every = max(1, len(run.steps) // 12)
    for i, part in enumerate(parts):
        pts = [(r["step"], number(r.get(part))) for r in run.steps]
        xs, ys = zip(*[(s, v) for s, v in pts if v is not None])
        ax.plot(xs, ys, label=part, markevery=marker_every, markersize=4, **series_style(i))
    ax.set(xlabel="optimizer step", ylabel="loss (nats per token)", title="Loss parts per step")
    ax.legend(fontsize=8)
    lrs = [(r["step"], number(r.get("lr"))) for r in run.steps if number(r.get("lr")) is not None]
    if lrs:
        ax_lr.plot(*zip(*lrs), color=PALETTE[0])
        ax_lr.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
    ax_lr.set(xlabel="optimizer step", ylabel="learning rate", title="Learning rate schedule")
    first, last = run.steps[0], run.steps[-1]
    summary = ", ".join(f"{p} {_fmt(first.get(p))} -> {_fmt(last.get(p))}" for p in parts)
    alt = (f"Line chart of {len(parts)} loss part(s) over {len(run.steps)} optimizer steps "
           f"(first -> last step: {summary}), and the learning rate per step.")
    return render(fig, "training_curves", "Training curves", alt)


def _fmt(value: Any) -> str:
    v = number(value)
    return "n/a" if v is None else f"{v:.3g}"


def truth_ratio_plot(run: RunData, retain_metrics: dict[str, Any] | None) -> Figure | None:
    """Histograms of raw truth ratios (log scale) per data set: this run's model after
    unlearning, the original model, and the retain model when their ratios are known."""
    keys = [k for k in sorted(run.after) if metric_name(k) == "truth_ratio"
            and numbers(extra(run.after[k]).get("ratios"))]
    if not keys:
        return None
    fig, axes = new_figure(4.8 * len(keys), 3.6, ncols=len(keys))
    described = []
    for ax, key in zip(axes, keys):
        series = [("after unlearning", run.after.get(key)), ("original", run.before.get(key)),
                  ("retain model", (retain_metrics or {}).get(key))]
        series = [(n, np.log10(np.clip(numbers(extra(e).get("ratios")), 1e-12, None)))
                  for n, e in series if e and numbers(extra(e).get("ratios"))]
        low = min(float(s.min()) for _, s in series)
        high = max(float(s.max()) for _, s in series)
        bins = np.linspace(low, high if high > low else low + 1, 21)
        for i, (label, values) in enumerate(series):
            style = series_style(i)
            ax.hist(values, bins=bins, histtype="step", linewidth=2, color=style["color"],
                    linestyle=style["linestyle"], label=f"{label} (n={values.size})")
        ax.axvline(0, color="#555555", linewidth=0.8, linestyle=":")
        ax.set(xlabel="log10 truth ratio R (0 = paraphrase as likely as wrong answers)",
               ylabel="number of questions", title=key)
        ax.legend(fontsize=8)
        described.append(f"{key}: " + ", ".join(f"{n} median R={10 ** np.median(v):.3g}"
                                               for n, v in series))
    alt = "Histograms of per-question truth ratios on a log scale. " + "; ".join(described)
    return render(fig, "truth_ratios", "Truth-ratio distributions", alt)


def roc_points(members: list[float], non_members: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """False- and true-positive rates over every threshold (higher score = member)."""
    m, h = np.asarray(members, float), np.asarray(non_members, float)
    thresholds = np.unique(np.concatenate([m, h]))[::-1]
    tpr = np.array([0.0] + [float((m >= t).mean()) for t in thresholds])
    fpr = np.array([0.0] + [float((h >= t).mean()) for t in thresholds])
    return fpr, tpr


def mia_scores(entry: dict[str, Any] | None, key: str) -> tuple[list[float], list[float]] | None:
    """(members, non-members) of a metric entry, or None (see the package docstring)."""
    if not entry:
        return None
    ex = extra(entry)
    members, non_members = numbers(ex.get("scores_members")), numbers(ex.get("scores_nonmembers"))
    if not (members and non_members) and metric_name(key).startswith("mia_"):
        members, non_members = numbers(entry.get("per_sample")), numbers(ex.get("holdout_scores"))
    return (members, non_members) if members and non_members else None


def auc(fpr: np.ndarray, tpr: np.ndarray) -> float:
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def roc_plot(run: RunData, retain_metrics: dict[str, Any] | None) -> Figure | None:
    """ROC curves of every membership-inference metric with per-sample scores: the run's
    model, the original and the retain model; the diagonal is chance."""
    keys = [k for k in sorted(run.after) if mia_scores(run.after[k], k)]
    if not keys:
        return None
    cols = min(3, len(keys))
    rows = -(-len(keys) // cols)
    figs, described = [], []
    for r in range(rows):
        chunk = keys[r * cols:(r + 1) * cols]
        fig, axes = new_figure(4.0 * cols, 3.9, ncols=cols)
        for ax, key in zip(axes, chunk):
            described.append(_roc_axis(ax, key, run, retain_metrics))
        for ax in axes[len(chunk):]:
            ax.set_visible(False)
        figs.append(fig)
    alt = ("ROC curves of membership-inference attacks, forget set (members) against holdout "
           "(non-members); AUC 0.5 = chance. " + "; ".join(described))
    out = [render(f, f"mia_roc_{i}", "Membership-inference ROC curves", alt)
           for i, f in enumerate(figs)]
    return out[0] if len(out) == 1 else _stack(out)


def _roc_axis(ax, key: str, run: RunData, retain_metrics: dict[str, Any] | None) -> str:
    series = [("after unlearning", run.after.get(key)), ("original", run.before.get(key)),
              ("retain model", (retain_metrics or {}).get(key))]
    parts = []
    for i, (label, entry) in enumerate(series):
        scores = mia_scores(entry, key)
        if scores is None:
            continue
        fpr, tpr = roc_points(*scores)
        area = auc(fpr, tpr)
        style = series_style(i)
        ax.plot(fpr, tpr, drawstyle="steps-post", color=style["color"],
                linestyle=style["linestyle"], label=f"{label} (AUC {area:.2f})")
        parts.append(f"{label} AUC {area:.2f}")
    ax.plot([0, 1], [0, 1], color="#777777", linewidth=0.8, linestyle=":", label="chance")
    ax.set(xlim=(0, 1), ylim=(0, 1.01), xlabel="false-positive rate (holdout flagged)",
           ylabel="true-positive rate (forget flagged)", title=key, aspect="equal")
    ax.legend(fontsize=7, loc="lower right")
    return f"{key}: " + ", ".join(parts)


def _stack(figures: list[Figure]) -> Figure:
    """Several row figures as one PNG, stacked vertically."""
    import matplotlib.image as mpimg

    images = [mpimg.imread(io.BytesIO(f.png)) for f in figures]
    width = max(i.shape[1] for i in images)
    padded = [np.pad(i, ((0, 0), (0, width - i.shape[1]), (0, 0)), constant_values=1.0)
              for i in images]
    buffer = io.BytesIO()
    mpimg.imsave(buffer, np.concatenate(padded, axis=0), format="png")
    first = figures[0]
    return Figure("mia_roc", first.title, first.alt, buffer.getvalue())


def attacks_plot(rows: list[AttackRow]) -> Figure | None:
    """Recovery per attack and metric: 0 = nothing came back, 1 = back to the original."""
    rows = [r for r in rows if r.recovery is not None]
    if not rows:
        return None
    rows = rows[:30]
    fig, (ax,) = new_figure(7.5, 0.9 + 0.32 * len(rows))
    labels = [f"{r.attack} | {r.metric}" for r in rows]
    values = [r.recovery for r in rows]
    colors = [PALETTE[5] if v >= 0.5 else PALETTE[1] if v >= 0.1 else PALETTE[0] for v in values]
    y = np.arange(len(rows))[::-1]
    ax.barh(y, values, color=colors, edgecolor="#333333", linewidth=0.5)
    ax.set_yticks(y, labels, fontsize=8)
    ax.axvline(0, color="#333333", linewidth=0.8)
    ax.axvline(1, color="#333333", linewidth=0.8, linestyle="--")
    ax.set(xlabel="recovery (fraction of the forgotten gap regained; 1 = original level)",
           title="Attack recovery")
    alt = "Bar chart of recovery per attack and metric: " + "; ".join(
        f"{label} {value:.2f}" for label, value in zip(labels, values))
    return render(fig, "attack_recovery", "Attack recovery", alt)
