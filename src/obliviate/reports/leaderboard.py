"""Comparing runs: the axes of the forget-versus-utility trade-off, the leaderboard table and
the trade-off plot (one point per run, the original and the retain model marked)."""
from __future__ import annotations

import math
from typing import Any

from obliviate.errors import ConfigError
from obliviate.reports.direction import GOAL_HINT, compare, goal, metric_name, unit
from obliviate.reports.direction import better_of, forget_like
from obliviate.reports.loading import RunData, metric_value
from obliviate.reports.style import PALETTE, Figure, axis_label, new_figure, render, series_style
from obliviate.reports.tables import Cell, Table, fmt

#: Preferred forget and utility metrics, in order; a name without "/" matches any data set.
FORGET_PREFERENCE = ["forget_quality", "forget/keyword_accuracy", "forget/answer_prob",
                     "forget/rouge_l_recall", "forget/truth_ratio"]
UTILITY_PREFERENCE = ["model_utility", "retain/keyword_accuracy", "retain/answer_prob",
                      "retain/rouge_l_recall", "retain/truth_ratio"]


def _matches(pattern: str, key: str) -> bool:
    return key == pattern or ("/" not in pattern and metric_name(key) == pattern)


def _pick(pattern: str, keys: list[str]) -> str | None:
    return next((k for k in keys if _matches(pattern, k)), None)


def choose_axes(runs: list[RunData], forget: str | None = None,
                utility: str | None = None) -> tuple[str, str]:
    """The forget and utility metric keys: the ones asked for (a full key, or a metric name
    matching any data set), else the first preferred key every run has, else the first
    forget-like / other key every run has."""
    common = sorted(set.intersection(*(set(r.after) for r in runs))) if runs else []
    every = sorted(set().union(*(set(r.after) for r in runs))) if runs else []
    chosen = []
    for asked, preference, want_forget in ((forget, FORGET_PREFERENCE, True),
                                           (utility, UTILITY_PREFERENCE, False)):
        if asked:
            key = _pick(asked, every)
            if key is None:
                raise ConfigError(f"no run has metric {asked!r}; available: "
                                  f"{', '.join(every) or 'none'}.")
        else:
            key = next((k for k in (_pick(p, common) for p in preference) if k), None)
            key = key or next((k for k in common if forget_like(k.split("/")[0]) == want_forget
                               and k not in chosen), None)
        if key is None:
            raise ConfigError(f"cannot choose the {'forget' if want_forget else 'utility'} "
                              f"axis: the runs share no suitable metric; pass "
                              f"--{'forget' if want_forget else 'utility'}-metric.")
        chosen.append(key)
    return chosen[0], chosen[1]


def retain_value(metrics: dict[str, Any], key: str) -> float | None:
    """The retain model's value of ``key``; its forget quality is 1 by definition (its truth
    ratios are the reference distribution itself)."""
    value = metric_value(metrics, key)
    if value is None and metric_name(key) == "forget_quality":
        return 1.0
    return value


def _original(runs: list[RunData]) -> RunData | None:
    return next((r for r in runs if r.before), None)


def leaderboard_table(runs: list[RunData], forget_key: str, utility_key: str,
                      retain: dict[str, Any] | None) -> Table:
    """One row per run (best forgetting first), the retain model and original last; the best
    value of each metric column is tagged ``best``."""
    reference = (retain or {}).get("metrics") or None
    others = sorted(set().union(*(set(r.after) for r in runs)) - {forget_key, utility_key})
    keys = [forget_key, utility_key] + others
    table = Table(["run", "method", "model"] + keys + ["train time (s)", "peak memory (MB)"],
                  numeric=set(range(3, 5 + len(keys))), layout="nowrap")
    ref = next((r.after[k] for r in runs for k in [forget_key] if k in r.after), {})
    forget_goal = goal(forget_key, ref, reference)
    order = sorted(runs, key=lambda r: _rank(metric_value(r.after, forget_key), forget_goal,
                                             compare(forget_key, None, ref, reference).target))
    rows: list[tuple[str, str, str, dict[str, Any], dict[str, Any] | None]] = [
        (r.name, r.method, r.model_id, r.after, r.run_info) for r in order]
    original = _original(runs)
    if original is not None:
        rows.append(("original model", "-", original.model_id, original.before, None))
    if retain:
        rows.append(("retain model", "-", str((retain.get("model") or {}).get("id", "-")),
                     retain.get("metrics") or {}, None))
    best = {}
    for k in keys:
        entry = next((r.after[k] for r in runs if k in r.after), {})
        change = compare(k, None, entry, reference)
        best[k] = better_of([metric_value(r.after, k) for r in runs], change.goal, change.target)
    for name, method, model, metrics, info in rows:
        cells = [Cell(name), Cell(method), Cell(model)]
        for k in keys:
            value = (metric_value if info is not None or name != "retain model"
                     else retain_value)(metrics, k)
            is_best = info is not None and value is not None and value == best[k]
            cells.append(Cell(fmt(value), "best" if is_best else ""))
        cells += [Cell(fmt(info.get(k)) if info is not None else "-")
                  for k in ("wall_time_s", "peak_memory_mb")]
        table.rows.append(cells)
    return table


