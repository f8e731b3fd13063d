"""``obliviate bench ... --seeds 0,1,2``: the whole benchmark once per seed (tiny model init,
target / retain fine-tuning and every unlearning run seeded; the data stay those of
``--seed``), then one table with the median and the range [min, max] of every number across
seeds and how many seeds met the criterion (``--criterion``, an expression over the
leaderboard's columns, e.g. ``forget_quality > 0.05 and utility_vs_original >= 0.9``).

With ``--sweep`` the methods are tuned on the first seed only (``--sweep-on first-seed``) or on
the median over every seed (``--sweep-on all-seeds``, ``bench/seed_tuning.py``); every seed
then runs the tuned settings, so the table says whether the tuned setting holds across seeds.
"""
from __future__ import annotations

import json
import math
import statistics
from dataclasses import replace
from pathlib import Path
from typing import Any

from obliviate.bench.leaderboard import ID_COLUMNS, _num
from obliviate.row_tables import columns, to_csv, with_range
from obliviate.row_tables import to_markdown as rows_markdown
from obliviate.bench.runner import BenchOptions, new_run_dir, run_bench, with_run_seed
from obliviate.training.select_expr import parse_constraint

#: Per-run bookkeeping columns that are not results.
_NOT_RESULTS = {"steps", "wall_time_s"}


def run_seeds(opts: BenchOptions) -> tuple[list[dict[str, Any]], Path]:
    """Run the bench per seed into ``seed-<s>/``; write the across-seed leaderboard at the top."""
    root = new_run_dir(opts)
    if opts.sweep and opts.sweep_on == "all-seeds":  # tune on the median over every seed
        from obliviate.bench.seed_tuning import tune_across_seeds
        opts = replace(opts, sweep=0, tuned=tune_across_seeds(opts, root))
    per_seed: list[tuple[int, list[dict[str, Any]]]] = []
    for seed in opts.seeds or []:
        rows, out = run_bench(with_run_seed(opts, seed), root / f"seed-{seed}")
        per_seed.append((seed, rows))
        tuned = out / "tuned.json"
        if opts.sweep and tuned.is_file():  # tune once, on the first seed
            opts = replace(opts, sweep=0, tuned=json.loads(tuned.read_text(encoding="utf-8")))
    rows = aggregate(per_seed, opts.criterion)
    (root / "leaderboard.csv").write_text(to_csv(rows), encoding="utf-8")
    (root / "leaderboard.md").write_text(to_markdown(rows, opts.criterion), encoding="utf-8")
    return rows, root


def aggregate(per_seed: list[tuple[int, list[dict[str, Any]]]],
              criterion: str) -> list[dict[str, Any]]:
    """One row per (benchmark, split, method, kind): seeds, how many met ``criterion``, and
    per number its median with ``_min`` / ``_max`` across seeds."""
    check = parse_constraint(criterion)
    groups: dict[tuple, list[tuple[int, dict[str, Any]]]] = {}
    for seed, rows in per_seed:
        for row in rows:
            groups.setdefault(tuple(row[c] for c in ID_COLUMNS), []).append((seed, row))
    out = []
    for ident, members in groups.items():
        row: dict[str, Any] = dict(zip(ID_COLUMNS, ident))
        row["seeds"] = ",".join(str(s) for s, _ in members)
        met = sum(_meets(check, r) for _, r in members)
        row["met_criterion"] = f"{met}/{len(members)}"
        for col in _numeric_columns([r for _, r in members]):
            values = [float(r[col]) for _, r in members if _finite(r.get(col))]
            row[col] = statistics.median(values) if values else None
            row[f"{col}_min"] = min(values) if values else None
            row[f"{col}_max"] = max(values) if values else None
        out.append(row)
    return out


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _numeric_columns(rows: list[dict[str, Any]]) -> list[str]:
    return [c for c in columns(rows) if c not in ID_COLUMNS and c not in _NOT_RESULTS
            and not c.endswith(("_ci_low", "_ci_high"))
            and any(_finite(r.get(c)) for r in rows)]


def _meets(check, row: dict[str, Any]) -> bool:
    values = {k: (float(v) if _finite(v) else math.nan) for k, v in row.items()
              if k not in ID_COLUMNS}
    names = check.names - set(values)
    if names:
        from obliviate.errors import ConfigError
        raise ConfigError(f"--criterion reads {', '.join(sorted(names))}, which the "
                          f"leaderboard does not have; its columns: {', '.join(sorted(values))}")
    return check.holds(values)


def to_markdown(rows: list[dict[str, Any]], criterion: str) -> str:
    """Markdown: each number as ``median [min, max]`` across seeds."""
    cols = [c for c in columns(rows) if not c.endswith(("_min", "_max"))]
    return (f"Median [min, max] across seeds; met_criterion: seeds meeting `{criterion}`.\n\n"
            + rows_markdown(rows, cols, with_range("_min", "_max", _num)))
