"""Tables of flat rows (one dict per row: a leaderboard's models, a sweep's trials), written as
CSV and Markdown; the bench leaderboard, its across-seed table and the sweep front share them."""
from __future__ import annotations

import csv
import io
from typing import Any, Callable


def columns(rows: list[dict[str, Any]]) -> list[str]:
    """Every key of the rows, in order of first appearance."""
    cols: list[str] = []
    for row in rows:
        cols += [c for c in row if c not in cols]
    return cols


def to_csv(rows: list[dict[str, Any]]) -> str:
    """CSV with a header of :func:`columns`; ``None`` is written as an empty cell."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns(rows), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    return buf.getvalue()


def to_markdown(rows: list[dict[str, Any]], cols: list[str],
                cell: Callable[[dict[str, Any], str], str]) -> str:
    """A Markdown table of ``cols``; ``cell(row, col)`` renders one cell."""
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(cell(row, c) for c in cols) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def with_range(low: str, high: str,
               fmt: Callable[[Any], str]) -> Callable[[dict[str, Any], str], str]:
    """A cell renderer for :func:`to_markdown`: ``value [low, high]`` where the row has the
    column's ``<col><low>`` / ``<col><high>`` keys (a bootstrap interval, a range across
    seeds) and a value, else the value alone."""
    def cell(row: dict[str, Any], col: str) -> str:
        text = fmt(row.get(col))
        if f"{col}{low}" in row and row.get(col) is not None:
            text += f" [{fmt(row.get(f'{col}{low}'))}, {fmt(row.get(f'{col}{high}'))}]"
        return text
    return cell
