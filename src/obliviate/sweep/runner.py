"""``run_sweep``: an Optuna multi-objective search over config keys, stored in SQLite so a
killed sweep continues where it stopped, with every trial's results, the Pareto front (CSV,
Markdown) and a Pareto plot written into the sweep folder after each trial.

Optuna (Akiba et al. 2019, "Optuna: A Next-generation Hyperparameter Optimization
Framework", KDD) draws the settings with its TPE sampler, which handles several objectives.
"""
from __future__ import annotations

import json
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from obliviate.config import RunConfig, build
from obliviate.errors import ConfigError, ObliviateError, TrainingError
from obliviate.sweep.front import Objective, pareto_front, to_csv, to_markdown
from obliviate.sweep.median import MedianOverSeeds
from obliviate.sweep.plot import pareto_plot
from obliviate.sweep.space import Dimension, apply, suggest
from obliviate.sweep.trials import TrialContext

STUDY = "obliviate-sweep"


@dataclass
class SweepOptions:
    space: list[Dimension]
    trials: int
    out_dir: Path
    objectives: list[Objective]
    seed: int = 0
    progress: bool = True


def _optuna():
    try:
        import optuna
    except ImportError:
        raise ConfigError("sweeps need Optuna: pip install 'obliviate[sweep]'") from None
    optuna.logging.set_verbosity(logging.WARNING)
    return optuna


def run_sweep(base: dict[str, Any], ctx: TrialContext | MedianOverSeeds, opts: SweepOptions,
              retain: dict[str, float] | None = None) -> list[dict[str, Any]]:
    """Run trials until ``opts.trials`` have finished (those already in the folder's
    ``study.db`` count); return every trial's row. ``base`` is the raw config every trial
    starts from; ``retain`` the retain model's metrics (marked on the plot)."""
    if opts.trials < 1:
        raise ConfigError(f"--trials must be at least 1, got {opts.trials}")
    check_space(base, opts.space)
    optuna = _optuna()
    opts.out_dir.mkdir(parents=True, exist_ok=True)
    study = _study(optuna, opts, base)
    remaining = max(0, opts.trials - _finished(optuna, study))
    original = ctx.original_metrics()

    def objective(trial) -> list[float]:
        values = suggest(trial, opts.space)
        outcome = ctx.run(build(RunConfig, apply(base, values), ""), opts.progress)
        for key in ("metrics", "steps", "selected_step", "wall_time_s"):
            trial.set_user_attr(key, outcome.get(key))
        return [outcome["metrics"][o.key] for o in opts.objectives]

    def write(study, _trial=None) -> None:
        write_outputs(trial_rows(optuna, study, opts), opts, original, retain)

    if remaining:
        study.optimize(objective, n_trials=remaining, catch=(TrainingError,), callbacks=[write],
                       show_progress_bar=opts.progress)
    rows = trial_rows(optuna, study, opts)
    write_outputs(rows, opts, original, retain)
    return rows


def check_space(base: dict[str, Any], space: list[Dimension]) -> None:
    """Build the config at one point of the space, so a wrong key fails before any training."""
    values = {d.key: d.choices[0] if d.kind == "choice" else
              (int(d.low) if d.kind in ("int", "logint") else d.low) for d in space}
    try:
        build(RunConfig, apply(base, values), "")
    except ObliviateError as err:
        raise ConfigError(f"the search space does not fit the config: {err}") from None


def _study(optuna, opts: SweepOptions, base: dict[str, Any]):
    signature = json.dumps({"objectives": [[o.key, o.direction] for o in opts.objectives],
                            "space": [d.describe() + " " + d.key for d in opts.space],
                            "base": base}, sort_keys=True, default=str)
    storage = optuna.storages.RDBStorage(f"sqlite:///{(opts.out_dir / 'study.db').resolve()}")
    try:  # a resumed sweep draws from a fresh stream, not the first trials' settings again
        before = len(optuna.load_study(study_name=STUDY, storage=storage).trials)
    except KeyError:
        before = 0
    with warnings.catch_warnings():  # multivariate TPE (lr and steps interact) is "experimental"
        warnings.simplefilter("ignore")
        sampler = optuna.samplers.TPESampler(seed=opts.seed + before, multivariate=True)
    study = optuna.create_study(study_name=STUDY, storage=storage, sampler=sampler,
                                directions=[o.direction for o in opts.objectives],
                                load_if_exists=True)
    stored = study.user_attrs.get("signature")
    if stored is None:
        study.set_user_attr("signature", signature)
    elif stored != signature:
        raise ConfigError(f"{opts.out_dir} holds a sweep with another config, space or "
                          "objectives; resume it with the same ones or choose another --out")
    _requeue_interrupted(optuna, study, storage)
    return study