def _rank(value: float | None, how: str, target: float | None) -> float:
    if value is None:
        return math.inf
    if how == "target" and target is not None:
        return abs(value - target)
    return -value if how == "higher" else value if how == "lower" else 0.0


def tradeoff_plot(runs: list[RunData], forget_key: str, utility_key: str,
                  retain: dict[str, Any] | None) -> Figure | None:
    """Utility against forgetting, one point per run; original (black square) and retain
    model (black star) marked; arrows say which way is better on each axis."""
    points = [(r.name, metric_value(r.after, forget_key), metric_value(r.after, utility_key))
              for r in runs]
    points = [(n, x, y) for n, x, y in points if x is not None and y is not None]
    if not points:
        return None
    fig, (ax,) = new_figure(7.2, 5.0)
    for i, (name, x, y) in enumerate(points):
        style = series_style(i)
        ax.scatter([x], [y], s=70, color=style["color"], marker=style["marker"],
                   edgecolor="#222222", linewidth=0.6, zorder=3, label=name)
    marks = []
    original = _original(runs)
    if original is not None:
        marks.append(("original model", original.before, "s"))
    if retain:
        marks.append(("retain model", retain.get("metrics") or {}, "*"))
    for label, metrics, marker in marks:
        read = retain_value if marker == "*" else metric_value
        x, y = read(metrics, forget_key), read(metrics, utility_key)
        if x is not None and y is not None:
            ax.scatter([x], [y], s=160 if marker == "*" else 90, marker=marker, zorder=4,
                       facecolor="white" if marker == "s" else PALETTE[-1],
                       edgecolor=PALETTE[-1], linewidth=1.6, label=label)
            points.append((label, x, y))
    for name, x, y in points:  # names beside the points, for grey print
        ax.annotate(name, (x, y), textcoords="offset points", xytext=(7, 5), fontsize=8,
                    color="#222222")
    xs = [x for _, x, _ in points]
    if metric_name(forget_key) == "forget_quality" and min(xs) > 0 and max(xs) / min(xs) > 100:
        ax.set_xscale("log")
    f_entry = next((r.after[forget_key] for r in runs if forget_key in r.after), {})
    u_entry = next((r.after[utility_key] for r in runs if utility_key in r.after), {})
    reference = (retain or {}).get("metrics") or None
    f_goal = goal(forget_key, f_entry, reference)
    u_goal = goal(utility_key, u_entry, reference)
    ax.set_xlabel(axis_label(forget_key, unit(forget_key), GOAL_HINT[f_goal]))
    ax.set_ylabel(axis_label(utility_key, unit(utility_key), GOAL_HINT[u_goal]))
    ax.set_title("Forgetting versus utility")
    ax.legend(fontsize=8, loc="best")
    alt = (f"Scatter plot of {utility_key} (vertical) against {forget_key} (horizontal), one "
           "point per model: " + "; ".join(f"{n} at ({x:.3g}, {y:.3g})" for n, x, y in points)
           + f". Forget axis: {GOAL_HINT[f_goal] or 'no preferred direction'}; utility axis: "
           f"{GOAL_HINT[u_goal] or 'no preferred direction'}.")
    return render(fig, "tradeoff", "Forget-versus-utility trade-off", alt)
