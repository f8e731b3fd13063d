"""The Pareto front of a sweep's trials, and the tables written from it (CSV and Markdown).

A trial *dominates* another when it is at least as good on every objective and better on one;
the front is the set of finished trials no other finished trial dominates.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from obliviate.errors import ConfigError
from obliviate.row_tables import columns, to_csv
from obliviate.row_tables import to_markdown as rows_markdown


@dataclass(frozen=True)
class Objective:
    key: str
    direction: str  # "maximize" or "minimize"

    def better(self, a: float, b: float) -> bool:
        return a > b if self.direction == "maximize" else a < b


def parse_objectives(text: str) -> list[Objective]:
    """``"forget_quality:max,model_utility:max"`` -> objectives (``:min`` to minimise)."""
    out = []
    for part in [p.strip() for p in text.split(",") if p.strip()]:
        key, _, way = part.rpartition(":") if ":" in part else (part, "", "max")
        if way not in ("max", "min") or not key:
            raise ConfigError(f"objective {part!r} must look like METRIC:max or METRIC:min, "
                              "e.g. forget_quality:max,model_utility:max")
        out.append(Objective(key, "maximize" if way == "max" else "minimize"))
    if len(out) < 1 or len({o.key for o in out}) != len(out):
        raise ConfigError(f"--objectives needs one or more different metrics, got {text!r}")
    return out


def dominates(a: list[float], b: list[float], objectives: list[Objective]) -> bool:
    """True when values ``a`` dominate values ``b``."""
    never_worse = all(not o.better(y, x) for o, x, y in zip(objectives, a, b))
    return never_worse and any(o.better(x, y) for o, x, y in zip(objectives, a, b))


def pareto_front(rows: list[dict[str, Any]], objectives: list[Objective]) -> list[dict[str, Any]]:
    """The rows (with finite values for every objective) that no other such row dominates,
    sorted by the first objective, best first."""
    def values(row):
        return [row.get(o.key) for o in objectives]

    done = [r for r in rows if all(isinstance(v, (int, float)) and math.isfinite(v)
                                   for v in values(r))]
    front = [r for r in done if not any(dominates(values(o), values(r), objectives)
                                        for o in done if o is not r)]
    first = objectives[0]
    return sorted(front, key=lambda r: r[first.key], reverse=first.direction == "maximize")


def _cell(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3g}" if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e4) \
            else f"{value:.4g}"
    return str(value)


def to_markdown(rows: list[dict[str, Any]]) -> str:
    return rows_markdown(rows, columns(rows), lambda row, col: _cell(row.get(col)))