def _requeue_interrupted(optuna, study, storage) -> None:
    """Trials left RUNNING by a killed sweep are marked failed (``interrupted``) and their
    settings queued again, so they run once more and count once."""
    state = optuna.trial.TrialState
    study_id = storage.get_study_id_from_name(STUDY)
    for trial in study.get_trials(deepcopy=False, states=(state.RUNNING,)):
        trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, trial.number)
        storage.set_trial_user_attr(trial_id, "interrupted", True)
        storage.set_trial_state_values(trial_id, state.FAIL)
        if trial.params:
            study.enqueue_trial(trial.params)


def _finished(optuna, study) -> int:
    state = optuna.trial.TrialState
    return sum(1 for t in study.get_trials(deepcopy=False)
               if t.state == state.COMPLETE or (t.state == state.FAIL
                                                and not t.user_attrs.get("interrupted")))


def trial_rows(optuna, study, opts: SweepOptions) -> list[dict[str, Any]]:
    """One row per finished trial: number, state, the searched values, every metric, cost."""
    state = optuna.trial.TrialState
    rows = []
    for t in study.get_trials(deepcopy=False):
        if t.state not in (state.COMPLETE, state.FAIL) or t.user_attrs.get("interrupted"):
            continue
        row: dict[str, Any] = {"trial": t.number, "state": t.state.name.lower()}
        row.update({d.key: t.params.get(d.key) for d in opts.space})
        row.update(t.user_attrs.get("metrics") or {})
        for key in ("steps", "selected_step", "wall_time_s"):
            row[key] = t.user_attrs.get(key)
        rows.append(row)
    return rows


def write_outputs(rows: list[dict[str, Any]], opts: SweepOptions, original: dict[str, float],
                  retain: dict[str, float] | None) -> None:
    """trials.csv, pareto.csv, pareto.md, pareto.png and report.md in the sweep folder."""
    out = opts.out_dir
    front = pareto_front([r for r in rows if r["state"] == "complete"], opts.objectives)
    on_front = {r["trial"] for r in front}
    for row in rows:
        row["on_front"] = row["trial"] in on_front
    (out / "trials.csv").write_text(to_csv(rows) if rows else "", encoding="utf-8")
    (out / "pareto.csv").write_text(to_csv(front) if front else "", encoding="utf-8")
    table = to_markdown(front) if front else "no finished trial yet\n"
    (out / "pareto.md").write_text(table, encoding="utf-8")
    marks = {"original": original, **({"retain": retain} if retain else {})}
    figure = pareto_plot(rows, front, opts.objectives, marks)
    if figure is not None:
        (out / "pareto.png").write_bytes(figure.png)
    (out / "report.md").write_text(_report(rows, front, opts, marks, figure), encoding="utf-8")


def _report(rows, front, opts: SweepOptions, marks, figure) -> str:
    keys = [o.key for o in opts.objectives]
    lines = ["# Sweep report", "",
             f"{len(rows)} finished trial(s) of {opts.trials}; objectives: "
             + ", ".join(f"{o.key} ({o.direction})" for o in opts.objectives) + ".",
             "Search space: " + "; ".join(f"`{d.key}`: {d.describe()}" for d in opts.space) + ".",
             ""]
    for name, values in marks.items():
        if values:
            shown = ", ".join(f"{k} {values[k]:.4g}" for k in keys if values.get(k) is not None)
            lines.append(f"- {name} model: {shown}")
    lines += ["", "## Pareto front", "", to_markdown(front) if front else "no finished trial yet",
              ""]
    if figure is not None:
        lines += [f"![{figure.alt}](pareto.png)", ""]
    lines += ["Every trial: `trials.csv`; the front: `pareto.csv`, `pareto.md`; the study "
              "(resumable): `study.db`.", ""]
    return "\n".join(lines)
